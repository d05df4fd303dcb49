"""django-filter FilterSets of the storage app (snake_case names: ``?plantId`` arrives as
``plant_id``)."""

import django_filters

from solarhub.api.params import IdFilter, TimeFilter

from .choices import DispatchMode
from .models import DispatchEvent


class DispatchEventFilter(django_filters.FilterSet):
    plant_id = IdFilter(field_name="plant_id")
    mode = django_filters.ChoiceFilter(choices=DispatchMode.choices)
    is_get = django_filters.BooleanFilter()
    since = TimeFilter(field_name="time_start", lookup_expr="gte")
    until = TimeFilter(field_name="time_start", lookup_expr="lt")

    class Meta:
        model = DispatchEvent
        fields: list[str] = []
