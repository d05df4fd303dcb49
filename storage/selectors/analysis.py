"""Seed 003's analysis views: power loss and efficiency per day, charge/discharge energy per
hour or day, and the frequency/power chart with the nominal baseline.

Charge and discharge energy are the advance of the PCS ``charge_energy`` / ``discharge_energy``
counters (AC side) per plant-local day; within a day (``power-io`` daily) they are the 5-minute
PCS power integral split by sign (a bucket with negative mean power charges). Loss = charge -
discharge; efficiency = discharge / charge x 100; aux consumption = the aux meters'
``import_energy`` advance.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from plants.choices import DeviceType, MeterRole
from plants.models import Plant
from telemetry.rollups.buckets import local_day_bounds

from ..models import StorageTariff
from .common import FIVE_MINUTES, counter_by_day, meters_by_role, plant_devices, plant_tz, power_series

_BUCKET_HOURS = FIVE_MINUTES.total_seconds() / 3600.0


def _r(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)


def _efficiency(charge: float | None, discharge: float | None) -> float | None:
    return discharge / charge * 100.0 if charge and discharge is not None else None


def _pcs_ids(plant: Plant) -> list[int]:
    return list(plant_devices(plant, DeviceType.PCS).values_list("id", flat=True))


def power_loss(*, plant: Plant, first: date, days: int) -> dict:
    tz = plant_tz(plant)
    last = first + timedelta(days=days - 1)
    pcs = _pcs_ids(plant)
    charge = counter_by_day(device_ids=pcs, key="charge_energy", first=first, last=last, tz=tz)
    discharge = counter_by_day(device_ids=pcs, key="discharge_energy", first=first, last=last, tz=tz)
    aux_ids = [m.pk for m in meters_by_role(plant, MeterRole.AUX)]
    aux = counter_by_day(device_ids=aux_ids, key="import_energy", first=first, last=last, tz=tz)
    rows = []
    for day in charge:
        c, d = charge[day], discharge[day]
        rows.append(
            {
                "date": day,
                "charge_energy": _r(c),
                "discharge_energy": _r(d),
                "loss": _r(c - d) if c is not None and d is not None else None,
                "efficiency": _r(_efficiency(c, d), 2),
                "aux_consumption": _r(aux[day]),
            }
        )
    total_c = sum(v for v in charge.values() if v is not None)
    total_d = sum(v for v in discharge.values() if v is not None)
    return {
        "plant_id": plant.pk,
        "start_date": first,
        "timezone": plant.timezone,
        "daily_data": rows,
        "total_discharge": _r(total_d),
        "total_charge": _r(total_c),
        "total_loss": _r(total_c - total_d),
        "avg_efficiency": _r(_efficiency(total_c, total_d), 2),
        "total_aux": _r(sum(v for v in aux.values() if v is not None)),
    }


def power_io(*, plant: Plant, day: date, data_type: str) -> dict:
    """``daily``: per plant-local hour of ``day``; ``monthly``: per day of ``day``'s month."""
    tz = plant_tz(plant)
    pcs = _pcs_ids(plant)
    rows = []
    if data_type == "daily":
        start, end = local_day_bounds(day, tz)
        series = power_series(device_ids=pcs, key="ac_power", start=start, end=end, tz=tz)
        hours: dict[datetime, list[float]] = {}
        moment = start
        while moment < end:
            hours[moment] = [0.0, 0.0]
            moment += timedelta(hours=1)
        for epoch, kw in series.items():
            moment = datetime.fromtimestamp(epoch, start.tzinfo)
            slot = hours[start + timedelta(hours=int((moment - start).total_seconds() // 3600))]
            slot[0 if kw < 0 else 1] += abs(kw) * _BUCKET_HOURS
        for moment, (charged, discharged) in hours.items():
            rows.append(
                {
                    "time": moment,
                    "label": f"{moment.astimezone(tz):%H:00}",
                    "charge_energy": _r(charged),
                    "discharge_energy": _r(discharged),
                }
            )
    else:
        first = day.replace(day=1)
        last = (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
        charge = counter_by_day(device_ids=pcs, key="charge_energy", first=first, last=last, tz=tz)
        discharge = counter_by_day(device_ids=pcs, key="discharge_energy", first=first, last=last, tz=tz)
        for each in charge:
            rows.append(
                {
                    "time": local_day_bounds(each, tz)[0],
                    "label": f"{each:%Y-%m-%d}",
                    "charge_energy": _r(charge[each]),
                    "discharge_energy": _r(discharge[each]),
                }
            )
    total_c = sum(row["charge_energy"] or 0.0 for row in rows)
    total_d = sum(row["discharge_energy"] or 0.0 for row in rows)
    return {
        "plant_id": plant.pk,
        "select_time": day,
        "data_type": data_type,
        "timezone": plant.timezone,
        "data": rows,
        "total_charge": _r(total_c),
        "total_discharge": _r(total_d),
        "efficiency": _r(_efficiency(total_c, total_d), 2),
    }


def freq_power(*, plant: Plant, period_minutes: int, end: datetime, select_time: datetime | None, mode: str) -> dict:
    """The ``period_minutes`` before ``end``: the grid meters' 5-minute mean ``frequency`` (the
    PCS's when the plant has no grid meter), Σ PCS mean ``ac_power``, and the tariff's nominal
    frequency as baseline (empty without a tariff)."""
    tz = plant_tz(plant)
    start = end - timedelta(minutes=period_minutes)
    grid = [m.pk for m in meters_by_role(plant, MeterRole.GRID)]
    pcs = _pcs_ids(plant)
    source = grid or pcs
    frequency = power_series(device_ids=source, key="frequency", start=start, end=end, tz=tz)
    frequency = {epoch: value / len(source) for epoch, value in frequency.items()}  # mean, not sum
    power = power_series(device_ids=pcs, key="ac_power", start=start, end=end, tz=tz)
    nominal = StorageTariff.objects.filter(plant=plant).values_list("nominal_frequency_hz", flat=True).first()
    epochs = sorted(set(frequency) | set(power))
    return {
        "plant_id": plant.pk,
        "date_period": period_minutes,
        "select_time": select_time,
        "select_mode": mode,
        "start": start,
        "end": end,
        "nominal_frequency": nominal,
        "frequency_data": [[e * 1000, round(frequency[e], 4)] for e in epochs if e in frequency],
        "power_data": [[e * 1000, round(power[e], 3)] for e in epochs if e in power],
        "baseline_data": [[e * 1000, nominal] for e in epochs] if nominal is not None else [],
    }
