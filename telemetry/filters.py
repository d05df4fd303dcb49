"""django-filter FilterSets of the telemetry app."""
