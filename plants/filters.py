"""django-filter FilterSets of the plants app."""
