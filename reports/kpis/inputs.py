"""What the KPI engine reads, all from our own store: the telemetry rollups (5-minute plant
power, weather-station means, per-inverter daily energy, meter export counters, per-inverter
5-minute availability counts), the alarms app's lost energy and the forecasting app's plant
model on measured weather. Query counts do not depend on the number of days or devices (the
per-inverter availability counts are one aggregated query each, in chunks of a month)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
from django.db.models import Count, Q
from django.db.models.functions import TruncDate

from alarms.models import Alarm
from plants.choices import DeviceType
from plants.models import Device, PanelSpec, Plant
from telemetry.choices import Resolution
from telemetry.live import plant_power_series
from telemetry.models import Rollup
from telemetry.rollups import ENERGY_KEY
from telemetry.rollups.buckets import local_day_start
from telemetry.rollups.compute import rollups_read_epoch, to_epoch
from telemetry.selectors import MAX_POINTS, metric_info, plant_series_data

logger = logging.getLogger("solarhub.reports")

SLOT = timedelta(minutes=5)
SLOT_S = 300
POA_THRESHOLD_W_M2 = 50.0  # IEC 61724-1 availability: time with POA above a threshold
FAULT_STATUS = 7  # SunSpec St FAULT


@dataclass
class KpiFacts:
    """The plant's configuration the KPIs depend on (a few cheap queries, read on every answer).
    ``config_key`` fingerprints it: a cached KPI day computed under another key is recomputed."""

    plant: Plant
    tz: ZoneInfo
    inverters: list[tuple[int, str]]
    meters: list[int]
    stations: list[int]
    p0_kw: float
    gamma_per_c: float | None
    model_error: str | None  # why the plant model (expected energy) is not configured
    config_key: str

    @property
    def device_ids(self) -> list[int]:
        return [pk for pk, _ in self.inverters] + self.meters + self.stations


@dataclass
class KpiInputs(KpiFacts):
    """The period's data on one 5-minute grid (epochs ``grid``), and per-day figures keyed by
    the plant-local date."""

    days: list[date]
    day_starts: np.ndarray  # epoch of each day's local midnight, plus the end of the last day
    grid: np.ndarray  # 5-minute bucket starts (epoch seconds)
    power_kw: np.ndarray  # plant AC power per bucket (NaN: no inverter reported)
    reporting: np.ndarray  # inverters reporting per bucket
    poa: np.ndarray  # plane-of-array irradiance, W/m² (NaN: gap)
    module_temp: np.ndarray  # °C (NaN: gap)
    daylight: np.ndarray  # bool: sun above the horizon at the bucket's midpoint
    inverter_energy: dict[tuple[int, date], tuple[float, int]] = field(default_factory=dict)  # kWh, slots
    export_kwh: dict[date, float] = field(default_factory=dict)
    export_slots: dict[date, int] = field(default_factory=dict)
    available_slots: dict[tuple[int, date], int] = field(default_factory=dict)
    alarms: list[dict] = field(default_factory=list)
    expected_kwh: dict[date, float] | None = None
    expected_reason: str | None = None


# Bump when what a day's figures are computed from or how changes: every cached day is then
# recomputed (its config_key no longer matches).
KPI_VERSION = 1


def kpi_facts_read(*, plant: Plant) -> KpiFacts:
    """The plant's devices, nameplate, gamma and plant model (one query for the devices, the
    model's three), fingerprinted."""
    import hashlib
    import json

    from forecasting.pvmodel import PlantConfigError, plant_model_build
    from telemetry.rollups.buckets import zone

    kinds = (DeviceType.INVERTER, DeviceType.WEATHER_STATION, DeviceType.METER)
    devices = list(Device.objects.filter(plant=plant, type__in=kinds).order_by("id").values_list("id", "name", "type"))
    try:
        model, model_error = plant_model_build(plant=plant).snapshot(), None
    except PlantConfigError as exc:
        model, model_error = None, str(exc)
    facts = {
        "version": KPI_VERSION,
        "plant": [plant.timezone, plant.latitude, plant.longitude, plant.elevation_m],
        "p0": float(plant.total_power_output_kw),
        "gamma": plant_gamma(plant=plant),
        "devices": [[pk, kind] for pk, _name, kind in devices],
        "model": model or model_error,
    }
    key = hashlib.sha256(json.dumps(facts, sort_keys=True, default=str).encode()).hexdigest()
    return KpiFacts(
        plant=plant,
        tz=zone(plant.timezone),
        inverters=[(pk, name) for pk, name, kind in devices if kind == DeviceType.INVERTER],
        meters=[pk for pk, _name, kind in devices if kind == DeviceType.METER],
        stations=[pk for pk, _name, kind in devices if kind == DeviceType.WEATHER_STATION],
        p0_kw=facts["p0"],
        gamma_per_c=facts["gamma"],
        model_error=model_error,
        config_key=key,
    )


def plant_gamma(*, plant: Plant) -> float | None:
    """gamma (1/°C) from the plant's first panel spec's Pmax coefficient (%/°C), or None."""
    spec = PanelSpec.objects.filter(plant=plant).order_by("id").values_list("coefficient_pmax_pct", flat=True).first()
    return None if spec is None else spec / 100.0


def _daylight(plant: Plant, grid: np.ndarray) -> np.ndarray:
    """Sun above the horizon at each bucket's midpoint (pvlib's solar position)."""
    import pandas as pd
    from pvlib.solarposition import get_solarposition

    if not len(grid):
        return np.zeros(0, dtype=bool)
    times = pd.DatetimeIndex(pd.to_datetime(grid + SLOT_S // 2, unit="s", utc=True))
    position = get_solarposition(times, plant.latitude, plant.longitude, altitude=plant.elevation_m or 0.0)
    return position["apparent_elevation"].to_numpy() > 0.0


def _weather(plant: Plant, stations: list[int], lo: datetime, hi: datetime, points: int):
    poa = np.full(points, np.nan)
    temp = np.full(points, np.nan)
    if not stations:
        return poa, temp
    span = SLOT * (MAX_POINTS - 1)
    start, offset = lo, 0
    while start < hi:
        end = min(hi, start + span)
        data = plant_series_data(
            plant=plant,
            metric_keys=["irradiance_poa", "module_temp"],
            start=start,
            end=end,
            resolution=Resolution.FIVE_MINUTES,
            device_ids=stations,
        )
        n = len(data.epochs)
        poa[offset : offset + n] = [np.nan if v is None else v for v in data.values["irradiance_poa"]]
        temp[offset : offset + n] = [np.nan if v is None else v for v in data.values["module_temp"]]
        offset += n
        start = end
    return poa, temp


def _daily(device_ids: list[int], key: str, lo: datetime, hi: datetime, tz: ZoneInfo):
    metric = metric_info().get(key)
    if metric is None or not device_ids:
        return {}
    return rollups_read_epoch(
        device_ids=device_ids, metric_ids={metric.id}, resolution=Resolution.DAY, start=lo, end=hi, tz=tz
    )


def _day_of(epoch: int, tz: ZoneInfo) -> date:
    return datetime.fromtimestamp(epoch, UTC).astimezone(tz).date()


def _sunny_ranges(grid: np.ndarray, sunny: np.ndarray) -> list[tuple[datetime, datetime]]:
    """Runs of consecutive sunny buckets as ``[start, end)`` datetimes."""
    ranges = []
    if not sunny.any():
        return ranges
    edges = np.diff(np.concatenate([[0], sunny.astype(np.int8), [0]]))
    for begin, finish in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True):
        lo = datetime.fromtimestamp(int(grid[begin]), UTC)
        ranges.append((lo, datetime.fromtimestamp(int(grid[finish - 1]) + SLOT_S, UTC)))
    return ranges


def _slot_counts(
    *, device_ids: list[int], key: str, ranges: list[tuple[datetime, datetime]], tz: ZoneInfo, extra: Q | None = None
) -> dict[tuple[int, date], int]:
    """5-minute rollup rows of ``key`` per (device, plant-local day) inside ``ranges``: one
    aggregated query per 40 ranges (about a month of daylight runs)."""
    metric = metric_info().get(key)
    counts: dict[tuple[int, date], int] = {}
    if metric is None or not device_ids or not ranges:
        return counts
    for index in range(0, len(ranges), 40):
        within = Q()
        for lo, hi in ranges[index : index + 40]:
            within |= Q(bucket__gte=lo, bucket__lt=hi)
        rows = Rollup.objects.filter(
            within, resolution=Resolution.FIVE_MINUTES, metric_id=metric.id, device_id__in=device_ids
        )
        if extra is not None:
            rows = rows.filter(extra)
        grouped = (
            rows.annotate(day=TruncDate("bucket", tzinfo=tz)).values("device_id", "day").annotate(n=Count("bucket"))
        )
        for row in grouped.values_list("device_id", "day", "n"):
            counts[(row[0], row[1])] = counts.get((row[0], row[1]), 0) + row[2]
    return counts


def availability_slots(
    *, inverter_ids: list[int], grid: np.ndarray, sunny: np.ndarray, tz: ZoneInfo
) -> dict[tuple[int, date], int]:
    """Per (inverter, day): the sunny 5-minute slots in which the inverter reported AC power and
    was not in FAULT (SunSpec St 7 among its status readings of the slot)."""
    ranges = _sunny_ranges(grid, sunny)
    reporting = _slot_counts(device_ids=inverter_ids, key="ac_power", ranges=ranges, tz=tz)
    fault = _slot_counts(
        device_ids=inverter_ids,
        key="status_code",
        ranges=ranges,
        tz=tz,
        extra=Q(min=FAULT_STATUS) | Q(max=FAULT_STATUS) | Q(last=FAULT_STATUS),
    )
    return {key: max(0, n - fault.get(key, 0)) for key, n in reporting.items()}


def _export(meters: list[int], days: list[date], tz: ZoneInfo) -> tuple[dict[date, float], dict[date, int]]:
    """Export at the meter per day from the cumulative ``export_energy`` counter: the day's last
    reading minus the previous day's last (the day's own first reading on the first day or after
    a gap; a counter that went down was reset: its last value then)."""
    if not meters:
        return {}, {}
    lo = local_day_start(days[0] - timedelta(days=1), tz)
    hi = local_day_start(days[-1] + timedelta(days=1), tz)
    rows = _daily(meters, "export_energy", lo, hi, tz)
    by_meter: dict[int, dict[date, object]] = {}
    for (device_id, _metric, epoch), agg in rows.items():
        by_meter.setdefault(device_id, {})[_day_of(epoch, tz)] = agg
    kwh: dict[date, float] = {}
    slots: dict[date, int] = {}
    for per_day in by_meter.values():
        for day in days:
            agg = per_day.get(day)
            if agg is None:
                continue
            before = per_day.get(day - timedelta(days=1))
            reference = before.last if before is not None else agg.first
            delta = agg.last - reference if agg.last >= reference else agg.last
            kwh[day] = kwh.get(day, 0.0) + delta
            slots[day] = slots.get(day, 0) + agg.slots
    return kwh, slots


def alarms_read(*, plant: Plant, lo: datetime, hi: datetime, tz: ZoneInfo) -> list[dict]:
    """The alarms raised in ``[lo, hi)`` with their lost energy, each with its plant-local day."""
    rows = (
        Alarm.objects.filter(plant=plant, triggered_at__gte=lo, triggered_at__lt=hi)
        .order_by("triggered_at", "id")
        .values("id", "device_id", "title", "severity", "triggered_at", "cleared_at", "lost_energy_kwh")
    )
    return [{**row, "day": row["triggered_at"].astimezone(tz).date()} for row in rows]


NO_STATION = "The plant has no weather station."
NO_IRRADIANCE = "No irradiance measured in this period."


def model_error_reason(error: str) -> str:
    return f"The plant model is not configured: {error}"


def _expected(
    plant: Plant, lo: datetime, hi: datetime, tz: ZoneInfo, facts: KpiFacts
) -> tuple[dict[date, float] | None, str | None]:
    """Expected AC energy per day: the forecasting app's plant model (pvlib, as designed, no
    calibration) on the measured hourly weather."""
    from forecasting.measured import HOUR, measured_weather, model_from_measured
    from forecasting.pvmodel import PlantConfigError, plant_model_build

    if facts.model_error is not None:
        return None, model_error_reason(facts.model_error)
    try:
        model = plant_model_build(plant=plant)
    except PlantConfigError as exc:  # changed since the facts were read
        return None, model_error_reason(str(exc))
    weather = measured_weather(plant=plant, start=lo, end=hi, step=HOUR)
    if weather is None:
        return None, NO_STATION
    if weather[["irradiance_poa", "irradiance_ghi"]].notna().to_numpy().sum() == 0:
        return None, NO_IRRADIANCE
    expected, _used = model_from_measured(model, weather, HOUR)
    per_day: dict[date, float] = {}
    for ts, kw in zip(expected.index, expected.to_numpy(), strict=True):
        if not np.isnan(kw):
            day = ts.to_pydatetime().astimezone(tz).date()
            per_day[day] = per_day.get(day, 0.0) + float(kw)  # kW over one hour = kWh
    return per_day, None


def kpi_inputs_read(
    *, plant: Plant, start: date, end: date, expected: bool = True, facts: KpiFacts | None = None
) -> KpiInputs:
    """Everything the KPIs of the plant-local days ``start..end`` (inclusive) need."""
    facts = facts or kpi_facts_read(plant=plant)
    tz = facts.tz
    days = [start + timedelta(days=n) for n in range((end - start).days + 1)]
    lo, hi = local_day_start(start, tz), local_day_start(end + timedelta(days=1), tz)
    day_starts = np.array([to_epoch(local_day_start(day, tz)) for day in days] + [to_epoch(hi)], dtype=np.int64)
    points = plant_power_series(plant=plant, start=lo, end=hi)
    grid = np.array([to_epoch(p.timestamp) for p in points], dtype=np.int64)
    power = np.array([np.nan if p.power_kw is None else p.power_kw for p in points], dtype=float)
    reporting = np.array([p.devices_reporting for p in points], dtype=np.int64)
    poa, module_temp = _weather(plant, facts.stations, lo, hi, len(grid))
    inputs = KpiInputs(
        **{item.name: getattr(facts, item.name) for item in fields(KpiFacts)},
        days=days,
        day_starts=day_starts,
        grid=grid,
        power_kw=power,
        reporting=reporting,
        poa=poa,
        module_temp=module_temp,
        daylight=_daylight(plant, grid),
    )
    inverter_ids = [pk for pk, _ in facts.inverters]
    for (device_id, _metric, epoch), agg in _daily(inverter_ids, ENERGY_KEY, lo, hi, tz).items():
        inputs.inverter_energy[(device_id, _day_of(epoch, tz))] = (agg.sum, agg.slots)
    inputs.export_kwh, inputs.export_slots = _export(facts.meters, days, tz)
    sunny = np.nan_to_num(poa, nan=0.0) > POA_THRESHOLD_W_M2
    inputs.available_slots = availability_slots(inverter_ids=inverter_ids, grid=grid, sunny=sunny, tz=tz)
    inputs.alarms = alarms_read(plant=plant, lo=lo, hi=hi, tz=tz)
    if expected:
        inputs.expected_kwh, inputs.expected_reason = _expected(plant, lo, hi, tz, facts)
    return inputs
