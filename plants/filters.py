"""django-filter FilterSets of the plants app. Names are snake_case (the middleware delivers the
SPA's ``?plantId`` as ``plant_id``; solarhub/api/filters.py). ``status`` is the *live* status the
lists show (plants.live), filtered in SQL on the same annotations, not the stored column."""

from datetime import datetime

import django_filters
from django.db.models import Q
from django.utils import timezone

from solarhub.api.params import IdFilter

from .choices import DeviceType, PlantStatus
from .live import DEVICE_STATUS_VALUES, FAULT_STATUS_CODE, ONLINE_WINDOW
from .models import Device, Plant


def _fresh_since() -> datetime:
    return timezone.now() - ONLINE_WINDOW


class PlantFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(
        choices=PlantStatus.choices, method="filter_status", help_text="The live status the list shows."
    )
    owner = IdFilter(field_name="owner_id")
    owner_id = IdFilter(field_name="owner_id")
    installer = IdFilter(field_name="installer_id")
    installer_id = IdFilter(field_name="installer_id")
    tracking = django_filters.ChoiceFilter(choices=Plant._meta.get_field("tracking").choices)

    class Meta:
        model = Plant
        fields: list[str] = []

    def filter_status(self, queryset, name, value):
        # plants.live.plant_live: maintenance (stored) wins; else online when any device
        # reported within the window (live_last_update annotated by plant_live_annotate).
        maintenance = Q(status=PlantStatus.MAINTENANCE)
        if value == PlantStatus.MAINTENANCE:
            return queryset.filter(maintenance)
        fresh = Q(live_last_update__gte=_fresh_since())
        if value == PlantStatus.ONLINE:
            return queryset.filter(~maintenance & fresh)
        return queryset.filter(~maintenance & (~fresh | Q(live_last_update__isnull=True)))


class DeviceFilter(django_filters.FilterSet):
    type = django_filters.ChoiceFilter(choices=DeviceType.choices)
    device_type = django_filters.ChoiceFilter(field_name="type", choices=DeviceType.choices)
    plant = IdFilter(field_name="plant_id")
    plant_id = IdFilter(field_name="plant_id")
    parent = IdFilter(field_name="parent_id")
    parent_id = IdFilter(field_name="parent_id")
    operational = django_filters.BooleanFilter()
    status = django_filters.ChoiceFilter(
        choices=[(v, v) for v in DEVICE_STATUS_VALUES],
        method="filter_status",
        help_text="The live status the list shows.",
    )

    class Meta:
        model = Device
        fields: list[str] = []

    def filter_status(self, queryset, name, value):
        # plants.live.device_live on the annotations of device_live_annotate: offline when
        # nothing arrived within the window; else fault on SunSpec status 7; else online.
        fresh = Q(live_last_communication__gte=_fresh_since())
        fault = Q(live_status_code=FAULT_STATUS_CODE)
        if value == "offline":
            return queryset.filter(~fresh | Q(live_last_communication__isnull=True))
        if value == "fault":
            return queryset.filter(fresh & fault)
        return queryset.filter(fresh & (Q(live_status_code__isnull=True) | ~fault))  # NULL-safe
