"""Django admin registrations of the forecasting app: forecasts, their accuracy, the plants'
calibrations and stored expected power — for looking, not editing (they are computed)."""

from __future__ import annotations

from django.contrib import admin

from solarhub.admin import PlatformAdminPermissions

from .models import ExpectedPower, ForecastAccuracy, GenerationForecast, PlantCalibration


class _ReadOnly(PlatformAdminPermissions):
    def has_add_permission(self, request, *args) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(GenerationForecast)
class GenerationForecastAdmin(_ReadOnly, admin.ModelAdmin):
    list_display = ("id", "plant", "forecast_date", "horizon", "source", "resolution", "created_at")
    list_filter = ("horizon", "source")
    search_fields = ("plant__name", "plant__plant_code")
    list_select_related = ("plant",)
    date_hierarchy = "forecast_date"


@admin.register(ForecastAccuracy)
class ForecastAccuracyAdmin(_ReadOnly, admin.ModelAdmin):
    list_display = ("forecast", "points", "mae_kw", "rmse_kw", "nmae_pct", "bias_kw", "skill", "computed_at")
    list_select_related = ("forecast__plant",)


@admin.register(PlantCalibration)
class PlantCalibrationAdmin(_ReadOnly, admin.ModelAdmin):
    list_display = ("plant", "factor", "applied", "rmse_before_kw", "rmse_after_kw", "fit_days", "created_at")
    list_filter = ("applied",)
    list_select_related = ("plant",)


@admin.register(ExpectedPower)
class ExpectedPowerAdmin(_ReadOnly, admin.ModelAdmin):
    list_display = ("plant", "ts", "expected_kw", "actual_kw")
    list_select_related = ("plant",)
    date_hierarchy = "ts"
