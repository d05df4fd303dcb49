"""Enumerations of the plants app."""

from django.db import models


class PlantRole(models.TextChoices):
    """Per-plant roles, most powerful first (architecture.md)."""

    OWNER = "owner", "Owner"
    INSTALLER = "installer", "Installer"
    ENGINEER = "engineer", "Engineer"
    OPERATOR = "operator", "Operator"
    VIEWER = "viewer", "Viewer"


class PlantStatus(models.TextChoices):
    ONLINE = "online", "Online"
    OFFLINE = "offline", "Offline"
    MAINTENANCE = "maintenance", "Maintenance"
