"""Dispatch events (seed 003's schedule rows) and the per-plant storage tariff.

``DispatchEvent`` is one awarded (or quoted) block of an ancillary-service market: a mode, a time
window, the quoted and awarded capacity (MW) and prices (currency per MW per hour). What was
delivered is never stored: it is read from the PCS readings inside the window
(``storage.selectors.dispatch``), so a late reading changes the execution rate and the income.

``StorageTariff`` holds every constant the income formula needs (README "Battery storage"); no
figure of it lives in code.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q

from .choices import DispatchMode

_positive = [MinValueValidator(0.0, message="Must not be negative.")]


class DispatchEvent(models.Model):
    plant = models.ForeignKey("plants.Plant", on_delete=models.CASCADE, related_name="dispatch_events")
    mode = models.CharField(max_length=16, choices=DispatchMode.choices)
    time_start = models.DateTimeField()
    time_end = models.DateTimeField()
    time_number = models.PositiveIntegerField(
        null=True, blank=True, help_text="The market's interval number of the block (seed 003's time_number)."
    )
    quote_capacity = models.FloatField(validators=_positive, help_text="Quoted capacity, MW.")
    quote_price = models.FloatField(validators=_positive, help_text="Quoted capacity price per MW and hour.")
    is_get = models.BooleanField(default=False, help_text="Awarded (seed 003's is_get).")
    power = models.FloatField(default=0.0, validators=_positive, help_text="Awarded power, MW.")
    price = models.FloatField(default=0.0, validators=_positive, help_text="Awarded capacity price per MW and hour.")
    quote_code = models.CharField(max_length=64, blank=True)
    interrupt = models.BooleanField(default=False, help_text="The block was interrupted by the operator.")
    title = models.CharField(max_length=128, blank=True)
    description = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["plant_id", "time_start", "id"]
        indexes = [models.Index(fields=["plant", "time_start"])]
        constraints = [
            models.CheckConstraint(condition=Q(time_end__gt=F("time_start")), name="storage_dispatch_window_order"),
        ]

    def __str__(self) -> str:
        return f"{self.get_mode_display()} {self.time_start:%Y-%m-%d %H:%M} on plant {self.plant_id}"

    @property
    def hours(self) -> float:
        return (self.time_end - self.time_start).total_seconds() / 3600.0


def default_performance_tiers() -> list:
    return []


class StorageTariff(models.Model):
    """The income parameters of one plant (README: the income formula).

    ``performance_tiers``: ``[{"min_exec_rate": 0.95, "index": 1.0}, ...]`` — the performance
    index of a block is the ``index`` of the highest tier whose ``min_exec_rate`` the block's
    execution rate reaches (0 below every tier)."""

    plant = models.OneToOneField("plants.Plant", on_delete=models.CASCADE, related_name="storage_tariff")
    currency = models.CharField(max_length=8, blank=True)
    efficiency_price = models.FloatField(
        default=0.0, validators=_positive, help_text="Efficiency fee per MWh delivered inside awarded blocks."
    )
    performance_tiers = models.JSONField(default=default_performance_tiers, blank=True)
    nominal_frequency_hz = models.FloatField(
        validators=[MinValueValidator(40.0), MaxValueValidator(70.0)], help_text="The grid's nominal frequency."
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"storage tariff of plant {self.plant_id}"
