"""The KPI engine: IEC 61724-1:2021 performance figures of a plant over plant-local days,
from our own stored data (see :mod:`.compute` for the definitions, :mod:`.inputs` for the
reads). :func:`plant_kpis` is what the KPI endpoint answers and what reports render."""

from __future__ import annotations

from datetime import date, timedelta

from plants.models import Plant
from telemetry.rollups.buckets import local_day_start

from .cache import kpi_days_read
from .compute import COMPLETENESS_MIN, G_STC, STANDARD, DayFigures, Sums, day_figures, period_kpis
from .inputs import (
    NO_IRRADIANCE,
    NO_STATION,
    POA_THRESHOLD_W_M2,
    KpiFacts,
    KpiInputs,
    alarms_read,
    kpi_facts_read,
    kpi_inputs_read,
    model_error_reason,
)

MAX_DAYS = 731  # two years

__all__ = ["MAX_DAYS", "KpiInputs", "kpi_facts_read", "kpi_inputs_read", "loss_waterfall", "plant_kpis"]


def _month_label(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def loss_waterfall(*, expected_kwh: float | None, measured_kwh: float | None, downtime_kwh: float,
                   shading_kwh: float | None) -> dict:  # fmt: skip
    """Expected energy (plant model on measured weather) → shading (when a shadow run exists) →
    downtime (alarms' lost energy) → underperformance (the rest) → measured."""
    if expected_kwh is None or measured_kwh is None:
        return {"expected_kwh": expected_kwh, "shading_kwh": shading_kwh, "downtime_kwh": round(downtime_kwh, 3),
                "underperformance_kwh": None, "measured_kwh": measured_kwh, "steps": []}  # fmt: skip
    shading = shading_kwh or 0.0
    under = expected_kwh - shading - downtime_kwh - measured_kwh
    steps = [{"label": "Expected", "kwh": round(expected_kwh, 3)}]
    if shading_kwh is not None:
        steps.append({"label": "Shading", "kwh": round(-shading, 3)})
    steps += [
        {"label": "Downtime", "kwh": round(-downtime_kwh, 3)},
        {"label": "Underperformance", "kwh": round(-under, 3)},
        {"label": "Measured", "kwh": round(measured_kwh, 3)},
    ]
    return {
        "expected_kwh": round(expected_kwh, 3),
        "shading_kwh": None if shading_kwh is None else round(shading, 3),
        "downtime_kwh": round(downtime_kwh, 3),
        "underperformance_kwh": round(under, 3),
        "measured_kwh": round(measured_kwh, 3),
        "steps": steps,
    }


def _expected_reason(facts: KpiFacts, per_day: dict[date, DayFigures]) -> str | None:
    if facts.model_error is not None:
        return model_error_reason(facts.model_error)
    if not facts.stations:
        return NO_STATION
    if not any(figures.sums.expected_seen for figures in per_day.values()):
        return NO_IRRADIANCE
    return None


def plant_kpis(*, plant: Plant, start: date, end: date, granularity: str = "day",
               inputs: KpiInputs | None = None) -> dict:  # fmt: skip
    """KPIs of the plant-local days ``start..end`` (inclusive), per ``day`` or ``month`` and in
    total, per inverter, with the loss waterfall and data completeness.

    Without ``inputs`` the days come from the KPI day cache (:mod:`.cache`: kept where still
    true, computed and kept otherwise); with them (a report, which charts the same data) they are
    computed from those inputs. The alarms' lost energy is read fresh either way."""
    from reports.selectors import shading_loss_kwh

    if inputs is not None:
        facts: KpiFacts = inputs
        per_day = day_figures(inputs)
        alarms = inputs.alarms
    else:
        facts = kpi_facts_read(plant=plant)
        per_day = kpi_days_read(facts=facts, start=start, end=end)
        lo, hi = local_day_start(start, facts.tz), local_day_start(end + timedelta(days=1), facts.tz)
        alarms = alarms_read(plant=plant, lo=lo, hi=hi, tz=facts.tz)
    tz = facts.tz
    for alarm in alarms:
        if alarm["lost_energy_kwh"] and alarm["day"] in per_day:
            per_day[alarm["day"]].sums.lost_kwh += alarm["lost_energy_kwh"]
    expected_reason = _expected_reason(facts, per_day)
    has_expected = expected_reason is None
    groups: dict[str, tuple[date, date, Sums]] = {}
    total = Sums()
    for day, figures in per_day.items():
        label = day.isoformat() if granularity == "day" else _month_label(day)
        first, last, acc = groups.get(label, (day, day, Sums()))
        acc.add(figures.sums)
        groups[label] = (min(first, day), max(last, day), acc)
        total.add(figures.sums)

    def kpis(label: str, first: date, last: date, sums: Sums) -> dict:
        return period_kpis(
            sums,
            facts=facts,
            has_expected=has_expected,
            label=label,
            start=local_day_start(first, tz),
            end=local_day_start(last + timedelta(days=1), tz),
        )

    totals = kpis(f"{start.isoformat()}/{end.isoformat()}", start, end, total)
    inverters = []
    for pk, name in facts.inverters:
        days = [figures.inverters.get(pk, (None, 0)) for figures in per_day.values()]
        seen = any(energy is not None for energy, _available in days)
        energy = sum(energy or 0.0 for energy, _available in days)
        lost = sum(a["lost_energy_kwh"] or 0.0 for a in alarms if a["device_id"] == pk)
        available = sum(available for _energy, available in days)
        inverters.append(
            {
                "device_id": pk,
                "name": name,
                "energy_kwh": round(energy, 3) if seen else None,
                "lost_energy_kwh": round(lost, 3),
                "availability_time": None if not total.sunny else round(available / total.sunny, 4),
                "availability_energy": round(energy / (energy + lost), 4) if seen and energy + lost > 0 else None,
                "sunny_slots": total.sunny,
                "available_slots": available,
            }
        )
    shading = shading_loss_kwh(plant=plant, start=totals["start"], end=totals["end"])
    notes = []
    if expected_reason:
        notes.append(f"Expected energy unavailable: {expected_reason}")
    if facts.gamma_per_c is None:
        notes.append("Temperature-corrected PR needs the panel spec's Pmax temperature coefficient.")
    if not facts.stations:
        notes.append("The plant has no weather station: no irradiance, so no reference yield or PR.")
    return {
        "plant_id": plant.pk,
        "plant_name": plant.name,
        "timezone": plant.timezone,
        "start": start,
        "end": end,
        "granularity": granularity,
        "standard": STANDARD,
        "capacity_dc_kwp": plant.total_power_output_kw,
        "gamma_pct_per_c": None if facts.gamma_per_c is None else round(facts.gamma_per_c * 100, 4),
        "g_stc_w_m2": G_STC,
        "poa_threshold_w_m2": POA_THRESHOLD_W_M2,
        "completeness_min": COMPLETENESS_MIN,
        "periods": [kpis(label, first, last, sums) for label, (first, last, sums) in groups.items()],
        "total": totals,
        "inverters": inverters,
        "losses": loss_waterfall(
            expected_kwh=totals["expected_energy_kwh"],
            measured_kwh=totals["energy_kwh"],
            downtime_kwh=total.lost_kwh,
            shading_kwh=shading,
        ),
        "notes": notes,
    }
