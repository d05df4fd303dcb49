"""The battery simulator on the constructed site: dispatch-following, SoC within the band,
losses (discharge < charge), the rack over-temperature trip, idempotent re-runs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from plants.models import PcsDatasheet
from storage.models import DispatchEvent
from storage.selectors.analysis import power_loss
from storage.selectors.common import counter_by_day
from storage.simulator import storage_simulate
from telemetry.models import LatestValue, Reading

from .helpers import storage_site

pytestmark = pytest.mark.django_db


def test_a_simulated_day(own_plant):
    site = storage_site(own_plant, racks=3)
    PcsDatasheet.objects.create(device=site["pcs"], max_efficiency_pct=98.0)
    tz = ZoneInfo(own_plant.timezone)
    day = datetime(2026, 6, 1, tzinfo=tz)
    block = DispatchEvent.objects.create(
        plant=own_plant, mode="full_power", time_start=day.replace(hour=19), time_end=day.replace(hour=20),
        quote_capacity=1, quote_price=1, is_get=True, power=0.3, price=1,
    )  # fmt: skip
    start, end = day.astimezone(UTC), (day + timedelta(days=1)).astimezone(UTC)
    result = storage_simulate(plant=own_plant, start=start, end=end, now=end + timedelta(days=1))
    assert result.rows_written > 0 and result.faults == ["Rack 3 (T-OWN-PLANT-R3) cell over-temperature trip"]
    again = storage_simulate(plant=own_plant, start=start, end=end, now=end + timedelta(days=1))
    assert again.rows_written == 0
    loss = power_loss(plant=own_plant, first=day.date(), days=1)["daily_data"][0]
    assert loss["charge_energy"] > 0 and loss["discharge_energy"] > 0 and loss["aux_consumption"] > 0

    def advance(device, key):
        return counter_by_day(device_ids=[device.pk], key=key, first=day.date(), last=day.date(), tz=tz)[day.date()]

    # conversion losses both ways: the PCS takes more AC than reaches the battery, and gives less
    assert advance(site["pcs"], "charge_energy") > advance(site["bess"], "charge_energy") > 0
    assert advance(site["bess"], "discharge_energy") > advance(site["pcs"], "discharge_energy") > 0
    soc = Reading.objects.filter(device_id=site["bess"].pk, metric__key="soc").values_list("value", flat=True)
    assert min(soc) >= 5.0 and max(soc) <= 95.0
    at_block = Reading.objects.get(
        device_id=site["pcs"].pk, metric__key="ac_power", ts=block.time_start + timedelta(minutes=30)
    )
    assert at_block.value == pytest.approx(300.0, rel=0.05)  # the awarded 0.3 MW
    tripped = Reading.objects.get(
        device_id=site["rack3"].pk, metric__key="battery_mode", ts=day.replace(hour=15, minute=30).astimezone(UTC)
    )
    assert tripped.value == 3
    assert LatestValue.objects.filter(device_id=site["rack1"].pk, metric__key="cell_voltage_max").exists()
