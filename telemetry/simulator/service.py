"""``telemetry_simulate``: realistic readings for a plant, written through the ingest fast path.

Range semantics: readings at ``start <= ts < end`` (UTC instants), never in the future. The
model always runs over whole plant-local days (so a day's values, its noise and its
``energy_today`` are the same whichever range asked for them) and only the requested window is
written. Writing goes through ``telemetry.ingest.store_rows`` in chunks of ~50k: rows that are
already stored are skipped by the unique key, so re-running a range writes nothing new.

Counters continue from what is stored: a device's ``energy_total`` (and the meter's export/import
counters) are back-computed from the newest value stored inside the simulated days, or start from
the last stored value before them; a device never seen before gets a synthetic odometer reading
(≈ 4 kWh/kWp per day since commissioning). That keeps counters monotonic when ``seed_demo`` tops
up the last days again later.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from itertools import repeat
from zoneinfo import ZoneInfo

import numpy as np
import pvlib
from django.utils import timezone

from plants.models import Device, Plant
from telemetry.ingest import metric_catalog, store_rows
from telemetry.models import DirtyHour, Reading

from .devices import (
    Context,
    house_load_kw,
    inverter_series,
    inverter_state,
    meter_series,
    string_box_series,
    weather_station_series,
)
from .faults import FaultPlan, no_faults, plan_faults
from .layout import PlantLayout, plant_layout, run_pv_model
from .signals import DayGrid, Noise, day_grid
from .weather import plant_weather

CHUNK_ROWS = 50_000
SYNTHETIC_KWH_PER_KWP_DAY = 4.0  # odometer of a device with no stored history (~1,460 kWh/kWp/yr)
_DECIMALS = {
    "status_code": 0, "event_bits": 0, "internal_temp": 1, "module_temp": 1, "ambient_temp": 1,
    "wind_speed": 1, "irradiance_poa": 1, "irradiance_ghi": 1,
}  # fmt: skip
_FAMILY_DECIMALS = (("_voltage", 1), ("_current", 2))


@dataclass
class SimulationResult:
    """What a run did; ``summary()`` is what the commands print."""

    plant_code: str
    start: datetime
    end: datetime
    step_minutes: int
    rows_generated: int = 0
    rows_written: int = 0
    devices: int = 0
    device_counts: dict[str, int] = field(default_factory=dict)
    faults: list[str] = field(default_factory=list)
    weak_string: str | None = None
    not_simulated: list[str] = field(default_factory=list)
    rollups: str | None = None
    seconds: float = 0.0

    def summary(self) -> str:
        span = f"{self.start:%Y-%m-%d %H:%M} → {self.end:%Y-%m-%d %H:%M} UTC"
        kinds = ", ".join(f"{n} {kind}" for kind, n in sorted(self.device_counts.items())) or "no devices"
        lines = [
            f"{self.plant_code}: {span} every {self.step_minutes} min — {self.rows_written:,} new readings "
            f"({self.rows_generated:,} generated) from {self.devices} devices ({kinds}) in {self.seconds:.1f} s",
        ]
        if self.weak_string:
            lines.append(f"  weak string: {self.weak_string}")
        lines += [f"  fault: {fault}" for fault in self.faults]
        if self.not_simulated:
            lines.append(f"  not simulated: {', '.join(self.not_simulated)}")
        if self.rollups:
            lines.append(f"  rollups: {self.rollups}")
        return "\n".join(lines)


def _decimals(key: str) -> int:
    if key in _DECIMALS:
        return _DECIMALS[key]
    for suffix, decimals in _FAMILY_DECIMALS:
        if key.endswith(suffix):
            return decimals
    return 3


def _days_covered(grid: DayGrid, window: np.ndarray) -> list[date]:
    return [day for day, where in grid.days if window[where].any()]


def _describe_faults(plan: FaultPlan, layout: PlantLayout) -> list[str]:
    tz = ZoneInfo(layout.plant.timezone)
    described = []
    if plan.outage_inverter is not None and plan.outage_window:
        inverter = layout.inverters[plan.outage_inverter].device
        start, end = (moment.astimezone(tz) for moment in plan.outage_window)
        silent = plan.silent_window
        gap = f", no readings {silent[0].astimezone(tz):%H:%M}-{silent[1].astimezone(tz):%H:%M}" if silent else ""
        described.append(
            f"outage of {inverter.name} ({inverter.serial_number}) {start:%Y-%m-%d %H:%M}-{end:%H:%M} local: "
            f"FAULT, GROUND_FAULT event bit, zero power{gap}"
        )
    if plan.stuck_window and layout.weather_stations:
        station = layout.weather_stations[0]
        start, end = (moment.astimezone(tz) for moment in plan.stuck_window)
        described.append(
            f"stuck module_temp on {station.name} ({station.serial_number}) {start:%Y-%m-%d %H:%M}-{end:%H:%M} local"
        )
    return described


def _service_days(device: Device, plant: Plant, first_day: date) -> int:
    commissioned = device.commissioned_at or plant.installation_date or (first_day - timedelta(days=365))
    return max((first_day - commissioned).days, 0)


def _counter_baseline(
    *, device_id: int, metric_id: int, cumulative: np.ndarray, grid: DayGrid, synthetic: float
) -> float:
    """Where this run's counter starts (see the module docstring): two indexed lookups at most."""
    first, last = grid.times[0].to_pydatetime(), grid.times[-1].to_pydatetime()
    stored = Reading.objects.filter(device_id=device_id, metric_id=metric_id)
    # The newest value stored inside the days first: continuing from it exactly keeps the counter
    # monotonic at the seam (from the value before the days, re-summing the day's energy in
    # another order could land a rounding step of 0.001 below the last stored value).
    inside = stored.filter(ts__gte=first, ts__lte=last).order_by("-ts").values_list("ts", "value").first()
    if inside is None:
        before = stored.filter(ts__lt=first).order_by("-ts").values_list("value", flat=True).first()
        if before is not None:
            return float(before)
    if inside is not None:
        position = max(int(grid.times.searchsorted(inside[0], side="right")) - 1, 0)
        return max(float(inside[1]) - float(cumulative[position]), 0.0)
    return synthetic


def _device_series(*, ctx: Context) -> list[tuple[Device, dict[str, np.ndarray], np.ndarray | None]]:
    """(device, {metric: values}, silent mask) for every simulated device."""
    layout, plan = ctx.layout, ctx.faults
    plant, first_day = layout.plant, ctx.grid.days[0][0]
    states = [inverter_state(index=i, ctx=ctx) for i in range(len(layout.inverters))]
    out: list[tuple[Device, dict[str, np.ndarray], np.ndarray | None]] = []
    catalog = metric_catalog()
    for i, (inverter, state) in enumerate(zip(layout.inverters, states, strict=True)):
        series = inverter_series(index=i, state=state, ctx=ctx)
        days = _service_days(inverter.device, plant, first_day)
        synthetic = inverter.pdc0_w / 1000.0 * SYNTHETIC_KWH_PER_KWP_DAY * days
        series["energy_total"] = series["energy_total"] + _counter_baseline(
            device_id=inverter.device.pk,
            metric_id=catalog["energy_total"].id,
            cumulative=series["energy_total"],
            grid=ctx.grid,
            synthetic=synthetic,
        )
        out.append((inverter.device, series, plan.silent if plan.outage_inverter == i else None))
    for b, box in enumerate(layout.boxes):
        out.append((box.device, string_box_series(box_index=b, state=states[box.inverter], ctx=ctx), None))
    for s, station in enumerate(layout.weather_stations):
        out.append((station, weather_station_series(station_index=s, ctx=ctx), None))
    if layout.meters:
        plant_ac = np.sum([state.ac_kw for state in states], axis=0) if states else np.zeros(ctx.grid.size)
        load = house_load_kw(ctx=ctx)
        dc_kwp = sum(inv.pdc0_w for inv in layout.inverters) / 1000.0
        ac_kw = sum(inv.ac_rating_w for inv in layout.inverters) / 1000.0
        for m, meter in enumerate(layout.meters):
            series = meter_series(meter_index=m, plant_ac_kw=plant_ac, load_kw=load, ctx=ctx)
            days = _service_days(meter, plant, first_day)
            rates = {
                "export_energy": dc_kwp * SYNTHETIC_KWH_PER_KWP_DAY * 0.95,
                # the site load's night-time share (~1.5 % of the AC rating for ~12 h a day)
                "import_energy": ac_kw * 0.015 * 12.0,
            }
            for key, rate in rates.items():
                series[key] = series[key] + _counter_baseline(
                    device_id=meter.pk, metric_id=catalog[key].id, cumulative=series[key], grid=ctx.grid,
                    synthetic=rate * days,
                )  # fmt: skip
            out.append((meter, series, None))
    return out


def telemetry_fold_rollups(*, budget_seconds: float | None = None, limit: int | None = None) -> str:
    """Fold the hours just marked dirty, if the rollup folder (``telemetry.rollups``) is
    installed. ``budget_seconds`` stops after the batch that passes it, ``limit`` after that many
    device-hours: what is left stays dirty for the beat task, and reads recompute dirty hours on
    the fly, so nothing is stale."""
    try:
        from telemetry.rollups import rollups_fold
    except ImportError:
        return "not folded (telemetry.rollups is not available)"
    began = time.perf_counter()
    folded = rollups_fold(budget_seconds=budget_seconds, limit=limit)
    left = DirtyHour.objects.count()
    tail = f", {left:,} left for the beat task" if left else ""
    return f"{folded:,} device-hours folded in {time.perf_counter() - began:.1f} s{tail}"


def telemetry_simulate(
    *,
    plant: Plant,
    start: datetime,
    end: datetime,
    step_minutes: int = 5,
    seed: int = 42,
    faults: bool = True,
    max_string_boxes_per_inverter: int | None = None,
    fold: bool = True,
    fold_budget_seconds: float | None = None,
    now: datetime | None = None,
) -> SimulationResult:
    """Simulate and store readings of ``plant``'s inverters, string boxes, weather stations and
    meters for ``start <= ts < end`` (capped at ``now``), every ``step_minutes``.

    Deterministic for a given ``seed`` and range; idempotent (a re-run writes nothing new).
    ``faults`` injects the outage and the stuck sensor (see ``faults.py``); the weak string is a
    property of the plant and always present. ``max_string_boxes_per_inverter`` limits how many
    string boxes per inverter report (the farm demo keeps one of six to stay fast). ``fold``
    folds the rollups afterwards (see ``telemetry_fold_rollups``).
    """
    if not 1 <= step_minutes <= 60:
        raise ValueError("step_minutes must be between 1 and 60")
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("start and end must be timezone-aware")
    began = time.perf_counter()
    now = now or timezone.now()
    end = min(end, now + timedelta(microseconds=1))  # a reading at exactly `now` is allowed
    result = SimulationResult(plant_code=plant.plant_code, start=start, end=max(start, end), step_minutes=step_minutes)
    if end <= start:
        return result
    zone = ZoneInfo(plant.timezone)
    grid = day_grid(
        first_day=start.astimezone(zone).date(),
        last_day=(end - timedelta(microseconds=1)).astimezone(zone).date(),
        tz=plant.timezone,
        step_minutes=step_minutes,
    )
    window = np.asarray((grid.times >= start) & (grid.times < end))
    noise = Noise(seed=seed, plant_code=plant.plant_code, grid=grid)
    layout = plant_layout(plant=plant, noise=noise, max_string_boxes_per_inverter=max_string_boxes_per_inverter)
    result.not_simulated = layout.not_simulated
    if not window.any() or not layout.devices:
        result.seconds = time.perf_counter() - began
        return result

    location = pvlib.location.Location(
        plant.latitude, plant.longitude, tz=plant.timezone, altitude=plant.elevation_m or 0.0, name=plant.plant_code
    )
    weather = plant_weather(location=location, times=grid.times, cloud_noise=noise.ar1("clouds", phi=0.8))
    pv = run_pv_model(layout=layout, location=location, weather=weather)
    plan = (
        plan_faults(grid=grid, days=_days_covered(grid, window), inverters=len(layout.inverters), noise=noise)
        if faults
        else no_faults(grid)
    )
    ctx = Context(
        grid=grid,
        noise=noise,
        layout=layout,
        pv=pv,
        weather=weather,
        faults=plan,
        frequency=layout.frequency_hz + 0.015 * noise.ar1("grid-frequency", phi=0.98),
        grid_voltage=noise.ar1("grid-voltage", phi=0.995),
    )

    catalog = metric_catalog()
    times = np.array(grid.times.to_pydatetime(), dtype=object)
    rows: list[tuple[int, int, datetime, float]] = []
    for device, series, silent in _device_series(ctx=ctx):
        keep = window & ~silent if silent is not None else window
        result.device_counts[device.type] = result.device_counts.get(device.type, 0) + 1
        for key, values in series.items():
            spec = catalog[key]
            positions = np.flatnonzero(keep & ~np.isnan(values))
            picked = values[positions]
            if spec.low is not None or spec.high is not None:  # validated rows for the fast path
                picked = np.clip(picked, spec.low, spec.high)
            values_out = np.round(picked, _decimals(key)).tolist()
            rows.extend(zip(repeat(device.pk), repeat(spec.id), times[positions], values_out))
            if len(rows) >= CHUNK_ROWS:
                result.rows_generated += len(rows)
                result.rows_written += store_rows(rows)
                rows = []
    if rows:
        result.rows_generated += len(rows)
        result.rows_written += store_rows(rows)

    result.devices = sum(result.device_counts.values())
    result.faults = _describe_faults(plan, layout)
    if layout.weak_string:
        weak = layout.weak_string
        result.weak_string = (
            f"{weak.box.name} ({weak.box.serial_number}) string{weak.string_number}_current at {weak.factor:.0%}"
        )
    if fold and result.rows_written:
        result.rollups = telemetry_fold_rollups(budget_seconds=fold_budget_seconds)
    result.seconds = time.perf_counter() - began
    return result
