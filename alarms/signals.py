"""Receivers: default rules for new plants; evaluation after each committed ingest."""

from __future__ import annotations

from django.db.models.signals import post_save
from django.dispatch import receiver

from plants.models import Plant
from telemetry.signals import readings_stored

from .evaluation_tasks import alarms_evaluate_devices


@receiver(post_save, sender=Plant, dispatch_uid="alarms_default_rules")
def _plant_created(sender, instance, created, raw=False, **kwargs):
    if created and not raw:
        from .services import alarm_rules_create_defaults

        alarm_rules_create_defaults(plant=instance)


@receiver(readings_stored, dispatch_uid="alarms_evaluate_after_ingest")
def _readings_stored(sender, device_ids, metric_ids, ts_min=None, **kwargs):
    alarms_evaluate_devices.delay(
        device_ids=sorted(device_ids), metric_ids=sorted(metric_ids), since=ts_min.isoformat() if ts_min else None
    )
