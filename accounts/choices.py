"""Enumerations of the accounts app."""

from django.db import models


class UserType(models.TextChoices):
    CUSTOMER = "customer", "Customer"
    INSTALLER = "installer", "Installer"
    PLANT_ADMIN = "plant_admin", "Plant admin"


class Theme(models.TextChoices):
    LIGHT = "light", "Light"
    DARK = "dark", "Dark"


class NotificationChannel(models.TextChoices):
    EMAIL = "email", "E-mail"
    WEBHOOK = "webhook", "Webhook"


class AlarmSeverity(models.TextChoices):
    """Alarm severities, least to most severe (the alarms app uses the same scale)."""

    INFO = "info", "Info"
    MINOR = "minor", "Minor"
    MAJOR = "major", "Major"
    CRITICAL = "critical", "Critical"


# Who may self-register (never plant_admin).
REGISTRABLE_USER_TYPES = [
    (UserType.CUSTOMER.value, UserType.CUSTOMER.label),
    (UserType.INSTALLER.value, UserType.INSTALLER.label),
]
