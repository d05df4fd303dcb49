"""Constructed plants and days for the reports tests: every figure is computable on paper."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from forecasting.tests.helpers import configured_plant, ingest
from plants.choices import DeviceType
from plants.models import Device
from telemetry.rollups import rollups_fold

STEP = timedelta(minutes=5)
SUN = (8, 16)  # local hours with irradiance in a constructed day
POA = 800.0  # W/m² while the sun is "up"
POWER_KW = 40.0  # per inverter while the sun is up
MODULE_TEMP = 45.0
_COUNTERS: dict[int, dict[str, float]] = {}


def kpi_plant(*, code: str = "KPI-1", owner=None, installer=None, inverters: int = 1, meter: bool = True, **fields):
    """56 kWp per inverter (7 strings x 20 x 400 W), gamma = -0.35 %/°C, a WMS and a meter."""
    plant = configured_plant(code=code, owner=owner, installer=installer, inverters=inverters, **fields)
    if meter:
        Device.objects.create(plant=plant, type=DeviceType.METER, name="Meter", serial_number=f"{code}-MTR")
    return plant


def constructed_day(plant, day: date, *, outage: tuple[int, int] | None = None, fault: tuple[int, int] | None = None):
    """Every 5-minute slot of the plant-local ``day``: POA 800 W/m², module 45 °C, each inverter
    40 kW from 08:00 to 16:00 local (0 otherwise), its ``energy_total`` counter advancing by the
    energy of each slot, the meter's export counter by the plant's. ``outage`` (local hours
    [from, to)): inverter 1 sends nothing; ``fault``: inverter 1 reports status 7 and 0 kW."""
    tz = ZoneInfo(plant.timezone)
    start = datetime.combine(day, datetime.min.time(), tzinfo=tz).astimezone(ZoneInfo("UTC"))
    end = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=tz).astimezone(ZoneInfo("UTC"))
    inverters = list(Device.objects.filter(plant=plant, type=DeviceType.INVERTER).order_by("id"))
    station = Device.objects.get(plant=plant, type=DeviceType.WEATHER_STATION)
    meter = Device.objects.filter(plant=plant, type=DeviceType.METER).first()
    rows: dict[str, list[tuple]] = {station.serial_number: [], **{inv.serial_number: [] for inv in inverters}}
    if meter:
        rows[meter.serial_number] = []
    # Counters go on across consecutive constructed days of a plant (a drop would be a reset).
    counters = _COUNTERS.setdefault(plant.pk, {})
    for serial in rows:
        counters.setdefault(serial, 1000.0)
    ts = start
    while ts < end:
        hour = ts.astimezone(tz).hour
        sunny = SUN[0] <= hour < SUN[1]
        rows[station.serial_number].append(
            (ts, {"irradiance_poa": POA if sunny else 0.0, "module_temp": MODULE_TEMP if sunny else 15.0})
        )
        exported = 0.0
        for index, inv in enumerate(inverters):
            out = index == 0 and outage is not None and outage[0] <= hour < outage[1]
            faulted = index == 0 and fault is not None and fault[0] <= hour < fault[1]
            if out:
                continue
            power = POWER_KW if sunny and not faulted else 0.0
            rows[inv.serial_number].append(
                (
                    ts,
                    {
                        "ac_power": power,
                        "energy_total": counters[inv.serial_number],
                        "status_code": 7.0 if faulted else 4.0,
                    },
                )
            )
            # The counter at ts holds the energy up to ts: this slot's energy shows at the next reading.
            counters[inv.serial_number] += power * STEP.total_seconds() / 3600.0
            exported += power * STEP.total_seconds() / 3600.0
        if meter:
            rows[meter.serial_number].append((ts, {"export_energy": counters[meter.serial_number]}))
            counters[meter.serial_number] += exported
        ts += STEP
    ingest(plant, rows)
    rollups_fold()
