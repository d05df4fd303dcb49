"""django-filter FilterSets of the alarms app."""
