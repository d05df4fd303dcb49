"""Time-series endpoints (seed 001): one device, a batch of metrics of one device, one plant.

``?metric=`` is a group of ``telemetry.catalog.METRIC_GROUPS`` (``panel_voltages`` → ``PV1..PVn``)
or any catalog key (under ``value``). The range is ``timeRange`` (1h, 24h, 7d, 30d, 90d, 1y)
ending now, or ``startTime``/``endTime``; the resolution is chosen from the range unless asked.
A range/resolution pair over 5,000 points is refused (400 ``TOO_MANY_POINTS``) before any
query — time series are never unbounded. ``?format=csv`` downloads the same data.
Invisible devices and plants are 404 (the plant scope filters the lookup itself).
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.renderers import BaseRenderer
from rest_framework.response import Response

from plants.models import Device, Plant
from plants.selectors import device_visible_get
from solarhub.api.exceptions import ApiError
from solarhub.api.params import iso, time_param
from solarhub.api.renderers import CamelCaseJSONRenderer, camel_key
from solarhub.api.schema import ErrorSerializer
from solarhub.api.scoping import PlantScopedAPIView
from telemetry.catalog import METRIC_GROUPS
from telemetry.choices import MetricKind, Resolution
from telemetry.selectors import (
    MAX_POINTS,
    SeriesColumns,
    SeriesData,
    TooManyPoints,
    UnknownMetric,
    device_series,
    device_series_data,
    metric_info,
    plant_series_data,
    series_columns_for,
)

TIME_RANGES = {
    "1h": timedelta(hours=1),
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
    "90d": timedelta(days=90),
    "1y": timedelta(days=365),
}
DEFAULT_RANGE = "24h"
MAX_BATCH_METRICS = 10
_RESOLUTIONS = [choice.value for choice in Resolution]


class SeriesQuerySerializer(serializers.Serializer):
    """Query of a series (also the body of a batch, with ``metrics`` instead of ``metric``)."""

    metric = serializers.CharField(max_length=64, help_text="A group (panel_voltages, ...) or a catalog metric key.")
    time_range = serializers.ChoiceField(choices=list(TIME_RANGES), required=False, help_text="Default 24h.")
    start_time = serializers.CharField(max_length=40, required=False, help_text="ISO 8601, e.g. 2024-01-01T00:00:00Z")
    end_time = serializers.CharField(max_length=40, required=False, help_text="ISO 8601; default now.")
    resolution = serializers.ChoiceField(
        choices=_RESOLUTIONS, required=False, help_text="Default: raw up to 1h, 5min up to 24h, hour up to 90d, day."
    )


class BatchQuerySerializer(SeriesQuerySerializer):
    metric = None
    metrics = serializers.ListField(
        child=serializers.CharField(max_length=64), min_length=1, max_length=MAX_BATCH_METRICS
    )


class SeriesQualitySerializer(serializers.Serializer):
    completeness = serializers.FloatField(allow_null=True, help_text="Mean completeness of the buckets (null: raw).")
    gaps = serializers.IntegerField(allow_null=True, help_text="Buckets without any data.")
    flatlined = serializers.ListField(
        child=serializers.DateTimeField(), help_text="Hourly/daily buckets where a sensor repeated one value."
    )
    devices_expected = serializers.IntegerField(required=False, help_text="Plant: devices with data in the range.")


class SeriesSerializer(serializers.Serializer):
    """Documentation of the answer; ``data`` rows are ``{timestamp, <label>: number | null,
    completeness}`` (completeness: share of the bucket's 5-minute slots with data, 0 = a gap;
    plant rows add ``devicesReporting``). Raw rows have no completeness."""

    device_id = serializers.IntegerField()
    metric = serializers.CharField()
    time_range = serializers.CharField()
    resolution = serializers.ChoiceField(choices=_RESOLUTIONS)
    unit = serializers.CharField()
    timezone = serializers.CharField(help_text="The plant's IANA zone; daily buckets are its local days.")
    quality = SeriesQualitySerializer()
    data = serializers.ListField(child=serializers.DictField())


class PlantSeriesSerializer(SeriesSerializer):
    device_id = None
    plant_id = serializers.IntegerField()


@dataclass(frozen=True)
class SeriesRange:
    start: datetime
    end: datetime
    label: str
    resolution: str | None  # None: automatic


def series_range(data: Mapping) -> SeriesRange:
    """``timeRange`` ending now, or ``startTime``/``endTime`` (one of them plus ``timeRange``,
    or both). 400 for bad times and for a start not before the end."""
    label = data.get("time_range")
    span = TIME_RANGES[label or DEFAULT_RANGE]
    start = time_param(data, "start_time")
    end = time_param(data, "end_time")
    if start is None and end is None:
        end = timezone.now()
    if start is None:
        start = end - span
    elif end is None:
        end = start + span if label else timezone.now()
    if start >= end:
        raise exceptions.ValidationError({"startTime": ["startTime must be before endTime."]})
    if not label:
        label = "custom" if data.get("start_time") or data.get("end_time") else DEFAULT_RANGE
    return SeriesRange(start=start, end=end, label=label, resolution=data.get("resolution"))


def auto_resolution(span: timedelta, *, raw_allowed: bool) -> str:
    """≤1h raw (devices only), ≤24h 5min, ≤90d hour, beyond that days."""
    if span <= timedelta(hours=1) and raw_allowed:
        return Resolution.RAW
    if span <= timedelta(hours=24):
        return Resolution.FIVE_MINUTES
    if span <= timedelta(days=90):
        return Resolution.HOUR
    return Resolution.DAY


class SeriesCSVRenderer(BaseRenderer):
    """``?format=csv``: the series' ``data`` as ``timestamp,<label>...`` rows."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        view = (renderer_context or {}).get("view")
        columns = ["timestamp", *getattr(view, "csv_labels", [])]
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(columns)
        for row in (data or {}).get("data", []):
            writer.writerow(["" if row.get(column) is None else row.get(column) for column in columns])
        return buffer.getvalue().encode()


class _SeriesView(PlantScopedAPIView):
    """The plant or device of the URL is resolved before the query is read
    (:class:`~solarhub.api.scoping.PlantScopedAPIView`); a device through the hot-path
    statement ``plants.selectors.device_visible_get`` — just its id and its plant's zone, no ORM
    query to compose (that was a sixth of a 30-day series' time)."""

    renderer_classes = [CamelCaseJSONRenderer, SeriesCSVRenderer]
    csv_labels: list[str]

    def device_for(self, device_id, action=None) -> Device:
        found = device_visible_get(user=self.request.user, device_id=device_id)
        return Device(id=found.id, plant=Plant(id=found.plant_id, timezone=found.timezone))

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if response.status_code >= 400 and isinstance(getattr(response, "accepted_renderer", None), SeriesCSVRenderer):
            response.accepted_renderer = CamelCaseJSONRenderer()  # errors stay JSON, even for ?format=csv
            response.accepted_media_type = "application/json"
        return response

    def _csv(self, request, response: Response, name: str) -> Response:
        if getattr(request, "accepted_renderer", None) and request.accepted_renderer.format == "csv":
            response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
        return response


def kind_of(key: str) -> str:
    info = metric_info().get(key)
    return info.kind if info else ""


def _columns(metric: str, device_ids: list[int]) -> SeriesColumns:
    try:
        return series_columns_for(metric=metric, device_ids=device_ids)
    except UnknownMetric:
        groups = ", ".join(METRIC_GROUPS)
        raise exceptions.ValidationError(
            {"metric": [f"Unknown metric '{metric[:64]}'. Use a group ({groups}) or a catalog metric key."]}
        ) from None


def _body(*, columns: SeriesColumns, rows: list[dict]) -> list[dict]:
    return [{"timestamp": iso(row["timestamp"]), **{label: row[key] for label, key in columns.columns}} for row in rows]


_RAW_QUALITY = {"completeness": None, "gaps": None, "flatlined": []}


@lru_cache(maxsize=65536)
def _iso_epoch(epoch: int) -> str:
    """ISO 8601 UTC of a bucket start; buckets recur from request to request, hence the cache
    (a year of hours is 8,760 entries)."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def _points(*, columns: SeriesColumns, data: SeriesData) -> tuple[list[dict], dict]:
    """``data`` points (``{timestamp, <label>..., completeness[, devicesReporting]}``, keys
    already final: the response skips the camelCase walk) and the ``quality`` summary."""
    stamps = [_iso_epoch(epoch) for epoch in data.epochs]
    series = [(label, data.values[key]) for label, key in columns.columns]
    completeness = data.completeness
    if len(series) == 1:  # one column (``value``, or a group of one): a single comprehension
        ((label, values),) = series
        points = [
            {"timestamp": stamp, label: value, "completeness": share}
            for stamp, value, share in zip(stamps, values, completeness, strict=True)
        ]
    else:
        points = []
        for index, stamp in enumerate(stamps):
            point = {"timestamp": stamp}
            for label, values in series:
                point[label] = values[index]
            point["completeness"] = completeness[index]
            points.append(point)
    if data.devices_reporting is not None:
        for point, devices in zip(points, data.devices_reporting, strict=True):
            point["devicesReporting"] = devices
    quality = {
        "completeness": round(sum(completeness) / len(completeness), 3) if completeness else None,
        "gaps": sum(1 for share in completeness if share == 0),
        "flatlined": [stamp for stamp, flat in zip(stamps, data.flatlined, strict=True) if flat],
    }
    if data.devices_reporting is not None:
        quality["devicesExpected"] = data.devices_expected
    return points, quality


def _final(body: dict) -> Response:
    """A response whose keys are already camelCase (``data`` points included): rendering skips
    the recursive camelize walk over every point."""
    response = Response({camel_key(key): value for key, value in body.items()})
    response.camelize = False
    return response


def _device_body(device: Device, metric: str, window: SeriesRange) -> tuple[dict, SeriesColumns]:
    columns = _columns(metric, [device.pk])
    keys = [key for _, key in columns.columns]
    derived = any(kind_of(key) == MetricKind.DERIVED for key in keys)  # energy exists per bucket only
    if derived and window.resolution == Resolution.RAW:
        raise exceptions.ValidationError({"resolution": [f"'{metric}' is computed per bucket: use 5min or coarser."]})
    resolution = window.resolution or auto_resolution(window.end - window.start, raw_allowed=not derived)
    data = quality = None
    try:
        if resolution == Resolution.RAW:
            rows = device_series(
                device=device, metric_keys=keys, start=window.start, end=window.end, resolution=resolution
            )
            data, quality = _body(columns=columns, rows=rows), _RAW_QUALITY
    except TooManyPoints as exc:
        if window.resolution is not None:
            raise ApiError(str(exc), code="too_many_points") from None
        resolution = Resolution.FIVE_MINUTES  # automatic raw over a busy hour: 5-minute buckets instead
    if data is None:
        try:
            series = device_series_data(
                device=device, metric_keys=keys, start=window.start, end=window.end, resolution=resolution
            )
        except TooManyPoints as exc:
            raise ApiError(str(exc), code="too_many_points") from None
        data, quality = _points(columns=columns, data=series)
    body = {
        "device_id": device.pk,
        "metric": metric,
        "time_range": window.label,
        "resolution": str(resolution),
        "unit": columns.unit,
        "timezone": device.plant.timezone,
        "quality": quality,
        "data": data,
    }
    return body, columns


_BAD_QUERY = OpenApiResponse(
    ErrorSerializer,
    description="Bad query (VALIDATION_ERROR), or over 5,000 points (TOO_MANY_POINTS).",
)
_SERIES_PARAMETERS = [
    SeriesQuerySerializer,
    OpenApiParameter("format", str, enum=["json", "csv"], description="csv downloads the same data"),
]


@extend_schema(tags=["telemetry"])
class DeviceTimeseriesView(_SeriesView):
    """One metric (or metric group) of one device over a range."""

    @extend_schema(
        parameters=_SERIES_PARAMETERS,
        responses={
            200: OpenApiResponse(SeriesSerializer, description="The series (or text/csv with ?format=csv)"),
            400: _BAD_QUERY,
        },
    )
    def get(self, request, device_id: int):
        device = self.device
        query = SeriesQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        body, columns = _device_body(device, query.validated_data["metric"], series_range(query.validated_data))
        self.csv_labels = [label for label, _ in columns.columns]
        return self._csv(request, _final(body), f"device-{device.pk}-{body['metric']}")


@extend_schema(tags=["telemetry"])
class DeviceTimeseriesBatchView(_SeriesView):
    """Several metrics of one device over one range (seed 001's batch), at most 10."""

    renderer_classes = [CamelCaseJSONRenderer]

    @extend_schema(request=BatchQuerySerializer, responses={200: SeriesSerializer(many=True)})
    def post(self, request, device_id: int):
        device = self.device
        query = BatchQuerySerializer(data=request.data)
        query.is_valid(raise_exception=True)
        window = series_range(query.validated_data)
        metrics = list(dict.fromkeys(query.validated_data["metrics"]))
        bodies = [_device_body(device, metric, window)[0] for metric in metrics]
        response = Response([{camel_key(key): value for key, value in body.items()} for body in bodies])
        response.camelize = False  # keys final already (see _final)
        return response


@extend_schema(tags=["telemetry"])
class PlantTimeseriesView(_SeriesView):
    """The plant aggregate of a metric: power and energy summed over its devices, irradiance,
    temperatures and other gauges averaged. 5-minute buckets are the finest (no raw)."""

    @extend_schema(
        parameters=_SERIES_PARAMETERS,
        responses={
            200: OpenApiResponse(PlantSeriesSerializer, description="The series (or text/csv)"),
            400: _BAD_QUERY,
        },
    )
    def get(self, request, plant_id: int):
        plant = self.plant
        query = SeriesQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        window = series_range(query.validated_data)
        if window.resolution == Resolution.RAW:
            raise exceptions.ValidationError(
                {"resolution": ["Plant series start at 5min: raw readings of different devices do not line up."]}
            )
        device_ids = list(Device.objects.filter(plant=plant).values_list("id", flat=True))
        metric = query.validated_data["metric"]
        columns = _columns(metric, device_ids)
        resolution = window.resolution or auto_resolution(window.end - window.start, raw_allowed=False)
        try:
            series = plant_series_data(
                plant=plant,
                device_ids=device_ids,
                metric_keys=[key for _, key in columns.columns],
                start=window.start,
                end=window.end,
                resolution=resolution,
            )
        except TooManyPoints as exc:
            raise ApiError(str(exc), code="too_many_points") from None
        self.csv_labels = [label for label, _ in columns.columns]
        data, quality = _points(columns=columns, data=series)
        body = {
            "plant_id": plant.pk,
            "metric": metric,
            "time_range": window.label,
            "resolution": str(resolution),
            "unit": columns.unit,
            "timezone": plant.timezone,
            "quality": quality,
            "data": data,
        }
        return self._csv(request, _final(body), f"plant-{plant.pk}-{metric}")


__all__ = ["MAX_POINTS", "DeviceTimeseriesBatchView", "DeviceTimeseriesView", "PlantTimeseriesView"]
