"""django-filter FilterSets of the twins app (snake_case names: see solarhub.api.filters)."""

import django_filters

from solarhub.api.params import IdFilter

from .models import DigitalTwin


class DigitalTwinFilter(django_filters.FilterSet):
    plant_id = IdFilter(field_name="plant_id", help_text="Only this plant's twin.")

    class Meta:
        model = DigitalTwin
        fields: list[str] = []
