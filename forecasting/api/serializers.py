"""Serializers of the forecasting API (camelCase on the wire, snake_case here)."""

from __future__ import annotations

import math
from datetime import date
from itertools import pairwise

from rest_framework import serializers

from forecasting.choices import POSTED_RESOLUTIONS, Horizon, Resolution, WeatherSource
from forecasting.models import ForecastAccuracy, GenerationForecast, PlantCalibration
from solarhub.api.params import datetime_from_text

MAX_POINTS = 10_000
_RUN_SOURCES = [s for s in WeatherSource.values if s not in (WeatherSource.MEASURED, WeatherSource.EXTERNAL)]


def _one_of(values) -> str:
    return "One of: " + ", ".join(v for v in values if v) + "."


class GenerationForecastSerializer(serializers.ModelSerializer):
    """Seed 000's ``GenerationForecastResponse`` plus how the forecast was made."""

    plant_id = serializers.IntegerField(read_only=True)
    generated_by = serializers.IntegerField(source="generated_by_id", read_only=True, allow_null=True)
    data_points = serializers.ListField(child=serializers.DictField(), read_only=True)
    summary = serializers.DictField(read_only=True)
    calibration = serializers.DictField(read_only=True)
    # Plain strings in the schema: ``source``/``resolution`` are other apps' enum names too, and
    # colliding enum components make the schema generation warn.
    source = serializers.CharField(read_only=True, help_text=_one_of(WeatherSource.values))
    resolution = serializers.CharField(read_only=True, help_text=_one_of(Resolution.values) + " Empty if posted.")

    class Meta:
        model = GenerationForecast
        fields = [
            "id",
            "plant_id",
            "forecast_date",
            "horizon",
            "source",
            "resolution",
            "window_start",
            "window_end",
            "data_points",
            "summary",
            "calibration",
            "generated_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class GenerationForecastDetailSerializer(GenerationForecastSerializer):
    model_config = serializers.DictField(read_only=True, help_text="The pvlib model configuration used.")

    class Meta(GenerationForecastSerializer.Meta):
        fields = [*GenerationForecastSerializer.Meta.fields, "model_config"]
        read_only_fields = fields


class DataPointSerializer(serializers.Serializer):
    timestamp = serializers.CharField(max_length=40)
    kw = serializers.FloatField(min_value=-1e7, max_value=1e7)

    def validate_timestamp(self, value: str) -> str:
        moment = datetime_from_text(value)
        if moment is None or moment.tzinfo is None:
            raise serializers.ValidationError("ISO 8601 with an offset, e.g. 2026-06-01T10:00:00Z.")
        return moment.isoformat()

    def validate_kw(self, value: float) -> float:
        if not math.isfinite(value):
            raise serializers.ValidationError("Must be finite.")
        return value


def _instant(value):
    """A data point's timestamp as an aware datetime (the point serializer keeps ISO text)."""
    return datetime_from_text(value) if isinstance(value, str) else value


class GenerationForecastCreateSerializer(serializers.Serializer):
    """Seed 000's ``GenerationForecastCreate``: an externally computed forecast."""

    plant_id = serializers.IntegerField(min_value=1)
    forecast_date = serializers.DateField()
    horizon = serializers.ChoiceField(choices=Horizon.choices)
    data_points = DataPointSerializer(many=True, allow_empty=False, max_length=MAX_POINTS)
    summary = serializers.DictField(required=False, allow_null=True)
    # A plain string in the schema: a second "resolution" enum collides with the series' one.
    resolution = serializers.CharField(
        required=False,
        allow_null=True,
        help_text="15min or hour: each point's step. Optional for regular points (inferred); without it a single "
        "point's energy is null (a point has no step to integrate over).",
    )

    def validate_resolution(self, value):
        if value in (None, ""):
            return None
        if value not in dict(POSTED_RESOLUTIONS):
            raise serializers.ValidationError(f'"{value[:16]}" is not a valid choice. One of: 15min, hour.')
        return value

    def validate(self, attrs):
        step = {"15min": 15 * 60, "hour": 3600}.get(attrs.get("resolution") or "")
        stamps = sorted(_instant(p["timestamp"]) for p in attrs.get("data_points", []))
        if step and any((b - a).total_seconds() != step for a, b in pairwise(stamps)):
            raise serializers.ValidationError({"resolution": ["The points are not spaced by this resolution."]})
        return attrs

    def validate_data_points(self, points: list[dict]) -> list[dict]:
        stamps = [p["timestamp"] for p in points]
        if len(set(stamps)) != len(stamps):
            raise serializers.ValidationError("Timestamps must be unique.")
        return points


class ForecastRunSerializer(serializers.Serializer):
    plant_id = serializers.IntegerField(min_value=1)
    horizon = serializers.ChoiceField(choices=Horizon.choices)
    source = serializers.CharField(max_length=32, help_text=_one_of(_RUN_SOURCES))
    start = serializers.DateField(required=False, allow_null=True, help_text="Plant-local date; default tomorrow.")
    weather = serializers.JSONField(
        required=False,
        allow_null=True,
        help_text="cloud_cover/irradiance: a list of {timestamp, cloudCover | ghi, dni, dhi, tempAir, windSpeed}, "
        "CSV text with a header, or {data: [...], decomposition: erbs|disc}; clearsky: {tempAir, windSpeed}.",
    )

    def validate_source(self, value: str) -> str:
        if value not in _RUN_SOURCES:
            raise serializers.ValidationError(f'"{value[:32]}" is not a valid choice. {_one_of(_RUN_SOURCES)}')
        return value

    def validate_start(self, value: date | None) -> date | None:
        if value is not None and not 2000 <= value.year <= 2100:
            raise serializers.ValidationError("Between 2000 and 2100.")
        return value


class AccuracyQuerySerializer(serializers.Serializer):
    plant_id = serializers.IntegerField(min_value=1)
    horizon = serializers.ChoiceField(choices=Horizon.choices, required=False)


class ForecastAccuracySerializer(serializers.ModelSerializer):
    forecast_id = serializers.IntegerField(read_only=True)
    forecast_date = serializers.DateField(source="forecast.forecast_date", read_only=True)
    horizon = serializers.CharField(source="forecast.horizon", read_only=True)
    source = serializers.CharField(source="forecast.source", read_only=True, help_text="The forecast's weather source.")

    class Meta:
        model = ForecastAccuracy
        fields = [
            "forecast_id",
            "forecast_date",
            "horizon",
            "source",
            "points",
            "mae_kw",
            "rmse_kw",
            "nmae_pct",
            "bias_kw",
            "skill",
            "reference_rmse_kw",
            "energy_forecast_kwh",
            "energy_actual_kwh",
            "computed_at",
        ]
        read_only_fields = fields


class PlantCalibrationSerializer(serializers.ModelSerializer):
    class Meta:
        model = PlantCalibration
        fields = [
            "id",
            "factor",
            "hourly_factors",
            "window_start",
            "window_end",
            "clear_points",
            "fit_days",
            "holdout_days",
            "rmse_before_kw",
            "rmse_after_kw",
            "applied",
            "note",
            "created_at",
        ]
        read_only_fields = fields


class ExpectedPowerQuerySerializer(serializers.Serializer):
    start = serializers.CharField(max_length=40, required=False, help_text="ISO 8601; default end - 24 h.")
    end = serializers.CharField(max_length=40, required=False, help_text="ISO 8601; default now.")


class AccuracyOverallSerializer(serializers.Serializer):
    forecasts = serializers.IntegerField()
    points = serializers.IntegerField()
    mae_kw = serializers.FloatField()
    rmse_kw = serializers.FloatField()
    nmae_pct = serializers.FloatField()
    bias_kw = serializers.FloatField()
    skill = serializers.FloatField(allow_null=True)


class AccuracyResponseSerializer(serializers.Serializer):
    plant_id = serializers.IntegerField()
    horizon = serializers.CharField(allow_null=True)
    capacity_kw = serializers.FloatField()
    timezone = serializers.CharField()
    results = ForecastAccuracySerializer(many=True)
    overall = AccuracyOverallSerializer(allow_null=True)


class ExpectedPowerRowSerializer(serializers.Serializer):
    timestamp = serializers.DateTimeField()
    expected_kw = serializers.FloatField(allow_null=True)
    actual_kw = serializers.FloatField(allow_null=True)
    ratio = serializers.FloatField(allow_null=True, help_text="actual / expected; null at night or without data")


class ExpectedPowerSummarySerializer(serializers.Serializer):
    expected_kwh = serializers.FloatField()
    actual_kwh = serializers.FloatField()
    ratio = serializers.FloatField(allow_null=True)
    intervals_compared = serializers.IntegerField()


class ExpectedPowerResponseSerializer(serializers.Serializer):
    plant_id = serializers.IntegerField()
    timezone = serializers.CharField()
    resolution = serializers.CharField(help_text="5min or hour")
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    irradiance = serializers.CharField(allow_null=True, help_text="poa, ghi or poa+ghi: what the model used")
    reason = serializers.CharField(allow_null=True, help_text="why data is empty (no weather station, no irradiance)")
    data = ExpectedPowerRowSerializer(many=True)
    summary = ExpectedPowerSummarySerializer(allow_null=True)
