"""Database models of the shadow app: facts about one row only."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from .choices import ShadowRunStatus


class ShadowRun(models.Model):
    """One shadow analysis of a plant's digital twin (seed 000 ``ShadowRun``).

    ``twin_version`` names the geometry used (a ``DigitalTwinVersion`` number): a later edit of the
    twin does not change what a finished run means. ``artifacts`` maps kind → path relative to
    ``MEDIA_ROOT`` (streamed by the API to people who see the plant, never public). An externally
    computed run (seed 000's ``/complete``) has a ``result_summary`` and an ``asset_url`` and no
    artifacts. ``progress`` (0-100) is updated as the worker goes; ``job`` is the generic job that
    runs it (lease, heartbeat, redelivery)."""

    plant = models.ForeignKey("plants.Plant", on_delete=models.CASCADE, related_name="shadow_runs")
    twin = models.ForeignKey(
        "twins.DigitalTwin", null=True, blank=True, on_delete=models.SET_NULL, related_name="shadow_runs"
    )
    twin_version = models.PositiveIntegerField(null=True, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=16, choices=ShadowRunStatus.choices, default=ShadowRunStatus.QUEUED)
    parameters = models.JSONField(default=dict, blank=True)
    result_summary = models.JSONField(null=True, blank=True)
    asset_url = models.CharField(max_length=512, blank=True)
    artifacts = models.JSONField(default=dict, blank=True)
    progress = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    job = models.ForeignKey("solarhub.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["plant", "status", "-completed_at"]), models.Index(fields=["status"])]

    def __str__(self) -> str:
        return f"Shadow run {self.pk} of {self.plant_id} ({self.status})"
