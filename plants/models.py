"""Plants and who may see them. The full datasheet fields and the device registry arrive with
the plants issue; this is the part every other app already depends on (plant scoping)."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from .choices import PlantRole, PlantStatus


class Plant(models.Model):
    name = models.CharField(max_length=200)
    location = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=20, choices=PlantStatus.choices, default=PlantStatus.OFFLINE)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="owned_plants"
    )
    installer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="installed_plants"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class PlantMembership(models.Model):
    """A user's role on one plant (healthchecks' ``Member(user, project, role)``)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="plant_memberships")
    plant = models.ForeignKey(Plant, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=PlantRole.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "plant"], name="plants_membership_user_plant_unique")]
        indexes = [models.Index(fields=["user", "plant"])]

    def __str__(self) -> str:
        return f"{self.user} {self.role} of {self.plant}"
