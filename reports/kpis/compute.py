"""IEC 61724-1:2021 KPIs from :class:`~reports.kpis.inputs.KpiInputs`, per plant-local day,
per month and in total (docs/kpis.md has the definitions; domain.md the formulas).

Every period is first reduced to additive sums (:class:`Sums`), so months and the total are
exact sums of days — never averages of daily ratios — and ratios are taken last:

* ``Yr = H_POA / G_STC`` (h), ``H_POA = Σ G_k · τ`` over 5-minute slots (``G_STC`` 1 kW/m²).
* ``Yf = E_AC / P0`` (kWh/kWp) with ``P0`` the STC DC nameplate, ``E_AC`` the inverters'
  ``energy_produced`` (their counters where present, else integrated power).
* ``PR = Yf / Yr``.
* ``PR_STC = Σ P_k τ / Σ (C_k · P0 · G_k / G_STC · τ)``, ``C_k = 1 + gamma (T_mod,k - 25 °C)``,
  over slots with power, POA and module temperature (each slot weighted by its irradiance,
  as the standard's sum does).
* Capacity factor (DC basis) ``E_AC / (P0 · hours of the period)`` — 23 or 25 h on DST days.
* Time-based availability: sunny slots (POA > 50 W/m²) in which an inverter reported and was
  not in FAULT / (inverters x sunny slots). Energy-based: ``E / (E + E_lost)`` with
  ``E_lost`` the alarms' lost energy (from the forecasting app's expected power).
* Completeness per KPI: share of the daylight slots (sun above the horizon) with the KPI's
  inputs; a KPI computed from less than 90 % is listed in ``flagged``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, date, datetime

import numpy as np

from .inputs import POA_THRESHOLD_W_M2, SLOT_S, KpiFacts, KpiInputs

G_STC = 1000.0  # W/m²
T_STC = 25.0  # °C
COMPLETENESS_MIN = 0.9
TAU_H = SLOT_S / 3600.0
STANDARD = "IEC 61724-1:2021"


@dataclass
class Sums:
    """Additive figures of a period (a day, a month, the whole range)."""

    seconds: float = 0.0
    daylight: int = 0  # daylight 5-minute slots
    energy_kwh: float = 0.0
    energy_seen: bool = False
    poa_wh_m2: float = 0.0  # Σ G_k τ (Wh/m²)
    poa_daylight: int = 0  # daylight slots with POA
    reporting_daylight: int = 0  # Σ inverters reporting over daylight slots
    inverter_slots: int = 0  # inverters x daylight slots
    stc_num: float = 0.0
    stc_den: float = 0.0
    stc_daylight: int = 0
    sunny: int = 0  # slots with POA above the threshold
    available: int = 0  # Σ inverters' available sunny slots
    sunny_inverter_slots: int = 0
    lost_kwh: float = 0.0
    export_kwh: float = 0.0
    export_seen: bool = False
    export_slots: int = 0
    export_expected_slots: int = 0
    expected_kwh: float = 0.0
    expected_seen: bool = False
    peak_kw: float | None = None
    peak_at: int | None = None

    def add(self, other: Sums) -> None:
        for item in fields(self):
            name = item.name
            if name in ("peak_kw", "peak_at"):
                continue
            mine, theirs = getattr(self, name), getattr(other, name)
            setattr(self, name, (mine or theirs) if isinstance(mine, bool) else mine + theirs)
        if other.peak_kw is not None and (self.peak_kw is None or other.peak_kw > self.peak_kw):
            self.peak_kw, self.peak_at = other.peak_kw, other.peak_at


@dataclass
class DayFigures:
    """A plant-local day's sums and, per inverter, its energy (kWh; None: no energy rollup)
    and its available sunny slots. What the KPI day cache keeps (without the alarms' lost
    energy, which is read fresh)."""

    sums: Sums
    inverters: dict[int, tuple[float | None, int]] = field(default_factory=dict)

    def as_json(self) -> dict:
        sums = asdict(self.sums)
        sums.pop("lost_kwh")
        return {"sums": sums, "inverters": {str(pk): list(value) for pk, value in self.inverters.items()}}

    @classmethod
    def from_json(cls, data: dict) -> DayFigures:
        return cls(
            sums=Sums(**data["sums"]),
            inverters={int(pk): (value[0], value[1]) for pk, value in data["inverters"].items()},
        )


def _ratio(num: float, den: float) -> float | None:
    return None if den <= 0 else num / den


def _r(value: float | None, digits: int) -> float | None:
    return None if value is None else round(float(value), digits)


def day_figures(inputs: KpiInputs) -> dict[date, DayFigures]:
    """The additive figures of every day of the range (lost energy left at 0: the alarms')."""
    n_inv = len(inputs.inverters)
    bounds = np.searchsorted(inputs.grid, inputs.day_starts)
    power_valid = ~np.isnan(inputs.power_kw)
    poa_valid = ~np.isnan(inputs.poa)
    temp_valid = ~np.isnan(inputs.module_temp)
    sunny_all = np.nan_to_num(inputs.poa, nan=0.0) > POA_THRESHOLD_W_M2
    result: dict[date, DayFigures] = {}
    for index, day in enumerate(inputs.days):
        lo, hi = bounds[index], bounds[index + 1]
        part = slice(lo, hi)
        daylight = inputs.daylight[part]
        sums = Sums(seconds=float(inputs.day_starts[index + 1] - inputs.day_starts[index]))
        sums.daylight = int(daylight.sum())
        poa = inputs.poa[part]
        sums.poa_wh_m2 = float(np.nansum(np.clip(poa, 0.0, None))) * TAU_H
        sums.poa_daylight = int((poa_valid[part] & daylight).sum())
        sums.reporting_daylight = int(np.minimum(inputs.reporting[part][daylight], n_inv).sum())
        sums.inverter_slots = n_inv * sums.daylight
        energies = [inputs.inverter_energy.get((pk, day)) for pk, _ in inputs.inverters]
        sums.energy_kwh = float(sum(e[0] for e in energies if e))
        sums.energy_seen = any(energies)
        if inputs.gamma_per_c is not None:
            both = power_valid[part] & poa_valid[part] & temp_valid[part]
            g = np.clip(poa[both], 0.0, None)
            c = 1.0 + inputs.gamma_per_c * (inputs.module_temp[part][both] - T_STC)
            sums.stc_num = float(inputs.power_kw[part][both].sum()) * TAU_H
            sums.stc_den = float((c * inputs.p0_kw * g / G_STC).sum()) * TAU_H
            sums.stc_daylight = int((both & daylight).sum())
        sunny = sunny_all[part]
        sums.sunny = int(sunny.sum())
        sums.sunny_inverter_slots = n_inv * sums.sunny
        available = {pk: min(inputs.available_slots.get((pk, day), 0), sums.sunny) for pk, _ in inputs.inverters}
        sums.available = sum(available.values())
        if day in inputs.export_kwh:
            sums.export_kwh, sums.export_seen = inputs.export_kwh[day], True
        sums.export_slots = inputs.export_slots.get(day, 0)
        sums.export_expected_slots = len(inputs.meters) * round(sums.seconds / SLOT_S)
        if inputs.expected_kwh is not None and day in inputs.expected_kwh:
            sums.expected_kwh, sums.expected_seen = inputs.expected_kwh[day], True
        powers = inputs.power_kw[part]
        if power_valid[part].any():
            at = int(np.nanargmax(powers))
            sums.peak_kw, sums.peak_at = float(powers[at]), int(inputs.grid[lo + at])
        inverters = {
            pk: (None if energy is None else float(energy[0]), available[pk])
            for (pk, _), energy in zip(inputs.inverters, energies, strict=True)
        }
        result[day] = DayFigures(sums=sums, inverters=inverters)
    return result


def _completeness(sums: Sums, *, has_gamma: bool, has_meters: bool, has_expected: bool) -> dict[str, float | None]:
    share = lambda num, den: None if den <= 0 else round(min(1.0, num / den), 4)  # noqa: E731
    irradiance = share(sums.poa_daylight, sums.daylight)
    energy = share(sums.reporting_daylight, sums.inverter_slots)
    both = None if irradiance is None or energy is None else min(irradiance, energy)
    return {
        "energy": energy,
        "irradiance": irradiance,
        "performance_ratio": both,
        "temperature_corrected_pr": share(sums.stc_daylight, sums.daylight) if has_gamma else None,
        "availability": both,
        "export": share(sums.export_slots, sums.export_expected_slots) if has_meters else None,
        "expected_energy": irradiance if has_expected else None,
    }


def period_kpis(sums: Sums, *, facts: KpiFacts, has_expected: bool, label: str, start: datetime, end: datetime) -> dict:
    """The KPIs of one period from its sums (rounded as the API, the XLSX and the CSV show them)."""
    p0 = facts.p0_kw
    h_poa = sums.poa_wh_m2 / 1000.0  # kWh/m²
    yr = h_poa / (G_STC / 1000.0)
    yf = sums.energy_kwh / p0 if sums.energy_seen else None
    pr = _ratio(yf, yr) if yf is not None and sums.poa_daylight else None
    pr_stc = _ratio(sums.stc_num, sums.stc_den) if facts.gamma_per_c is not None else None
    hours = sums.seconds / 3600.0
    completeness = _completeness(
        sums,
        has_gamma=facts.gamma_per_c is not None,
        has_meters=bool(facts.meters),
        has_expected=has_expected,
    )
    flagged = sorted(name for name, value in completeness.items() if value is not None and value < COMPLETENESS_MIN)
    energy = sums.energy_kwh if sums.energy_seen else None
    return {
        "period": label,
        "start": start,
        "end": end,
        "hours": _r(hours, 2),
        "energy_kwh": _r(energy, 3),
        "export_kwh": _r(sums.export_kwh, 3) if sums.export_seen else None,
        "irradiation_kwh_m2": _r(h_poa, 4) if sums.poa_daylight else None,
        "reference_yield_h": _r(yr, 4) if sums.poa_daylight else None,
        "specific_yield_kwh_kwp": _r(yf, 4),
        "performance_ratio": _r(pr, 4),
        "temperature_corrected_pr": _r(pr_stc, 4),
        "capacity_factor": _r(_ratio(energy, p0 * hours), 5) if energy is not None else None,
        "peak_power_kw": _r(sums.peak_kw, 3),
        "peak_power_at": None if sums.peak_at is None else datetime.fromtimestamp(sums.peak_at, UTC),
        "availability_time": _r(_ratio(sums.available, sums.sunny_inverter_slots), 4),
        "availability_energy": _r(_ratio(energy, energy + sums.lost_kwh), 4) if energy is not None else None,
        "lost_energy_kwh": _r(sums.lost_kwh, 3),
        "expected_energy_kwh": _r(sums.expected_kwh, 3) if sums.expected_seen else None,
        "completeness": completeness,
        "flagged": flagged,
    }
