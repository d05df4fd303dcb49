"""django-filter FilterSets of the reports app."""
