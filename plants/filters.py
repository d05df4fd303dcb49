"""django-filter FilterSets of the plants app."""

import django_filters

from .choices import DeviceType, PlantStatus
from .models import Device, Plant


class PlantFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=PlantStatus.choices)
    owner = django_filters.NumberFilter(field_name="owner_id")
    installer = django_filters.NumberFilter(field_name="installer_id")

    class Meta:
        model = Plant
        fields = ["status", "owner", "installer", "tracking"]


class DeviceFilter(django_filters.FilterSet):
    type = django_filters.ChoiceFilter(choices=DeviceType.choices)
    plant = django_filters.NumberFilter(field_name="plant_id")
    parent = django_filters.NumberFilter(field_name="parent_id")

    class Meta:
        model = Device
        fields = ["type", "plant", "parent", "operational"]
