"""``storage_simulate``: a battery site's readings — BESS units and racks, PCS, grid/aux/PV
meters — written through the ingest fast path (``telemetry.ingest.store_rows``) like the PV
simulator, whose inverter power it follows (run ``telemetry_simulate`` first for PV).

The model, per plant-local day on the simulator's 5-minute grid:

* dispatch: awarded ``DispatchEvent`` blocks are followed (``full_power``/``step``/``test_mode``:
  discharge at the awarded power; ``dreg``/``edreg``/``scan``: regulation against the frequency
  deviation at ~95 % of the award); outside blocks the unit charges from PV surplus 10:00-14:00,
  regulates frequency 14:00-16:00 (30 % of its power per 20 mHz) and discharges in the evening
  peak 18:00-21:00;
* SoC dynamics with round-trip losses (the PCS's ``max_efficiency_pct`` one way, a 96 % battery
  round trip), clipped to the datasheet's SoC band;
* racks share the unit's power with a per-rack SoC offset, cell voltage spread growing with
  current, temperatures with load and the afternoon heat; the aux load follows the heat;
* fault injection (``faults``): on the first simulated day the last rack of the last unit trips
  on cell over-temperature from 15:00 to 17:00 (mode 3 = fault, current 0, 62 °C).

Deterministic for a seed; re-running a range writes nothing new (the unique key).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import repeat
from zoneinfo import ZoneInfo

import numpy as np
from django.db.models import Sum
from django.utils import timezone

from plants.choices import DeviceType, MeterRole
from plants.models import Device, Plant
from telemetry.ingest import metric_catalog, store_rows
from telemetry.models import Reading
from telemetry.simulator import telemetry_fold_rollups
from telemetry.simulator.signals import Noise, day_grid

from .choices import BatteryMode
from .models import DispatchEvent, StorageTariff
from .selectors.common import meter_role

CHUNK_ROWS = 50_000
BATTERY_ROUND_TRIP = 0.96
DEFAULT_PCS_EFFICIENCY_PCT = 98.0
CELLS_IN_SERIES = 240
FAULT_HOURS = (15.0, 17.0)


@dataclass
class StorageSimulation:
    plant_code: str
    rows_written: int = 0
    devices: int = 0
    faults: list[str] = field(default_factory=list)
    rollups: str = ""

    def summary(self) -> str:
        faults = f"; faults: {', '.join(self.faults)}" if self.faults else ""
        return f"{self.plant_code}: {self.rows_written:,} storage readings for {self.devices} devices{faults}"


def _pv_kw(plant: Plant, times, start, end) -> np.ndarray:
    catalog = metric_catalog()
    inverters = Device.objects.filter(plant=plant, type=DeviceType.INVERTER).values("id")
    sums = dict(
        Reading.objects.filter(device_id__in=inverters, metric_id=catalog["ac_power"].id, ts__gte=start, ts__lt=end)
        .values("ts")
        .annotate(total=Sum("value"))
        .values_list("ts", "total")
    )
    return np.array([sums.get(moment, 0.0) for moment in times], dtype=float)


def _last_counter(device: Device, key: str, before: datetime) -> float:
    metric = metric_catalog()[key].id
    value = (
        Reading.objects.filter(device_id=device.pk, metric_id=metric, ts__lt=before)
        .order_by("-ts")
        .values_list("value", flat=True)
        .first()
    )
    return float(value) if value is not None else 0.0


def _blocks(plant: Plant, times, hours: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per grid step: awarded kW (0 outside blocks) and whether the block is a regulation one."""
    award, regulation = np.zeros(len(times)), np.zeros(len(times), dtype=bool)
    events = DispatchEvent.objects.filter(
        plant=plant, is_get=True, power__gt=0, time_start__lt=times[-1], time_end__gt=times[0]
    )
    stamps = np.array([moment.timestamp() for moment in times])
    for event in events:
        inside = (stamps >= event.time_start.timestamp()) & (stamps < event.time_end.timestamp())
        award[inside] = event.power * 1000.0
        regulation[inside] = event.mode in ("dreg", "edreg", "scan")
    return award, regulation


def _unit_params(unit: Device, pcs: Device | None) -> dict:
    sheet = getattr(unit, "bess_datasheet", None)
    capacity = (sheet and (sheet.usable_capacity_kwh or sheet.energy_rating_kwh)) or 1000.0
    power = (sheet and (sheet.max_discharge_kw or sheet.power_rating_kw)) or capacity / 2
    pcs_sheet = getattr(pcs, "pcs_datasheet", None) if pcs else None
    efficiency = (pcs_sheet and pcs_sheet.max_efficiency_pct) or DEFAULT_PCS_EFFICIENCY_PCT
    return {
        "capacity": float(capacity),
        "power": float(power),
        "charge": float((sheet and sheet.max_charge_kw) or power),
        "soc_min": float((sheet and sheet.min_soc_pct) or 5.0),
        "soc_max": float((sheet and sheet.max_soc_pct) or 95.0),
        "voltage": float((sheet and sheet.nominal_voltage_v) or 768.0),
        "pcs_eta": efficiency / 100.0,
    }


def _integrate(target_ac: np.ndarray, p: dict, step_h: float, soc0: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """AC power actually delivered, DC power and SoC per step (+ discharge)."""
    battery_eta = math.sqrt(BATTERY_ROUND_TRIP)
    energy = soc0 / 100.0 * p["capacity"]
    lo, hi = p["soc_min"] / 100.0 * p["capacity"], p["soc_max"] / 100.0 * p["capacity"]
    ac, dc, soc = np.zeros_like(target_ac), np.zeros_like(target_ac), np.zeros_like(target_ac)
    for k, want in enumerate(target_ac):
        want = float(np.clip(want, -p["charge"], p["power"]))
        if want > 0:  # discharge: the battery gives more than the grid gets
            drain = want / p["pcs_eta"] / battery_eta * step_h
            if energy - drain < lo:
                want = max(energy - lo, 0.0) * p["pcs_eta"] * battery_eta / step_h
                drain = want / p["pcs_eta"] / battery_eta * step_h
            energy -= drain
            dc[k] = want / p["pcs_eta"]
        elif want < 0:
            store = -want * p["pcs_eta"] * battery_eta * step_h
            if energy + store > hi:
                want = -max(hi - energy, 0.0) / (p["pcs_eta"] * battery_eta * step_h)
                store = -want * p["pcs_eta"] * battery_eta * step_h
            energy += store
            dc[k] = want * p["pcs_eta"]
        ac[k] = want
        soc[k] = energy / p["capacity"] * 100.0
    return ac, dc, soc


def _mode(dc: np.ndarray) -> np.ndarray:
    return np.where(dc > 0.5, BatteryMode.DISCHARGING, np.where(dc < -0.5, BatteryMode.CHARGING, BatteryMode.STANDBY))


def _cumulative(power: np.ndarray, step_h: float, base: float) -> np.ndarray:
    return base + np.cumsum(np.clip(power, 0.0, None) * step_h)


def _meters(meters, *, pv, battery, aux, frequency, noise, step_h: float, start: datetime, emit) -> int:
    """The grid (PV + battery - aux, + export), aux and PV meters; how many were simulated."""
    done = 0
    size = len(pv)
    for meter in meters:
        role = meter_role(meter)
        power = {MeterRole.AUX: aux, MeterRole.PV: pv, MeterRole.GRID: pv + battery - aux}.get(role)
        if power is None:
            continue
        volts = 230.0 + 2.0 * noise.ar1(f"{meter.serial_number}:v", phi=0.99)
        series = {"ac_power": power, "frequency": frequency, "power_factor": np.full(size, 0.99)}
        series["apparent_power"] = np.abs(power) / 0.99
        series["reactive_power"] = series["apparent_power"] * math.sqrt(1 - 0.99**2)
        for n in (1, 2, 3):
            series[f"ac_voltage_l{n}"] = volts + 0.5 * n
            series[f"ac_current_l{n}"] = np.abs(power) * 1000.0 / (3 * 230.0)
        if role == MeterRole.AUX:
            series["import_energy"] = _cumulative(aux, step_h, _last_counter(meter, "import_energy", start))
        emit(meter, series)
        done += 1
    return done


def storage_simulate(
    *,
    plant: Plant,
    start: datetime,
    end: datetime,
    step_minutes: int = 5,
    rack_step_minutes: int = 15,
    seed: int = 42,
    faults: bool = True,
    fold: bool = True,
    now: datetime | None = None,
) -> StorageSimulation:
    """Simulate and store the plant's storage devices for ``start <= ts < end`` (capped at now)."""
    now = now or timezone.now()
    end = min(end, now + timedelta(microseconds=1))
    result = StorageSimulation(plant_code=plant.plant_code)
    units = list(
        Device.objects.filter(plant=plant, type=DeviceType.BESS).select_related("bess_datasheet").order_by("id")
    )
    if end <= start or not units:
        return result
    tz = ZoneInfo(plant.timezone)
    grid = day_grid(
        first_day=start.astimezone(tz).date(),
        last_day=(end - timedelta(microseconds=1)).astimezone(tz).date(),
        tz=plant.timezone,
        step_minutes=step_minutes,
    )
    noise = Noise(seed=seed, plant_code=f"{plant.plant_code}:storage", grid=grid)
    times = list(grid.times.to_pydatetime())
    window = np.asarray((grid.times >= start) & (grid.times < end))
    local = grid.times.tz_convert(plant.timezone)
    hours = np.asarray(local.hour + local.minute / 60.0, dtype=float)
    rack_keep = np.asarray((local.minute % rack_step_minutes) == 0)
    step_h = step_minutes / 60.0
    pcs_list = list(
        Device.objects.filter(plant=plant, type=DeviceType.PCS).select_related("pcs_datasheet").order_by("id")
    )
    meters = list(Device.objects.filter(plant=plant, type=DeviceType.METER).select_related("meter_datasheet"))
    nominal = StorageTariff.objects.filter(plant=plant).values_list("nominal_frequency_hz", flat=True).first() or 60.0
    frequency = nominal + 0.02 * noise.ar1("frequency", phi=0.9)
    pv = _pv_kw(plant, times, times[0], times[-1] + timedelta(minutes=step_minutes))
    award, regulation = _blocks(plant, times, hours)
    heat = 0.5 + 0.5 * np.cos((hours - 15.0) / 24.0 * 2 * math.pi)  # 1 at 15:00, 0 at 03:00
    catalog = metric_catalog()
    rows: list[tuple[int, int, datetime, float]] = []
    times_arr = np.array(times, dtype=object)

    def emit(device: Device, series: dict[str, np.ndarray], keep: np.ndarray = window) -> None:
        for key, values in series.items():
            spec = catalog[key]
            positions = np.flatnonzero(keep)
            picked = np.clip(values[positions], spec.low, spec.high) if spec.low is not None else values[positions]
            rows.extend(zip(repeat(device.pk), repeat(spec.id), times_arr[positions], np.round(picked, 4).tolist()))
        if len(rows) >= CHUNK_ROWS:
            result.rows_written += store_rows(rows)
            rows.clear()

    total_ac = np.zeros(grid.size)
    total_capacity = 0.0
    for index, unit in enumerate(units):
        pcs = next((p for p in pcs_list if p.pk == unit.parent_id), pcs_list[index] if index < len(pcs_list) else None)
        params = _unit_params(unit, pcs)
        total_capacity += params["capacity"]
        share = 1.0 / len(units)
        target = np.zeros(grid.size)
        charging = (hours >= 10) & (hours < 14)
        target[charging] = -np.minimum(params["charge"], 0.6 * pv[charging] * share + 0.3 * params["charge"])
        regulating = (hours >= 14) & (hours < 16)
        deviation = (nominal - frequency) / 0.02
        target[regulating] = 0.3 * params["power"] * np.clip(deviation[regulating], -1, 1)
        evening = (hours >= 18) & (hours < 21)
        target[evening] = 0.8 * params["power"]
        awarded = award > 0
        sign = np.where(deviation >= 0, 1.0, -1.0)
        jitter = noise.white(f"{unit.serial_number}:award")
        scale = np.where(regulation, 0.95 + 0.03 * jitter, 0.99 + 0.005 * jitter)  # regulation tracks less exactly
        target[awarded] = np.where(regulation[awarded], sign[awarded], 1.0) * award[awarded] * share * scale[awarded]
        ac, dc, soc = _integrate(target, params, step_h, soc0=(params["soc_min"] + params["soc_max"]) / 2)
        total_ac += ac
        voltage = params["voltage"] * (0.95 + 0.1 * soc / 100.0)
        current = dc * 1000.0 / voltage
        day_index = np.array([(moment.date() - grid.days[0][0]).days for moment in local])
        soh = 99.5 - 0.003 * day_index
        mode = _mode(dc).astype(float)
        temp = 24.0 + 6.0 * heat + 8.0 * np.abs(dc) / params["power"]
        emit(
            unit,
            {
                "soc": soc, "soh": soh, "battery_power": dc, "battery_voltage": voltage, "battery_current": current,
                "battery_mode": mode, "cell_temp_max": temp + 2.0,
                "charge_energy": _cumulative(-dc, step_h, _last_counter(unit, "charge_energy", start)),
                "discharge_energy": _cumulative(dc, step_h, _last_counter(unit, "discharge_energy", start)),
            },
        )  # fmt: skip
        result.devices += 1
        if pcs is not None:
            reactive = 0.02 * params["power"] * noise.ar1(f"{pcs.serial_number}:q", phi=0.9)
            emit(
                pcs,
                {
                    "ac_power": ac, "reactive_power": reactive, "apparent_power": np.hypot(ac, reactive),
                    "power_factor": np.abs(ac) / np.maximum(np.hypot(ac, reactive), 1e-9),
                    "frequency": frequency, "pcs_dc_power": dc, "pcs_dc_voltage": voltage,
                    "internal_temp": 30.0 + 5.0 * heat + 10.0 * np.abs(ac) / params["power"],
                    "charge_energy": _cumulative(-ac, step_h, _last_counter(pcs, "charge_energy", start)),
                    "discharge_energy": _cumulative(ac, step_h, _last_counter(pcs, "discharge_energy", start)),
                    **{f"pcs_{w}": np.zeros(grid.size) for w in ("inverter_status", "warning_status", "grid_status",
                                                                 "fault_status1", "fault_status2")},
                },
            )  # fmt: skip
            result.devices += 1
        racks = list(Device.objects.filter(parent=unit, type=DeviceType.BESS_RACK).order_by("id"))
        for r, rack in enumerate(racks):
            offset = (r - len(racks) / 2) * 0.15
            rack_current = current / max(len(racks), 1) * (1 + 0.01 * noise.white(f"{rack.serial_number}:i"))
            cell_avg = 3.2 + 0.15 * soc / 100.0 + 0.0004 * rack_current
            spread = 0.012 + 0.00015 * np.abs(rack_current) + 0.002 * np.abs(noise.white(f"{rack.serial_number}:v"))
            rack_temp = temp + 0.3 * r + 0.5 * noise.ar1(f"{rack.serial_number}:t", phi=0.95)
            rack_mode = mode.copy()
            if faults and index == len(units) - 1 and r == len(racks) - 1:
                tripped = (day_index == 0) & (hours >= FAULT_HOURS[0]) & (hours < FAULT_HOURS[1])
                rack_temp = np.where(tripped, 62.0, rack_temp)
                rack_mode = np.where(tripped, float(BatteryMode.FAULT), rack_mode)
                rack_current = np.where(tripped, 0.0, rack_current)
                if tripped[window].any():
                    result.faults.append(f"{rack.name} ({rack.serial_number}) cell over-temperature trip")
            rng = noise.generator(f"{rack.serial_number}:ids")
            emit(
                rack,
                {
                    "soc": np.clip(soc + offset, 0, 100), "soh": soh - 0.05 * r, "battery_voltage": voltage,
                    "battery_current": rack_current, "battery_power": rack_current * voltage / 1000.0,
                    "battery_mode": rack_mode, "cell_voltage_avg": cell_avg,
                    "cell_voltage_max": cell_avg + spread / 2, "cell_voltage_min": cell_avg - spread / 2,
                    "cell_voltage_max_id": np.full(grid.size, float(rng.integers(1, CELLS_IN_SERIES))),
                    "cell_voltage_min_id": np.full(grid.size, float(rng.integers(1, CELLS_IN_SERIES))),
                    "cell_temp_max": rack_temp, "cell_temp_min": rack_temp - 4.0,
                    "cell_temp_max_id": np.full(grid.size, float(rng.integers(1, CELLS_IN_SERIES))),
                    "module_temp_max": rack_temp - 1.0, "module_temp_min": rack_temp - 5.0,
                    "bams_status": np.zeros(grid.size),
                },
                window & rack_keep,
            )  # fmt: skip
            result.devices += 1
    aux_kw = 0.01 * total_capacity * (0.6 + 0.8 * heat) + 0.5 * noise.ar1("aux", phi=0.9)
    result.devices += _meters(meters, pv=pv, battery=total_ac, aux=aux_kw, frequency=frequency, noise=noise,
                              step_h=step_h, start=start, emit=emit)  # fmt: skip
    if rows:
        result.rows_written += store_rows(rows)
    if fold and result.rows_written:
        result.rollups = telemetry_fold_rollups()
    return result
