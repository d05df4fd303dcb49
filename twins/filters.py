"""django-filter FilterSets of the twins app."""
