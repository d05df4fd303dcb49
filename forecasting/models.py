"""Database models of the forecasting app: facts about one row only."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from .choices import Horizon, Resolution, WeatherSource


class GenerationForecast(models.Model):
    """Predicted generation of one plant over one window (seed 000 ``GenerationForecast``).

    ``data_points`` is ``[{"timestamp": ISO UTC, "kw": float}]`` (daily and monthly points add
    ``kwh``); ``summary`` is ``{"energyKwh", "peakKw", "peakAt"}``. ``model_config`` is the
    snapshot of the pvlib plant model that produced it, ``calibration`` what correction (if any)
    was applied — reported, never silent."""

    plant = models.ForeignKey("plants.Plant", on_delete=models.CASCADE, related_name="generation_forecasts")
    forecast_date = models.DateField(help_text="Plant-local date the window starts on.")
    horizon = models.CharField(max_length=32, choices=Horizon.choices)
    source = models.CharField(max_length=32, choices=WeatherSource.choices, default=WeatherSource.EXTERNAL)
    resolution = models.CharField(max_length=8, choices=Resolution.choices, blank=True)
    window_start = models.DateTimeField(null=True, blank=True)
    window_end = models.DateTimeField(null=True, blank=True)
    data_points = models.JSONField(default=list)
    summary = models.JSONField(default=dict, blank=True)
    model_config = models.JSONField(default=dict, blank=True)
    calibration = models.JSONField(default=dict, blank=True)
    generated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The run that made it: unique, so a job redone after a lost worker stores its forecast once.
    job = models.OneToOneField(
        "solarhub.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="generation_forecast"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-forecast_date", "-id"]
        indexes = [
            models.Index(fields=["plant", "-forecast_date"]),
            models.Index(fields=["plant", "horizon", "-forecast_date"]),
        ]

    def __str__(self) -> str:
        return f"{self.horizon} forecast of plant {self.plant_id} for {self.forecast_date}"


class ForecastAccuracy(models.Model):
    """How one forecast did once actuals existed for its window. ``skill`` is
    ``1 - RMSE / RMSE(smart persistence)`` (None without a reference)."""

    forecast = models.OneToOneField(GenerationForecast, on_delete=models.CASCADE, related_name="accuracy")
    points = models.PositiveIntegerField()
    mae_kw = models.FloatField()
    rmse_kw = models.FloatField()
    nmae_pct = models.FloatField(help_text="MAE / plant capacity, %.")
    bias_kw = models.FloatField(help_text="Mean of forecast - actual.")
    skill = models.FloatField(null=True, blank=True)
    reference_rmse_kw = models.FloatField(null=True, blank=True)
    energy_forecast_kwh = models.FloatField()
    energy_actual_kwh = models.FloatField()
    computed_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"accuracy of forecast {self.forecast_id}"


class PlantCalibration(models.Model):
    """A per-plant correction fitted from clear-sky periods of the last 30 days. ``applied`` is
    true only when it improved accuracy on held-out days."""

    plant = models.ForeignKey("plants.Plant", on_delete=models.CASCADE, related_name="forecast_calibrations")
    factor = models.FloatField()
    hourly_factors = models.JSONField(default=dict, blank=True, help_text="Plant-local hour → factor.")
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    clear_points = models.PositiveIntegerField()
    fit_days = models.PositiveIntegerField()
    holdout_days = models.PositiveIntegerField()
    rmse_before_kw = models.FloatField(null=True, blank=True)
    rmse_after_kw = models.FloatField(null=True, blank=True)
    applied = models.BooleanField(default=False)
    note = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["plant", "-created_at"])]

    def __str__(self) -> str:
        return (
            f"calibration of plant {self.plant_id}: x{self.factor:.3f} ({'applied' if self.applied else 'not applied'})"
        )


class ExpectedPower(models.Model):
    """Expected (modelled from measured weather) and actual AC power of one 15-minute interval,
    kept by the beat task so reports sum lost energy without re-running the model."""

    plant = models.ForeignKey("plants.Plant", on_delete=models.CASCADE, related_name="expected_power")
    ts = models.DateTimeField(help_text="Interval start (UTC).")
    expected_kw = models.FloatField()
    actual_kw = models.FloatField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["plant", "ts"]
        constraints = [models.UniqueConstraint(fields=["plant", "ts"], name="forecasting_expected_power_plant_ts")]

    def __str__(self) -> str:
        return f"expected power of plant {self.plant_id} at {self.ts:%Y-%m-%d %H:%M}"
