"""Live facts on list querysets (the provider behind ``plants.live``'s annotations, registered
in ``TelemetryConfig.ready()``), the key metrics per device type, and latest values in bulk."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Exists, OuterRef, QuerySet, Subquery, Sum
from django.utils import timezone

from plants.choices import DeviceType
from plants.live import (
    DEVICE_STATUS_VALUES,
    FAULT_STATUS_CODE,
    MIN_DC_KW,
    ONLINE_WINDOW,
    DeviceLive,
    DeviceStatus,
    PlantLive,
    device_live,
    is_fresh,
    plant_live,
)
from plants.models import Device, Plant

from ..models import LatestValue
from ..quality import MetricQuality, metric_flags

__all__ = [
    "DEVICE_STATUS_VALUES",
    "FAULT_STATUS_CODE",
    "MIN_DC_KW",
    "ONLINE_WINDOW",
    "DeviceLive",
    "DeviceStatus",
    "PlantLive",
    "device_live",
    "is_fresh",
    "plant_live",
]

BUCKET = timedelta(minutes=5)
MAX_SERIES_HOURS = 168
MAX_DAYS = 366


# The metrics monitoring shows per device type ("key values"), in display order.
_STRING_CURRENTS = tuple(f"string{n}_current" for n in range(1, 65))
_INVERTER_KEYS = ("ac_power", "dc_power", "energy_today", "energy_total", "internal_temp", "frequency", "status_code")
KEY_METRICS: dict[str, tuple[str, ...]] = {
    DeviceType.INVERTER: _INVERTER_KEYS,
    DeviceType.WEATHER_STATION: ("irradiance_poa", "irradiance_ghi", "module_temp", "ambient_temp", "wind_speed"),
    DeviceType.METER: ("import_power", "export_power", "import_energy", "export_energy", "frequency", "power_factor"),
    DeviceType.STRING_MONITORING_BOX: _STRING_CURRENTS,
    DeviceType.BESS: ("soc", "soh", "battery_power", "battery_voltage", "cell_temp_max", "status_code"),
    DeviceType.BESS_RACK: ("soc", "soh", "battery_power", "battery_voltage", "cell_temp_max", "status_code"),
    DeviceType.PCS: ("ac_power", "dc_power", "battery_power", "internal_temp", "status_code"),
    DeviceType.LOGGER: (),
}
ALL_KEY_METRICS = tuple(dict.fromkeys(key for keys in KEY_METRICS.values() for key in keys))
ENVIRONMENT_METRICS = ("irradiance_poa", "irradiance_ghi", "module_temp", "ambient_temp")


def rounded(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)


# --- live fields on lists ---------------------------------------------------------------------


def _latest_of(key: str, field: str) -> Subquery:
    """The device's latest ``field`` of metric ``key`` — a lookup on LatestValue's primary key
    (device_id, metric_id), correlated with the outer Device row."""
    return Subquery(LatestValue.objects.filter(device_id=OuterRef("pk"), metric__key=key).values(field)[:1])


def device_live_annotate(*, queryset: QuerySet[Device]) -> QuerySet[Device]:
    """``queryset`` with the facts :func:`device_live` needs, as subqueries in the same SELECT:
    no extra query per page and none per row, so list query counts stay pinned."""
    return queryset.annotate(
        live_last_communication=Subquery(
            LatestValue.objects.filter(device_id=OuterRef("pk")).order_by("-ts").values("ts")[:1]
        ),
        live_ac_power=_latest_of("ac_power", "value"),
        live_ac_power_ts=_latest_of("ac_power", "ts"),
        live_dc_power=_latest_of("dc_power", "value"),
        live_dc_power_ts=_latest_of("dc_power", "ts"),
        live_status_code=_latest_of("status_code", "value"),
    )


def _plant_sum(queryset: QuerySet) -> Subquery:
    return Subquery(queryset.order_by().values("device__plant_id").annotate(total=Sum("value")).values("total")[:1])


def plant_live_annotate(*, queryset: QuerySet[Plant], now: datetime | None = None) -> QuerySet[Plant]:
    """``queryset`` with the facts :func:`plant_live` needs, as correlated aggregate subqueries
    over the plant's latest values (one SQL statement for the whole page).

    Efficiency pairs AC and DC per inverter — only inverters reporting both fresh count on either
    side — so a plant where one inverter sends no DC does not read as 150 % efficient."""
    cutoff = (now or timezone.now()) - ONLINE_WINDOW
    values = LatestValue.objects.filter(device__plant_id=OuterRef("pk"))
    fresh_inverter = values.filter(device__type=DeviceType.INVERTER, ts__gte=cutoff)
    fresh_ac = fresh_inverter.filter(metric__key="ac_power")
    fresh_dc = fresh_inverter.filter(metric__key="dc_power", value__gte=MIN_DC_KW)
    has_fresh = LatestValue.objects.filter(device_id=OuterRef("device_id"), ts__gte=cutoff)
    return queryset.annotate(
        live_last_update=Subquery(values.order_by("-ts").values("ts")[:1]),
        live_generation_kw=_plant_sum(fresh_ac),
        live_paired_ac_kw=_plant_sum(
            fresh_ac.filter(Exists(has_fresh.filter(metric__key="dc_power", value__gte=MIN_DC_KW)))
        ),
        live_paired_dc_kw=_plant_sum(fresh_dc.filter(Exists(has_fresh.filter(metric__key="ac_power")))),
    )


@dataclass(frozen=True)
class LatestPoint:
    value: float
    ts: datetime
    repeats: int = 1  # consecutive readings with this value (flat-line detection)
    kind: str = ""


def device_latest_values(
    *, device_ids: Iterable[int] | QuerySet, keys: Iterable[str] | None
) -> dict[int, dict[str, LatestPoint]]:
    """device id → metric key → latest point, for a whole page of devices in one query (the
    monitoring list's "key values"); ``keys=None``: every metric (for the quality flags)."""
    found: dict[int, dict[str, LatestPoint]] = defaultdict(dict)
    rows = LatestValue.objects.filter(device_id__in=device_ids)
    if keys is not None:
        rows = rows.filter(metric__key__in=list(keys))
    for device_id, key, value, ts, repeats, kind in rows.values_list(
        "device_id", "metric__key", "value", "ts", "repeats", "metric__kind"
    ):
        found[device_id][key] = LatestPoint(value, ts, repeats, kind)
    return found


def device_quality(*, latest: dict[str, LatestPoint], last_communication: datetime | None) -> MetricQuality:
    """Stale and flat-lined metrics of one device from its latest values (no query; see
    :mod:`telemetry.quality`)."""
    return metric_flags(
        latest=((key, p.kind, p.value, p.ts, p.repeats) for key, p in latest.items()),
        last_communication=last_communication,
        window=ONLINE_WINDOW,
    )
