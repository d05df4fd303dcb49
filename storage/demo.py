"""The demo storage site's tariff, dispatch schedule and simulated week (called by ``seed_demo``).

Tariff: the performance tiers of an ancillary-services market (≥ 95 % → 1.0, ≥ 85 % → 0.7,
≥ 70 % → 0.5); every day of the past and coming week has an awarded dReg block 14:00-15:00, a
full-power block 19:00-20:00 and an E-dReg quote that was not awarded. Idempotent.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Max
from django.utils import timezone

from plants.choices import DeviceType
from plants.models import Device, Plant
from telemetry.models import LatestValue

from .models import DispatchEvent, StorageTariff
from .simulator import storage_simulate

DEMO_TIERS = [
    {"min_exec_rate": 0.95, "index": 1.0},
    {"min_exec_rate": 0.85, "index": 0.7},
    {"min_exec_rate": 0.7, "index": 0.5},
]
DEMO_BLOCKS = (  # (mode, local hour, awarded, MW, price, title)
    ("dreg", 14, True, 1.0, 850.0, "D-Reg dispatch"),
    ("full_power", 19, True, 1.5, 600.0, "Evening peak"),
    ("edreg", 16, False, 0.0, 0.0, "E-dReg quote"),
)


def demo_storage_seed(*, plant_code: str, now: datetime | None = None) -> int:
    """The demo site's tariff and its dispatch events of the past and the coming week."""
    plant = Plant.objects.filter(plant_code=plant_code).first()
    if plant is None:
        return 0
    StorageTariff.objects.get_or_create(
        plant=plant,
        defaults={
            "currency": "USD",
            "efficiency_price": 120.0,
            "performance_tiers": DEMO_TIERS,
            "nominal_frequency_hz": 60.0,
        },
    )
    tz = ZoneInfo(plant.timezone)
    today = (now or timezone.now()).astimezone(tz).date()
    made = 0
    for offset in range(-8, 8):
        day = today + timedelta(days=offset)
        for number, (mode, hour, awarded, power, price, title) in enumerate(DEMO_BLOCKS, start=1):
            start = datetime(day.year, day.month, day.day, hour, tzinfo=tz)
            _event, created = DispatchEvent.objects.get_or_create(
                plant=plant,
                time_start=start,
                quote_code=f"QC{day:%Y%m%d}{number:02d}",
                defaults={
                    "mode": mode, "time_end": start + timedelta(hours=1), "time_number": hour + 1,
                    "quote_capacity": max(power, 1.0), "quote_price": price + 50 if price else 900.0,
                    "is_get": awarded, "power": power, "price": price, "title": title,
                },
            )  # fmt: skip
            made += created
    return made


def demo_storage_telemetry(*, plant_code: str, start: datetime, end: datetime, now: datetime) -> int:
    """Simulate what is missing of the storage site's week (after its PV); rows written."""
    plant = Plant.objects.filter(plant_code=plant_code).first()
    if plant is None:
        return 0
    units = Device.objects.filter(plant=plant, type=DeviceType.BESS).values("id")
    newest = LatestValue.objects.filter(device_id__in=units).aggregate(newest=Max("ts"))["newest"]
    fresh = newest is None or newest < start
    begin = start if fresh else newest + timedelta(minutes=5)
    if begin >= end:
        return 0
    return storage_simulate(plant=plant, start=begin, end=end, faults=fresh, fold=False, now=now).rows_written
