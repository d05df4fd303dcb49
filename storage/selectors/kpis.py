"""Battery KPIs of a plant over plant-local days ``[start, end]`` (README "Battery storage: KPIs").

* Round-trip efficiency: AC = Σ PCS ``discharge_energy`` / Σ PCS ``charge_energy`` advance; DC =
  the same of the BESS units' own counters.
* Equivalent full cycles = DC discharge (AC when the units have no counters) / Σ usable capacity
  (the BESS datasheets' ``usable_capacity_kwh``, else ``energy_rating_kwh``).
* Rainflow cycles (ASTM E1049-85, the ``rainflow`` package) of each unit's 5-minute mean SoC,
  binned by depth of discharge (10-point bins); half cycles count 0.5.
* SoC histogram (10-point bins) of the units' 5-minute means and the share of time above 90 % /
  below 10 %; SoH trend per day (mean of the units' daily mean SoH); cell voltage spread per rack
  and day (max ``cell_voltage_max`` - min ``cell_voltage_min`` in mV); capacity fade = first
  minus last day's SoH, and per 365 days.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta

import rainflow

from plants.choices import DeviceType
from plants.models import Device, Plant
from telemetry.rollups.buckets import local_day_start
from telemetry.rollups.compute import rollups_read_epoch
from telemetry.selectors import metric_info

from .common import counter_by_day, plant_devices, plant_tz

BINS = tuple(range(0, 100, 10))
HIGH_SOC, LOW_SOC = 90.0, 10.0


def _sum(values) -> float | None:
    found = [v for v in values if v is not None]
    return sum(found) if found else None


def _ratio(a: float | None, b: float | None, scale: float = 1.0) -> float | None:
    return round(a / b * scale, 4) if a is not None and b else None


def _bin_of(value: float) -> int:
    return min(int(max(value, 0.0) // 10) * 10, 90)


def _bins(counts: dict[int, float]) -> list[dict]:
    return [
        {"bin": f"{low}-{low + 10}", "low": low, "high": low + 10, "value": round(counts.get(low, 0.0), 4)}
        for low in BINS
    ]


def _reads(device_ids, keys, resolution, start, end, tz):
    info = metric_info()
    ids = {info[k].id: k for k in keys if k in info}
    if not ids or not device_ids:
        return {}
    rows = rollups_read_epoch(
        device_ids=list(device_ids), metric_ids=list(ids), resolution=resolution, start=start, end=end, tz=tz
    )
    found: dict[tuple[int, str], dict[int, object]] = defaultdict(dict)
    for (device, metric, epoch), agg in rows.items():
        found[(device, ids[metric])][epoch] = agg
    return found


def storage_kpis(*, plant: Plant, first: date, last: date) -> dict:
    tz = plant_tz(plant)
    start, end = local_day_start(first, tz), local_day_start(last + timedelta(days=1), tz)
    pcs = list(plant_devices(plant, DeviceType.PCS).values_list("id", flat=True))
    units = list(plant_devices(plant, DeviceType.BESS).select_related("bess_datasheet"))
    unit_ids = [u.pk for u in units]
    racks = list(Device.objects.filter(plant=plant, type=DeviceType.BESS_RACK).order_by("id"))

    def total(ids, key):
        return _sum(counter_by_day(device_ids=ids, key=key, first=first, last=last, tz=tz).values())

    ac_c, ac_d = total(pcs, "charge_energy"), total(pcs, "discharge_energy")
    dc_c, dc_d = total(unit_ids, "charge_energy"), total(unit_ids, "discharge_energy")
    capacity = _sum(
        (u.bess_datasheet.usable_capacity_kwh or u.bess_datasheet.energy_rating_kwh)
        if hasattr(u, "bess_datasheet")
        else None
        for u in units
    )
    throughput = dc_d if dc_d is not None else ac_d

    soc = _reads(unit_ids, ["soc"], "5min", start, end, tz)
    cycles: dict[int, float] = defaultdict(float)
    histogram: dict[int, float] = defaultdict(float)
    samples = high = low = 0
    for (_device, _key), series in soc.items():
        values = [agg.sum / agg.count for _epoch, agg in sorted(series.items()) if agg.count]
        for value in values:
            histogram[_bin_of(value)] += 1
            high += value > HIGH_SOC
            low += value < LOW_SOC
        samples += len(values)
        if len(values) >= 3:
            for depth, _mean, count, _i, _j in rainflow.extract_cycles(values):
                cycles[_bin_of(depth if depth < 100 else 99.999)] += count
    soh = _reads(unit_ids, ["soh"], "day", start, end, tz)
    soh_days: dict[int, list[float]] = defaultdict(list)
    for series in soh.values():
        for epoch, agg in series.items():
            if agg.count:
                soh_days[epoch].append(agg.sum / agg.count)
    trend = [
        {"date": datetime.fromtimestamp(epoch, tz).date(), "soh": round(sum(v) / len(v), 3)}
        for epoch, v in sorted(soh_days.items())
    ]
    fade = round(trend[0]["soh"] - trend[-1]["soh"], 3) if len(trend) >= 2 else None
    span = (trend[-1]["date"] - trend[0]["date"]).days if len(trend) >= 2 else 0
    cells = _reads([r.pk for r in racks], ["cell_voltage_max", "cell_voltage_min"], "day", start, end, tz)
    spread = []
    for rack_no, rack in enumerate(racks, start=1):
        highs, lows = cells.get((rack.pk, "cell_voltage_max"), {}), cells.get((rack.pk, "cell_voltage_min"), {})
        points = [
            {
                "date": datetime.fromtimestamp(epoch, tz).date(),
                "spread_mv": round((highs[epoch].max - lows[epoch].min) * 1000, 1),
            }
            for epoch in sorted(set(highs) & set(lows))
        ]
        spread.append({"device_id": rack.pk, "name": rack.name, "rack": f"rack{rack_no:02d}", "points": points})
    return {
        "plant_id": plant.pk,
        "start": first,
        "end": last,
        "timezone": plant.timezone,
        "energy": {"ac_charge": ac_c, "ac_discharge": ac_d, "dc_charge": dc_c, "dc_discharge": dc_d},
        "round_trip_efficiency_ac": _ratio(ac_d, ac_c, 100.0),
        "round_trip_efficiency_dc": _ratio(dc_d, dc_c, 100.0),
        "usable_capacity_kwh": capacity,
        "equivalent_full_cycles": _ratio(throughput, capacity),
        "rainflow_cycles": _bins(cycles),
        "soc_histogram": _bins({k: v / samples for k, v in histogram.items()} if samples else {}),
        "time_high_soc_pct": round(high / samples * 100, 2) if samples else None,
        "time_low_soc_pct": round(low / samples * 100, 2) if samples else None,
        "soh_trend": trend,
        "capacity_fade_pct": fade,
        "capacity_fade_pct_per_year": round(fade / span * 365, 3) if fade is not None and span else None,
        "cell_spread": spread,
    }
