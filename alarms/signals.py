"""Receivers: default rules for new plants (``plants.hooks.plant_created``, sent by every way of
creating a plant: ``plant_create``, an import, the admin); evaluation after each committed ingest."""

from __future__ import annotations

from django.dispatch import receiver

from plants.hooks import plant_created
from telemetry.signals import readings_stored

from .evaluation_tasks import alarms_evaluate_devices
from .services import alarm_rules_create_defaults


@receiver(plant_created, dispatch_uid="alarms_default_rules")
def _plant_created(sender, plant, **kwargs):
    alarm_rules_create_defaults(plant=plant)


@receiver(readings_stored, dispatch_uid="alarms_evaluate_after_ingest")
def _readings_stored(sender, device_ids, metric_ids, ts_min=None, **kwargs):
    alarms_evaluate_devices.delay(
        device_ids=sorted(device_ids), metric_ids=sorted(metric_ids), since=ts_min.isoformat() if ts_min else None
    )
