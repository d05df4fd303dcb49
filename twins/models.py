"""Database models of the twins app: facts about one row only.

A plant has at most one digital twin; its ``twin_data`` is the scene JSON (seed 000's shape,
extended, validated by :mod:`twins.schema`), stored with snake_case keys as the API's parser
hands them over (the API shows them camelCase). Every save writes a :class:`DigitalTwinVersion`
row holding that exact scene, so a shadow run can name the geometry it used (``version``).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from plants.models import Plant


class DigitalTwin(models.Model):
    plant = models.OneToOneField(Plant, on_delete=models.CASCADE, related_name="digital_twin")
    name = models.CharField(max_length=128, blank=True)
    twin_data = models.JSONField(help_text="The scene: {scene: {objects, lights, cameras, environment, metadata}}.")
    version = models.PositiveIntegerField(default=1, help_text="Number of the current scene's version row.")
    object_count = models.PositiveIntegerField(default=0, help_text="Objects of the current scene (lists show it).")
    panel_count = models.PositiveIntegerField(default=0, help_text="Solar panels of the current scene.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name or f"Twin of {self.plant}"


class DigitalTwinVersion(models.Model):
    """One saved scene of a twin (the current one included). Older rows are pruned beyond
    ``TWIN_VERSIONS_KEPT`` (at least 20)."""

    twin = models.ForeignKey(DigitalTwin, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    twin_data = models.JSONField()
    reason = models.CharField(max_length=16, help_text="create, update, generate, restore")
    object_count = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-version"]
        constraints = [models.UniqueConstraint(fields=["twin", "version"], name="twins_version_twin_version_unique")]

    def __str__(self) -> str:
        return f"{self.twin} v{self.version}"
