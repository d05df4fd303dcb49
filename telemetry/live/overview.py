"""The dashboard's plant overview and one device's recent key metrics."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Max, Q
from django.utils import timezone

from plants.choices import DeviceType
from plants.live import FAULT_STATUS_CODE, MIN_DC_KW, ONLINE_WINDOW, DeviceStatus, PlantLive, is_fresh, plant_live
from plants.models import Device, Plant

from ..choices import MetricKind, Resolution
from ..models import LatestValue
from ..rollups import rollups_read
from .energy import plant_energy_today, plant_zone
from .series import PowerPoint, bucket_starts, metric_ids_by_key, plant_power_series, series_window
from .status import ENVIRONMENT_METRICS, KEY_METRICS, rounded


@dataclass(frozen=True)
class PlantOverview:
    plant: Plant
    live: PlantLive
    energy_today_kwh: float | None
    environment: dict[str, float | None]
    devices: dict[str, int]
    window: tuple[datetime, datetime]
    peak: PowerPoint | None  # the highest 5-minute bucket of the window
    as_of: datetime


def _plant_live_states(*, plant: Plant, now: datetime) -> tuple[Plant, dict[str, int], dict[str, float | None]]:
    """The overview's live part from one grouped query over the plant's latest values (one row
    per device): the plant's live facts as :func:`plant_live_annotate` would annotate them,
    device states by :func:`device_live`'s rules, and the mean of the fresh environment
    sensors. Three queries — a correlated subquery per device and figure among them — before."""
    catalog = metric_ids_by_key(keys=["ac_power", "dc_power", "status_code", *ENVIRONMENT_METRICS])
    cutoff = now - ONLINE_WINDOW

    def latest(key: str, *, fresh: bool):
        metric = catalog.get(key, (-1,))[0]
        condition = Q(latest_values__metric_id=metric) & (Q(latest_values__ts__gte=cutoff) if fresh else Q())
        return Max("latest_values__value", filter=condition)

    rows = (
        Device.objects.filter(plant_id=plant.pk)
        .annotate(
            last=Max("latest_values__ts"),
            code=latest("status_code", fresh=False),
            ac=latest("ac_power", fresh=True),
            dc=latest("dc_power", fresh=True),
            **{f"env_{n}": latest(key, fresh=True) for n, key in enumerate(ENVIRONMENT_METRICS)},
        )
        .values_list("type", "last", "code", "ac", "dc", *[f"env_{n}" for n in range(len(ENVIRONMENT_METRICS))])
    )
    counts = dict.fromkeys([state.value for state in DeviceStatus], 0)
    sensors: dict[str, list[float]] = defaultdict(list)
    last_update = generation = paired_ac = paired_dc = None
    for device_type, last, code, ac, dc, *env in rows:
        if not is_fresh(last, now):
            counts[DeviceStatus.OFFLINE.value] += 1
        elif code == FAULT_STATUS_CODE:
            counts[DeviceStatus.FAULT.value] += 1
        else:
            counts[DeviceStatus.ONLINE.value] += 1
        if last is not None and (last_update is None or last > last_update):
            last_update = last
        if device_type == DeviceType.INVERTER and ac is not None:
            generation = (generation or 0.0) + ac
            if dc is not None and dc >= MIN_DC_KW:  # only inverters reporting both count (plant_live_annotate)
                paired_ac = (paired_ac or 0.0) + ac
                paired_dc = (paired_dc or 0.0) + dc
        for key, value in zip(ENVIRONMENT_METRICS, env, strict=True):
            if value is not None:
                sensors[key].append(value)
    counts["total"] = sum(counts.values())
    plant.live_last_update, plant.live_generation_kw = last_update, generation
    plant.live_paired_ac_kw, plant.live_paired_dc_kw = paired_ac, paired_dc
    environment = {
        key: rounded(sum(sensors[key]) / len(sensors[key]), 2) if sensors[key] else None for key in ENVIRONMENT_METRICS
    }
    return plant, counts, environment


def plant_overview(*, plant: Plant, hours: int, now: datetime | None = None) -> PlantOverview:
    """Everything the dashboard's overview card shows, in a fixed number of queries (≈ 10,
    independent of the plant's device count): live figures, device states, environment sensors
    (mean of the fresh ones), today's energy and the peak of the last ``hours``."""
    now = now or timezone.now()
    annotated, counts, environment = _plant_live_states(plant=plant, now=now)
    start, end = series_window(hours=hours, now=now)
    series = [point for point in plant_power_series(plant=plant, start=start, end=end) if point.power_kw is not None]
    return PlantOverview(
        plant=plant,
        live=plant_live(plant=annotated, now=now),
        energy_today_kwh=plant_energy_today(plant=plant, now=now),
        environment=environment,
        devices=counts,
        window=(start, end),
        peak=max(series, key=lambda point: point.power_kw) if series else None,
        as_of=now,
    )


# --- one device's recent key metrics ----------------------------------------------------------------


@dataclass(frozen=True)
class DeviceHistory:
    units: dict[str, str]
    points: list[tuple[datetime, dict[str, float | None]]]


def device_key_metric_history(*, device: Device, start: datetime, end: datetime) -> DeviceHistory:
    """5-minute history of the device's key metrics that it actually reports (``rollups_read``:
    folded rollups plus the dirty tail). Gauges are the bucket mean, cumulative counters the
    bucket maximum (their last value while monotonic); status codes and bitfields are
    enumerations, not quantities, and are left to the status."""
    key_metrics = KEY_METRICS.get(device.type, ())
    reported = LatestValue.objects.filter(device_id=device.pk, metric__key__in=key_metrics).values_list("metric__key")
    specs = metric_ids_by_key(keys=[key for (key,) in reported]).items()
    metrics = {key: spec for key, spec in specs if spec[1] in (MetricKind.GAUGE, MetricKind.COUNTER)}
    keys = [key for key in key_metrics if key in metrics]
    rows = (
        rollups_read(
            device_ids=[device.pk],
            metric_ids={metrics[key][0] for key in keys},
            resolution=Resolution.FIVE_MINUTES,
            start=start,
            end=end,
            tz=plant_zone(device.plant),
        )
        if keys
        else {}
    )
    columns: dict[int, dict[datetime, float | None]] = defaultdict(dict)
    counters = {spec[0] for spec in metrics.values() if spec[1] == MetricKind.COUNTER}
    for (_device, metric_id, bucket), agg in rows.items():
        columns[metric_id][bucket] = rounded(agg.max if metric_id in counters else agg.sum / agg.count)
    points = [
        (bucket, {key: columns[metrics[key][0]].get(bucket) for key in keys}) for bucket in bucket_starts(start, end)
    ]
    return DeviceHistory(units={key: metrics[key][2] for key in keys}, points=points)
