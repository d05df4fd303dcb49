"""What each simulated device reports, as ``{metric key: array over the grid}``; NaN means "no
reading at that timestamp" (night for DC-side measurements, the outage's silent gap).

Counters (``energy_total``, ``export_energy``, ``import_energy``) are returned counted from zero
at the grid's first sample; the service adds each device's stored (or synthetic) baseline.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .faults import GROUND_FAULT_BIT, FaultPlan
from .layout import InverterLayout, Module, PlantLayout, PvResult
from .signals import DayGrid, Noise, cumulative_energy, energy_today, lag_per_day

# SunSpec St (domain.md)
SLEEPING, MPPT, THROTTLED, FAULT = 2, 4, 5, 7
WAKE_FRACTION = 0.002  # the inverter wakes above 0.2 % of its DC nameplate
LOW_LIGHT_VMP = 0.045  # Vmp falls ~4.5 % per e-fold of irradiance below 1,000 W/m² (empirical)
LOW_LIGHT_VOC = 0.03

Series = dict[str, np.ndarray]


@dataclass(frozen=True)
class Context:
    """Everything shared by the devices of one plant run."""

    grid: DayGrid
    noise: Noise
    layout: PlantLayout
    pv: PvResult
    weather: pd.DataFrame
    faults: FaultPlan
    frequency: np.ndarray  # the plant's grid frequency, Hz
    grid_voltage: np.ndarray  # slow relative grid-voltage wander (unit variance)


@dataclass(frozen=True)
class InverterState:
    """An inverter's power after faults, shared by its own readings, its boxes and the meter."""

    dc_kw: np.ndarray
    ac_kw: np.ndarray
    awake: np.ndarray  # bool: DC side live (MPPT/throttled)
    tripped: np.ndarray  # bool: outage
    v_string: np.ndarray  # V at MPP of one string
    v_open: np.ndarray  # V open-circuit of one string


def _string_voltages(*, inv: InverterLayout, module: Module, pv: PvResult) -> tuple[np.ndarray, np.ndarray]:
    irradiance = np.clip(pv.effective_irradiance, 20.0, None) / 1000.0
    delta_t = pv.cell_temperature - 25.0
    panels = inv.panels_per_string
    v_mp = panels * module.v_mp * (1 + module.beta_vmp * delta_t) * (1 + LOW_LIGHT_VMP * np.log(irradiance))
    v_oc = panels * module.v_oc * (1 + module.beta_voc * delta_t) * (1 + LOW_LIGHT_VOC * np.log(irradiance))
    return np.clip(v_mp, 1.0, None), np.clip(v_oc, 1.0, None)


def inverter_state(*, index: int, ctx: Context) -> InverterState:
    inv = ctx.layout.inverters[index]
    dc_kw = ctx.pv.dc_w[index] / 1000.0
    ac_kw = np.minimum(ctx.pv.ac_w[index] / 1000.0, dc_kw)
    tripped = ctx.faults.outage if ctx.faults.outage_inverter == index else np.zeros(ctx.grid.size, dtype=bool)
    dc_kw = np.where(tripped, 0.0, dc_kw)
    ac_kw = np.where(tripped, 0.0, ac_kw)
    awake = (dc_kw > WAKE_FRACTION * inv.pdc0_w / 1000.0) & (ac_kw > 0)
    ac_kw = np.where(awake, ac_kw, 0.0)
    dc_kw = np.where(awake, dc_kw, 0.0)
    v_string, v_open = _string_voltages(inv=inv, module=ctx.layout.module, pv=ctx.pv)
    return InverterState(dc_kw=dc_kw, ac_kw=ac_kw, awake=awake, tripped=tripped, v_string=v_string, v_open=v_open)


def inverter_series(*, index: int, state: InverterState, ctx: Context) -> Series:
    """SunSpec-style inverter readings. Night: zero power, SLEEPING, counters and cabinet
    temperature only (no MPPT or grid measurements from a sleeping inverter)."""
    inv = ctx.layout.inverters[index]
    serial = inv.device.serial_number
    noise = ctx.noise
    load = state.ac_kw / (inv.ac_rating_w / 1000.0)
    reporting_dc = state.awake | state.tripped
    status = np.where(state.tripped, FAULT, np.where(state.awake, np.where(load >= 0.999, THROTTLED, MPPT), SLEEPING))
    series: Series = {
        "ac_power": state.ac_kw,
        "dc_power": state.dc_kw,
        "energy_total": cumulative_energy(state.ac_kw, grid=ctx.grid),
        "energy_today": energy_today(state.ac_kw, grid=ctx.grid),
        "status_code": status.astype(float),
        "event_bits": np.where(state.tripped, float(1 << GROUND_FAULT_BIT), 0.0),
    }
    ambient = ctx.weather["temp_air"].to_numpy()
    target = ambient + 3.0 + 22.0 * np.power(load, 1.2)
    series["internal_temp"] = lag_per_day(target, grid=ctx.grid, time_constant_minutes=25.0) + 0.2 * noise.white(
        f"{serial}:cabinet"
    )

    total_weight = inv.string_weights.sum()
    offsets = noise.generator(f"{serial}:input-offsets").standard_normal(len(inv.inputs))
    for n, strings in enumerate(inv.inputs, start=1):
        share = inv.string_weights[strings].sum() / total_weight
        voltage = state.v_string * (1 + 0.004 * offsets[n - 1]) * (1 + 0.001 * noise.white(f"{serial}:pv{n}_v"))
        voltage = np.where(state.tripped, state.v_open, voltage)
        current = np.where(state.tripped, 0.0, state.dc_kw * 1000.0 * share / voltage)
        series[f"pv{n}_voltage"] = np.where(reporting_dc, voltage, np.nan)
        series[f"pv{n}_current"] = np.where(reporting_dc, current, np.nan)

    phase_offsets = noise.generator(f"{serial}:phase-offsets").standard_normal(inv.phases)
    for phase in range(1, inv.phases + 1):
        relative = 0.008 * ctx.grid_voltage + 0.012 * load + 0.003 * phase_offsets[phase - 1]
        voltage = inv.v_phase * (1 + relative + 0.002 * noise.white(f"{serial}:l{phase}"))
        series[f"ac_voltage_l{phase}"] = np.where(reporting_dc, voltage, np.nan)
    series["frequency"] = np.where(reporting_dc, ctx.frequency + 0.002 * noise.white(f"{serial}:hz"), np.nan)
    power_factor = 1.0 - 0.04 * np.exp(-load / 0.08) + 0.002 * noise.white(f"{serial}:pf")
    series["power_factor"] = np.where(state.awake, np.clip(power_factor, inv.pf_min, 1.0), np.nan)
    return series


def string_box_series(*, box_index: int, state: InverterState, ctx: Context) -> Series:
    """Per-string currents: the parent inverter's DC current split by each string's weight (the
    weak string carries 70 %), with 0.5 % measurement noise. Zero while the inverter is tripped,
    nothing at night."""
    box = ctx.layout.boxes[box_index]
    inv = ctx.layout.inverters[box.inverter]
    total_weight = inv.string_weights.sum()
    string_current = state.dc_kw * 1000.0 / state.v_string / total_weight  # A per unit weight
    reporting = state.awake | state.tripped
    series: Series = {}
    for n, string in enumerate(box.strings, start=1):
        measured = (
            string_current
            * inv.string_weights[string]
            * (1 + 0.005 * ctx.noise.white(f"{box.device.serial_number}:s{n}"))
        )
        series[f"string{n}_current"] = np.where(reporting, np.where(state.tripped, 0.0, measured), np.nan)
    return series


def weather_station_series(*, station_index: int, ctx: Context) -> Series:
    """POA from the model chain (the station's sensor sits in the array plane), GHI, cell
    temperature as module temperature, ambient temperature and wind, with sensor noise. The
    first station's module-temperature sensor is the one that gets stuck."""
    serial = ctx.layout.weather_stations[station_index].serial_number
    noise = ctx.noise
    poa = ctx.pv.poa_global * (1 + 0.01 * noise.white(f"{serial}:poa"))
    ghi = ctx.weather["ghi"].to_numpy() * (1 + 0.01 * noise.white(f"{serial}:ghi"))
    module_temp = ctx.pv.cell_temperature + 0.3 * noise.white(f"{serial}:tmod")
    if station_index == 0 and ctx.faults.stuck.any():
        first = int(np.flatnonzero(ctx.faults.stuck)[0])
        module_temp = np.where(ctx.faults.stuck, module_temp[first], module_temp)
    wind = ctx.weather["wind_speed"].to_numpy() * (1 + 0.15 * noise.white(f"{serial}:wind"))
    return {
        "irradiance_poa": np.clip(poa, 0.0, None),
        "irradiance_ghi": np.clip(ghi, 0.0, None),
        "module_temp": module_temp,
        "ambient_temp": ctx.weather["temp_air"].to_numpy() + 0.2 * noise.white(f"{serial}:tamb"),
        "wind_speed": np.clip(wind, 0.0, None),
    }


def house_load_kw(*, ctx: Context) -> np.ndarray:
    """A small site load (house, building or plant auxiliaries): 1.5 % of the plant's AC rating
    around the clock plus 2.5 % in a daytime bump, wandering ±8 %."""
    rating_kw = sum(inv.ac_rating_w for inv in ctx.layout.inverters) / 1000.0 or ctx.layout.plant.total_power_output_kw
    local = ctx.grid.times.tz_convert(ctx.grid.tz)
    hour = local.hour.to_numpy() + local.minute.to_numpy() / 60.0
    bump = np.exp(-(((hour - 13.0) / 4.0) ** 2))
    wander = 1 + 0.08 * ctx.noise.ar1("house-load", phi=0.97)
    return np.clip(rating_kw * (0.015 + 0.025 * bump) * wander, 0.0, None)


def meter_series(*, meter_index: int, plant_ac_kw: np.ndarray, load_kw: np.ndarray, ctx: Context) -> Series:
    """The grid meter at the point of connection: plant AC output minus the site load, split
    into export and import, with their cumulative counters."""
    serial = ctx.layout.meters[meter_index].serial_number
    net = plant_ac_kw - load_kw * (1 + 0.002 * ctx.noise.white(f"{serial}:net"))
    export = np.clip(net, 0.0, None)
    imported = np.clip(-net, 0.0, None)
    return {
        "export_power": export,
        "import_power": imported,
        "export_energy": cumulative_energy(export, grid=ctx.grid),
        "import_energy": cumulative_energy(imported, grid=ctx.grid),
    }
