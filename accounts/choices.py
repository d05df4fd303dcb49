"""Enumerations of the accounts app."""

from django.db import models


class UserType(models.TextChoices):
    CUSTOMER = "customer", "Customer"
    INSTALLER = "installer", "Installer"
    PLANT_ADMIN = "plant_admin", "Plant admin"
