"""django-filter FilterSets of the forecasting app."""
