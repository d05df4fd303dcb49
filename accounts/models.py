"""The custom user model, in place from the first migration (swapping it later is painful)."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.contrib.auth.models import UserManager as DjangoUserManager
from django.db import models
from django.db.models.functions import Lower

from .choices import Theme, UserType


class UserManager(DjangoUserManager):
    def get_by_natural_key(self, username):
        # Sign-in accepts the username or the e-mail address, case-insensitively for e-mail.
        try:
            return self.get(username=username)
        except self.model.DoesNotExist:
            return self.get(email__iexact=username)

    def _create_user(self, username, email, password, **extra_fields):
        from .services import username_from_email

        email = self.normalize_email(email or "")
        if not username:
            username = username_from_email(email=email)
        return super()._create_user(username, email, password, **extra_fields)

    def create_superuser(self, username=None, email=None, password=None, **extra_fields):
        extra_fields.setdefault("user_type", UserType.PLANT_ADMIN)
        return super().create_superuser(username, email, password, **extra_fields)


class User(AbstractUser):
    """A person using SolarHub. ``user_type`` is the account-level role (architecture.md);
    per-plant roles live in ``plants.PlantMembership``. Profile fields apply by user type:
    customers carry ``installation_id``/``address``, installers ``company_name``,
    ``license_number`` and ``phone_number``."""

    first_name = None
    last_name = None

    email = models.EmailField("email address")
    name = models.CharField(max_length=150, blank=True)
    user_type = models.CharField(max_length=20, choices=UserType.choices, default=UserType.CUSTOMER)

    installation_id = models.CharField(max_length=64, blank=True)
    address = models.CharField(max_length=255, blank=True)
    company_name = models.CharField(max_length=150, blank=True)
    license_number = models.CharField(max_length=64, blank=True)
    phone_number = models.CharField(max_length=32, blank=True)

    objects = UserManager()

    REQUIRED_FIELDS = ["email"]

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="accounts_user_email_ci_unique"),
        ]

    def __str__(self) -> str:
        return self.username

    @property
    def is_plant_admin(self) -> bool:
        return self.user_type == UserType.PLANT_ADMIN


def default_notifications() -> dict:
    return {
        "channels": {"email": True, "webhook": False},
        "webhook_url": "",
        "min_severity": "major",
        "quiet_hours": {"enabled": False, "start": "22:00", "end": "07:00"},
        "reports": False,
    }


class UserSetting(models.Model):
    """Per-user UI preferences and notification preferences (seed 000). Created on first read."""

    user = models.OneToOneField("accounts.User", on_delete=models.CASCADE, related_name="setting")
    theme = models.CharField(max_length=8, choices=Theme.choices, default=Theme.DARK)
    default_plant = models.ForeignKey(
        "plants.Plant", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    notifications = models.JSONField(default=default_notifications)
    preferences = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"settings of {self.user}"
