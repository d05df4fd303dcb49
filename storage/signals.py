"""Receivers: the default storage alarm rules of a new plant (``plants.hooks.plant_created``).
The rules are device-type scoped, so on a plant without storage they never match a device."""

from __future__ import annotations

from django.dispatch import receiver

from plants.hooks import plant_created

from .services import storage_alarm_rules_create_defaults


@receiver(plant_created, dispatch_uid="storage_default_rules")
def _plant_created(sender, plant, **kwargs):
    storage_alarm_rules_create_defaults(plant=plant)
