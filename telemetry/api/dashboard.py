"""Dashboard and monitoring endpoints (seed 000's ``/dashboard`` and ``/monitoring`` routers).

Shapes follow seed 000 (``plant``/``metrics`` of the overview, ``series`` of realtime power,
``data`` of daily energy, ``total``/``items`` of monitored devices, ``history`` of a device's
metrics), camelCase on the wire, plus what the architecture asks of every figure: the plant's
time zone, units, and ``null`` for gaps. The reads are in :mod:`telemetry.live`.

Scoping: every plant and device is looked up through ``plants.selectors.plant_get_for`` /
``device_get_for`` (every view here is a ``PlantScopedAPIView``); anything outside the caller's
plants answers 404 exactly as if it did not exist. Seeing a plant is enough to read its
dashboard (``PlantAction.VIEW`` belongs to every role).
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.request import Request
from rest_framework.response import Response

from plants.choices import DEVICE_GROUPS, DeviceType, PlantStatus
from plants.models import Device, Plant
from plants.selectors import device_get_for, devices_visible_to, plant_get_for, plant_sole_visible_to
from solarhub.api.filters import query_params_check
from solarhub.api.pagination import HeaderPageNumberPagination
from solarhub.api.params import id_param, int_param, iso
from solarhub.api.scoping import PlantScopedAPIView
from telemetry.live import (
    DEVICE_STATUS_VALUES,
    KEY_METRICS,
    MAX_DAYS,
    MAX_SERIES_HOURS,
    device_key_metric_history,
    device_latest_values,
    device_live,
    device_live_annotate,
    device_quality,
    plant_daily_energy,
    plant_overview,
    plant_power_series,
    plant_zone,
    series_window,
)

DEFAULT_HOURS = 6  # seed 000's default window
DEFAULT_DAYS = 6  # seed 000's default trend length
ALARM_STATES = ("open", "acknowledged", "closed")  # seed 000 AlarmState

# Seed 000 names device types differently (``wms_box``, ``abt_meter``) and the SPA also uses the
# grouped route names (``inverters``, ``wms``...); all of them mean one of our types.
DEVICE_TYPE_ALIASES: dict[str, str] = {
    **{value: value for value in DeviceType.values},
    "wms_box": DeviceType.WEATHER_STATION,
    "abt_meter": DeviceType.METER,
    **{group: str(device_type) for group, device_type in DEVICE_GROUPS.items()},
}


def _hours(request: Request) -> int:
    return int_param(request.query_params, "hours", default=DEFAULT_HOURS, low=1, high=MAX_SERIES_HOURS)


def plant_for_request(request: Request) -> Plant:
    """The plant named by ``?plantId`` among the visible ones (404 otherwise); without it, the
    only plant the user sees — a user with several must say which (400)."""
    plant_id = id_param(request.query_params, "plant_id")
    if plant_id is not None:
        return plant_get_for(user=request.user, plant_id=plant_id)
    plant = plant_sole_visible_to(request.user)
    if plant is None:
        raise exceptions.ValidationError({"plant_id": ["plantId is required unless you see exactly one plant."]})
    return plant


_PLANT_ID = OpenApiParameter(
    "plantId", int, description="The plant; optional when you see exactly one plant (404 if not visible)."
)
_HOURS = OpenApiParameter(
    "hours", int, description=f"Window in hours, 1..{MAX_SERIES_HOURS} (default {DEFAULT_HOURS}; 400 beyond)."
)


# --- response documentation (drf-spectacular) ----------------------------------------------------


class OverviewPlantSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    output_kw = serializers.FloatField(help_text="Installed capacity (seed 000's output_kw).")
    capacity_kw = serializers.FloatField(help_text="Installed capacity, kW.")
    latitude = serializers.FloatField()
    longitude = serializers.FloatField()
    altitude = serializers.FloatField(allow_null=True, help_text="Elevation, m.")
    timezone = serializers.CharField()
    status = serializers.ChoiceField(choices=PlantStatus.choices)


class OverviewMetricsSerializer(serializers.Serializer):
    total_power_kw = serializers.FloatField(allow_null=True, help_text="Σ fresh inverter ac_power, kW.")
    efficiency = serializers.FloatField(allow_null=True, help_text="Inverter AC/DC efficiency, %.")
    energy_today_kwh = serializers.FloatField(allow_null=True, help_text="Since plant-local midnight.")
    live_irradiance = serializers.FloatField(allow_null=True, help_text="POA (else GHI) irradiance, W/m².")
    irradiance_poa = serializers.FloatField(allow_null=True)
    irradiance_ghi = serializers.FloatField(allow_null=True)
    temperature_c = serializers.FloatField(allow_null=True, help_text="Ambient temperature (seed 000's name).")
    module_temperature_c = serializers.FloatField(allow_null=True)
    ambient_temperature_c = serializers.FloatField(allow_null=True)
    alarm_counts = serializers.DictField(child=serializers.IntegerField(), help_text="Alarms by state.")
    alarm_counts_available = serializers.BooleanField(
        help_text="True: alarmCounts are live counts (kept for SPA compatibility)."
    )


class DeviceCountsSerializer(serializers.Serializer):
    online = serializers.IntegerField()
    offline = serializers.IntegerField()
    fault = serializers.IntegerField()
    total = serializers.IntegerField()


class OverviewWindowSerializer(serializers.Serializer):
    hours = serializers.IntegerField()
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    peak_power_kw = serializers.FloatField(allow_null=True)
    peak_at = serializers.DateTimeField(allow_null=True)


class OverviewSerializer(serializers.Serializer):
    plant = OverviewPlantSerializer()
    metrics = OverviewMetricsSerializer()
    devices = DeviceCountsSerializer()
    window = OverviewWindowSerializer()
    timezone = serializers.CharField()
    local_date = serializers.DateField()
    as_of = serializers.DateTimeField()


class PowerPointSerializer(serializers.Serializer):
    timestamp = serializers.DateTimeField(help_text="Bucket start (UTC).")
    power_kw = serializers.FloatField(allow_null=True, help_text="null = no inverter reported (a gap).")
    devices_reporting = serializers.IntegerField()


class RealtimePowerSerializer(serializers.Serializer):
    plant_id = serializers.IntegerField()
    hours = serializers.IntegerField()
    timezone = serializers.CharField()
    resolution = serializers.CharField()
    unit = serializers.CharField()
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    series = PowerPointSerializer(many=True)


class DayEnergySerializer(serializers.Serializer):
    date = serializers.DateField(help_text="Plant-local date.")
    energy_kwh = serializers.FloatField(allow_null=True)
    start = serializers.DateTimeField(help_text="Local midnight, in UTC.")
    end = serializers.DateTimeField()


class DailyEnergySerializer(serializers.Serializer):
    plant_id = serializers.IntegerField()
    days = serializers.IntegerField()
    timezone = serializers.CharField()
    unit = serializers.CharField()
    data = DayEnergySerializer(many=True)


class DeviceQualitySerializer(serializers.Serializer):
    stale_metrics = serializers.ListField(child=serializers.CharField())
    flatlined_metrics = serializers.ListField(
        child=serializers.CharField(), help_text="Metrics whose last 12+ readings carried one non-zero value."
    )


class MonitoredDeviceSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    device_id = serializers.IntegerField()
    plant_id = serializers.IntegerField()
    device_type = serializers.CharField()
    name = serializers.CharField()
    serial_number = serializers.CharField()
    status = serializers.CharField(help_text=f"One of {', '.join(DEVICE_STATUS_VALUES)}.")
    last_communication = serializers.DateTimeField(allow_null=True)
    recorded_at = serializers.DateTimeField(allow_null=True, help_text="Seed 000's name for lastCommunication.")
    metric_summary = serializers.DictField(child=serializers.FloatField(), help_text="Latest value by metric key.")
    stale = serializers.BooleanField(help_text="A metric stopped arriving while the device still reports.")
    flatlined = serializers.BooleanField(help_text="A sensor repeats one non-zero value (stuck).")
    quality = DeviceQualitySerializer()


class MonitoredDeviceListSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    items = MonitoredDeviceSerializer(many=True)


class HistoryPointSerializer(serializers.Serializer):
    timestamp = serializers.DateTimeField()
    metrics = serializers.DictField(child=serializers.FloatField(allow_null=True))


class DeviceMetricsSerializer(serializers.Serializer):
    device_type = serializers.CharField()
    device_id = serializers.IntegerField()
    plant_id = serializers.IntegerField()
    hours = serializers.IntegerField()
    resolution = serializers.CharField()
    timezone = serializers.CharField()
    units = serializers.DictField(child=serializers.CharField())
    history = HistoryPointSerializer(many=True)


# --- dashboard -------------------------------------------------------------------------------------


def _alarm_counts(plant_id: int) -> dict[str, int]:
    """Seed 000's alarm counts by state (open / acknowledged / closed), one aggregate query."""
    from django.db.models import Count, Q

    from alarms.choices import LEGACY_STATES
    from alarms.models import Alarm

    aggregates = {
        state: Count("id", filter=Q(state__in=[str(s) for s in LEGACY_STATES[state]])) for state in ALARM_STATES
    }
    return Alarm.objects.filter(plant_id=plant_id).aggregate(**aggregates)


@extend_schema(tags=["dashboard"], parameters=[_PLANT_ID, _HOURS], responses=OverviewSerializer)
class DashboardOverviewView(PlantScopedAPIView):
    """Live power, today's energy (plant-local day), irradiance, temperatures, device states,
    capacity and the plant's time zone; ``window`` gives the peak 5-minute power of the last
    ``hours``. ``alarmCounts``: the plant's alarms by seed 000 state. Metric keys inside bodies
    are camelized like every other key (``acPower``)."""

    def get(self, request: Request) -> Response:
        plant = plant_for_request(request)
        hours = _hours(request)
        overview = plant_overview(plant=plant, hours=hours)
        live, env = overview.live, overview.environment
        zone = plant.timezone
        return Response(
            {
                "plant": {
                    "id": plant.pk,
                    "name": plant.name,
                    "output_kw": plant.total_power_output_kw,
                    "capacity_kw": plant.total_power_output_kw,
                    "latitude": plant.latitude,
                    "longitude": plant.longitude,
                    "altitude": plant.elevation_m,
                    "timezone": zone,
                    "status": live.status,
                },
                "metrics": {
                    "total_power_kw": live.current_generation,
                    "efficiency": live.efficiency,
                    "energy_today_kwh": overview.energy_today_kwh,
                    "live_irradiance": env["irradiance_poa"]
                    if env["irradiance_poa"] is not None
                    else env["irradiance_ghi"],
                    "irradiance_poa": env["irradiance_poa"],
                    "irradiance_ghi": env["irradiance_ghi"],
                    "temperature_c": env["ambient_temp"],
                    "module_temperature_c": env["module_temp"],
                    "ambient_temperature_c": env["ambient_temp"],
                    "alarm_counts": _alarm_counts(plant.pk),
                    "alarm_counts_available": True,
                },
                "devices": overview.devices,
                "window": {
                    "hours": hours,
                    "start": iso(overview.window[0]),
                    "end": iso(overview.window[1]),
                    "peak_power_kw": overview.peak.power_kw if overview.peak else None,
                    "peak_at": iso(overview.peak.timestamp) if overview.peak else None,
                },
                "timezone": zone,
                "local_date": overview.as_of.astimezone(plant_zone(plant)).date().isoformat(),
                "as_of": iso(overview.as_of),
            }
        )


@extend_schema(tags=["dashboard"], parameters=[_PLANT_ID, _HOURS], responses=RealtimePowerSerializer)
class RealtimePowerView(PlantScopedAPIView):
    """The plant's AC power per 5-minute bucket over the last ``hours`` (Σ of its inverters'
    bucket means); buckets nobody reported in are ``null``."""

    def get(self, request: Request) -> Response:
        plant = plant_for_request(request)
        hours = _hours(request)
        start, end = series_window(hours=hours)
        series = plant_power_series(plant=plant, start=start, end=end)
        return Response(
            {
                "plant_id": plant.pk,
                "hours": hours,
                "timezone": plant.timezone,
                "resolution": "5min",
                "unit": "kW",
                "start": iso(start),
                "end": iso(end),
                "series": [
                    {"timestamp": iso(p.timestamp), "power_kw": p.power_kw, "devices_reporting": p.devices_reporting}
                    for p in series
                ],
            }
        )


@extend_schema(
    tags=["dashboard"],
    parameters=[
        _PLANT_ID,
        OpenApiParameter(
            "days", int, description=f"Plant-local days ending today, 1..{MAX_DAYS} (default {DEFAULT_DAYS})."
        ),
    ],
    responses=DailyEnergySerializer,
)
class DailyEnergyView(PlantScopedAPIView):
    """Energy per plant-local day (DST-correct: a day is local midnight to local midnight), from
    the daily rollups; today from the real-time path. Days without data are ``null``."""

    def get(self, request: Request) -> Response:
        plant = plant_for_request(request)
        days = int_param(request.query_params, "days", default=DEFAULT_DAYS, low=1, high=MAX_DAYS)
        rows = plant_daily_energy(plant=plant, days=days)
        return Response(
            {
                "plant_id": plant.pk,
                "days": days,
                "timezone": plant.timezone,
                "unit": "kWh",
                "data": [
                    {
                        "date": row.day.isoformat(),
                        "energy_kwh": row.energy_kwh,
                        "start": iso(row.start),
                        "end": iso(row.end),
                    }
                    for row in rows
                ],
            }
        )


# --- monitoring ------------------------------------------------------------------------------------


def _device_type_param(raw: str | None, *, field: str = "type") -> str | None:
    if raw is None or raw == "":
        return None
    device_type = DEVICE_TYPE_ALIASES.get(raw)
    if device_type is None:
        raise exceptions.ValidationError({field: [f"Unknown device type; one of {', '.join(DeviceType.values)}."]})
    return device_type


@extend_schema(
    tags=["monitoring"],
    parameters=[
        OpenApiParameter("plantId", int, description="Only this plant's devices (404 if not visible)."),
        OpenApiParameter("type", str, description="Only this device type (seed 000 names accepted)."),
        OpenApiParameter("deviceType", str, description="Seed 000's name for `type`."),
        OpenApiParameter("page", int),
        OpenApiParameter("pageSize", int),
        OpenApiParameter("skip", int, description="Seed 000's offset paging (with `limit`)."),
        OpenApiParameter("limit", int, description="Seed 000's offset paging: items to return."),
    ],
    responses=MonitoredDeviceListSerializer,
)
class MonitoredDeviceListView(PlantScopedAPIView):
    """Every visible device with its status (online/offline/fault from its last communication
    and status code), its latest key values by metric key and data-quality flags (``stale``: a
    metric stopped arriving; ``flatlined``: a sensor repeats one value — ``telemetry.quality``).
    Four queries per page at most (user, optional plant check, page with live subqueries, latest
    values of the page)."""

    def get(self, request: Request) -> Response:
        query_params_check(request, {"plant_id", "type", "device_type"})
        queryset = devices_visible_to(request.user)
        plant_id = id_param(request.query_params, "plant_id")
        if plant_id is not None:
            queryset = queryset.filter(plant=self.plant_for(plant_id))
        kind, alias = request.query_params.get("type"), request.query_params.get("device_type")
        if kind and alias and kind != alias:
            raise exceptions.ValidationError({"device_type": ["Contradicts type; give one of them."]})
        device_type = _device_type_param(kind or alias, field="type" if kind else "device_type")
        if device_type is not None:
            queryset = queryset.filter(type=device_type)
        paginator = HeaderPageNumberPagination()
        page = paginator.paginate_queryset(device_live_annotate(queryset=queryset).order_by("id"), request, view=self)
        # every metric of the page's devices (not only the key ones): the quality flags judge all
        latest = device_latest_values(device_ids=[device.pk for device in page], keys=None)
        items = []
        for device in page:
            live = device_live(device=device)
            keys = KEY_METRICS.get(device.type, ())
            values = latest.get(device.pk, {})
            quality = device_quality(latest=values, last_communication=live.last_communication)
            items.append(
                {
                    "id": device.pk,
                    "device_id": device.pk,
                    "plant_id": device.plant_id,
                    "device_type": device.type,
                    "name": device.name,
                    "serial_number": device.serial_number,
                    "status": live.status,
                    "last_communication": iso(live.last_communication),
                    "recorded_at": iso(live.last_communication),
                    "metric_summary": {key: values[key].value for key in keys if key in values},
                    "stale": bool(quality.stale),
                    "flatlined": bool(quality.flatlined),
                    "quality": {"stale_metrics": quality.stale, "flatlined_metrics": quality.flatlined},
                }
            )
        response = paginator.get_paginated_response(items)
        response.data = {"total": paginator.total, "items": items}
        return response


@extend_schema(
    tags=["monitoring"],
    parameters=[
        OpenApiParameter(
            "device_type", str, OpenApiParameter.PATH, description="Device type (seed 000 names accepted)."
        ),
        _HOURS,
    ],
    responses=DeviceMetricsSerializer,
)
class DeviceMetricsView(PlantScopedAPIView):
    """A device's key metrics per 5-minute bucket over the last ``hours`` (gaps ``null``).
    404 when the device is not visible or is not of ``deviceType``."""

    def device_for(self, device_id, action=None) -> Device:
        # a device of another type is as unknown as a missing one; an unknown type matches none
        wanted = DEVICE_TYPE_ALIASES.get(self.kwargs["device_type"])
        return device_get_for(user=self.request.user, device_id=device_id, queryset=Device.objects.filter(type=wanted))

    def get(self, request: Request, device_type: str, device_id: int) -> Response:
        device = self.device
        hours = _hours(request)
        start, end = series_window(hours=hours)
        history = device_key_metric_history(device=device, start=start, end=end)
        return Response(
            {
                "device_type": device.type,
                "device_id": device.pk,
                "plant_id": device.plant_id,
                "hours": hours,
                "resolution": "5min",
                "timezone": device.plant.timezone,
                "units": history.units,
                "history": [{"timestamp": iso(moment), "metrics": values} for moment, values in history.points],
            }
        )
