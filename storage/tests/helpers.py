"""A constructed storage site and day: every figure of the tests is computable on paper.

The day (plant-local, the plant's own zone): the PCS charges at 250 kW from 10:00 to 14:00
(1000 kWh) and discharges at 225 kW from 18:00 to 22:00 (900 kWh): efficiency 90 %, loss
100 kWh. The aux meter draws 20 kW until noon and 30 kW after (600 kWh; mean 25 kW). The BESS
SoC is 10 % until 10:00, rises linearly to 90 % at 14:00, falls to 20 % at 22:00. Counters at a
reading hold the energy up to the end of its 5-minute slot; a reading at 23:55 the evening
before holds their start values, so a day's advance is exactly the day's energy.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from forecasting.tests.helpers import ingest
from plants.models import BessDatasheet, Device, MeterDatasheet
from telemetry.rollups import rollups_fold

STEP = timedelta(minutes=5)
CHARGE = (10, 14, -250.0)  # local hours [from, to) and PCS kW
DISCHARGE = (18, 22, 225.0)
AUX_KW = (20.0, 30.0)  # before / after noon
START_COUNTER = 1000.0


def storage_site(plant, *, racks: int = 2) -> dict[str, Device]:
    """Grid and aux meters, one PCS, one BESS (usable 1000 kWh) with ``racks`` racks, an inverter."""
    code = plant.plant_code
    grid = Device.objects.create(plant=plant, type="meter", name="Grid meter", serial_number=f"{code}-GRID")
    MeterDatasheet.objects.create(device=grid, role="grid", ct_ratio=200.0)
    aux = Device.objects.create(plant=plant, type="meter", name="Aux meter", serial_number=f"{code}-AUX")
    MeterDatasheet.objects.create(device=aux, role="aux")
    pcs = Device.objects.create(plant=plant, type="pcs", name="PCS 1", serial_number=f"{code}-PCS1")
    bess = Device.objects.create(plant=plant, type="bess", name="BESS 1", serial_number=f"{code}-BESS1")
    BessDatasheet.objects.create(device=bess, usable_capacity_kwh=1000.0, energy_rating_kwh=1100.0, chemistry="lfp")
    inverter = Device.objects.create(plant=plant, type="inverter", name="Inverter 1", serial_number=f"{code}-INV1")
    site = {"grid": grid, "aux": aux, "pcs": pcs, "bess": bess, "inverter": inverter}
    for n in range(1, racks + 1):
        site[f"rack{n}"] = Device.objects.create(
            plant=plant, type="bess_rack", name=f"Rack {n}", serial_number=f"{code}-R{n}", parent=bess
        )
    return site


def _pcs_kw(hour: int) -> float:
    for low, high, kw in (CHARGE, DISCHARGE):
        if low <= hour < high:
            return kw
    return 0.0


def _soc(local: datetime) -> float:
    hours = local.hour + local.minute / 60.0
    if hours < 10:
        return 10.0
    if hours < 14:
        return 10.0 + 80.0 * (hours - 10) / 4
    if hours < 18:
        return 90.0
    if hours < 22:
        return 90.0 - 70.0 * (hours - 18) / 4
    return 20.0


def constructed_day(plant, site: dict[str, Device], day: date) -> None:
    tz = ZoneInfo(plant.timezone)
    start = datetime.combine(day, datetime.min.time(), tzinfo=tz).astimezone(ZoneInfo("UTC"))
    end = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=tz).astimezone(ZoneInfo("UTC"))
    pcs, aux, grid, bess = (site[k].serial_number for k in ("pcs", "aux", "grid", "bess"))
    charged = discharged = used = 0.0
    eve = start - STEP
    rows: dict[str, list] = {
        pcs: [(eve, {"ac_power": 0.0, "charge_energy": START_COUNTER, "discharge_energy": START_COUNTER})],
        aux: [(eve, {"ac_power": AUX_KW[0], "import_energy": START_COUNTER})],
        grid: [],
        bess: [],
    }
    for rack in (k for k in site if k.startswith("rack")):
        rows[site[rack].serial_number] = []
    ts = start
    while ts < end:
        local = ts.astimezone(tz)
        kw = _pcs_kw(local.hour)
        charged += max(-kw, 0.0) * STEP.total_seconds() / 3600
        discharged += max(kw, 0.0) * STEP.total_seconds() / 3600
        aux_kw = AUX_KW[0] if local.hour < 12 else AUX_KW[1]
        used += aux_kw * STEP.total_seconds() / 3600
        rows[pcs].append(
            (
                ts,
                {
                    "ac_power": kw,
                    "charge_energy": START_COUNTER + charged,
                    "discharge_energy": START_COUNTER + discharged,
                },
            )
        )
        rows[aux].append((ts, {"ac_power": aux_kw, "import_energy": START_COUNTER + used}))
        rows[grid].append((ts, {"frequency": 60.02, "ac_power": kw - aux_kw}))
        rows[bess].append((ts, {"soc": _soc(local), "soh": 99.0}))
        for index, rack in enumerate(k for k in site if k.startswith("rack")):
            rows[site[rack].serial_number].append(
                (ts, {"cell_voltage_max": 3.35 + 0.01 * index, "cell_voltage_min": 3.30})
            )
        ts += STEP
    ingest(plant, rows)
    rollups_fold()
