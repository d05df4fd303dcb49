"""Analysis views and storage KPIs on the constructed day (helpers.py): charge 1000 kWh,
discharge 900 kWh → efficiency 90 %, loss 100 kWh; aux 600 kWh; SoC 10 → 90 → 20 % → two
rainflow half cycles of depth 80 and 70; EFC = 900 / 1000 usable kWh = 0.9."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from solarhub.testing.personas import api_client_for
from storage.models import StorageTariff

from .helpers import constructed_day, storage_site

pytestmark = pytest.mark.django_db
DAY = date(2026, 6, 1)


@pytest.fixture
def site(own_plant):
    site = storage_site(own_plant)
    constructed_day(own_plant, site, DAY)
    return site


def test_power_loss_of_a_constructed_day(customer, own_plant, site):
    body = (
        api_client_for(customer)
        .get(f"/api/v1/analysis/power-loss?plantId={own_plant.pk}&start_time=2026-06-01 00:00:00&days=2")
        .json()
    )
    first, second = body["daily_data"]
    assert first == {
        "date": "2026-06-01",
        "charge_energy": 1000.0,
        "discharge_energy": 900.0,
        "loss": 100.0,
        "efficiency": 90.0,
        "aux_consumption": 600.0,
    }
    assert second["charge_energy"] is None and second["efficiency"] is None
    assert body["total_charge"] == 1000.0 and body["avg_efficiency"] == 90.0 and body["total_aux"] == 600.0


def test_power_io_daily_and_monthly(customer, own_plant, site):
    client = api_client_for(customer)
    daily = client.get(f"/api/v1/analysis/power-io?plantId={own_plant.pk}&select_time=2026-06-01").json()
    hours = {row["label"]: row for row in daily["data"]}
    assert len(daily["data"]) == 24
    assert hours["10:00"]["charge_energy"] == 250.0 and hours["10:00"]["discharge_energy"] == 0.0
    assert hours["18:00"]["discharge_energy"] == 225.0
    assert daily["total_charge"] == 1000.0 and daily["total_discharge"] == 900.0 and daily["efficiency"] == 90.0
    monthly = client.get(
        f"/api/v1/analysis/power-io?plantId={own_plant.pk}&select_time=2026-06-15&data_type=monthly"
    ).json()
    assert len(monthly["data"]) == 30 and monthly["data"][0]["charge_energy"] == 1000.0
    assert client.get(f"/api/v1/analysis/power-io?plantId={own_plant.pk}").status_code == 400


def test_freq_power_pairs_and_baseline(customer, own_plant, site):
    StorageTariff.objects.create(plant=own_plant, nominal_frequency_hz=60.0)
    client = api_client_for(customer)
    body = client.get(
        f"/api/v1/analysis/freq-power?plantId={own_plant.pk}&date_period=60&select_mode=selectTimeMode"
        "&select_time=2026-06-02T02:00:00Z"  # 19:00 local (PDT)
    ).json()
    assert len(body["frequency_data"]) == 12
    assert {value for _ts, value in body["frequency_data"]} == {60.02}
    assert {value for _ts, value in body["power_data"]} == {225.0}
    assert {value for _ts, value in body["baseline_data"]} == {60.0}
    assert body["frequency_data"][0][0] == int(datetime(2026, 6, 2, 1, tzinfo=UTC).timestamp()) * 1000
    assert client.get(f"/api/v1/analysis/freq-power?plantId={own_plant.pk}").status_code == 400
    assert (
        client.get(f"/api/v1/analysis/freq-power?plantId={own_plant.pk}&date_period=60&select_mode=selectTimeMode")
    ).status_code == 400


def test_storage_kpis(customer, own_plant, site):
    response = api_client_for(customer).get(f"/api/plants/{own_plant.pk}/storage/kpis?start=2026-06-01&end=2026-06-01")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["roundTripEfficiencyAc"] == 90.0 and body["roundTripEfficiencyDc"] is None
    assert body["usableCapacityKwh"] == 1000.0 and body["equivalentFullCycles"] == 0.9
    cycles = {row["low"]: row["value"] for row in body["rainflowCycles"]}
    assert cycles[80] == 0.5 and cycles[70] == 0.5 and sum(cycles.values()) == 1.0
    histogram = {row["low"]: row["value"] for row in body["socHistogram"]}
    assert sum(histogram.values()) == pytest.approx(1.0, abs=1e-3)  # shares rounded to 4 places
    assert histogram[10] == round(126 / 288, 4)  # 00:00-10:00 at 10 %, and the ramp's first half hour
    assert histogram[0] == 0.0 and body["timeHighSocPct"] == 0.0
    assert body["sohTrend"] == [{"date": "2026-06-01", "soh": 99.0}] and body["capacityFadePct"] is None
    assert [rack["points"] for rack in body["cellSpread"]] == [
        [{"date": "2026-06-01", "spreadMv": 50.0}],
        [{"date": "2026-06-01", "spreadMv": 60.0}],
    ]


def test_storage_kpis_window_is_bounded(customer, own_plant):
    client = api_client_for(customer)
    assert client.get(f"/api/plants/{own_plant.pk}/storage/kpis?start=2025-01-01&end=2026-06-01").status_code == 400
    assert client.get(f"/api/plants/{own_plant.pk}/storage/kpis?start=2026-06-02&end=2026-06-01").status_code == 400
