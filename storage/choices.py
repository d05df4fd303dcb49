"""Enumerations of the storage app."""

from django.db import models


class DispatchMode(models.TextChoices):
    """Seed 003's schedule modes (ancillary-service products and test runs)."""

    DREG = "dreg", "dReg (dynamic frequency regulation)"
    EDREG = "edreg", "E-dReg (enhanced dynamic regulation)"
    TEST_MODE = "test_mode", "Test mode"
    STEP = "step", "Step response test"
    SCAN = "scan", "Frequency scan"
    FULL_POWER = "full_power", "Full-power dispatch"


class BatteryMode(models.IntegerChoices):
    """Values of the ``battery_mode`` status metric."""

    STANDBY = 0, "Standby"
    CHARGING = 1, "Charging"
    DISCHARGING = 2, "Discharging"
    FAULT = 3, "Fault"
