"""django-filter FilterSets of the accounts app."""
