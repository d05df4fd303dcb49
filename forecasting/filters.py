"""django-filter FilterSets of the forecasting app."""

from django_filters import rest_framework as filters

from solarhub.api.params import IdFilter

from .choices import Horizon, WeatherSource
from .models import GenerationForecast


class ForecastFilter(filters.FilterSet):
    plant_id = IdFilter(field_name="plant_id")
    horizon = filters.ChoiceFilter(choices=Horizon.choices)
    source = filters.ChoiceFilter(choices=WeatherSource.choices)
    forecast_date = filters.DateFilter()
    forecast_date_from = filters.DateFilter(field_name="forecast_date", lookup_expr="gte")
    forecast_date_to = filters.DateFilter(field_name="forecast_date", lookup_expr="lte")

    class Meta:
        model = GenerationForecast
        fields = ["plant_id", "horizon", "source", "forecast_date"]
