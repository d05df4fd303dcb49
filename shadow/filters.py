"""django-filter FilterSets of the shadow app (the SPA's ``?plantId`` arrives as ``plant_id``)."""

import django_filters

from solarhub.api.params import IdFilter

from .choices import ShadowRunStatus
from .models import ShadowRun


class ShadowRunFilter(django_filters.FilterSet):
    plant_id = IdFilter(field_name="plant_id")
    status = django_filters.ChoiceFilter(choices=ShadowRunStatus.choices)

    class Meta:
        model = ShadowRun
        fields: list[str] = []
