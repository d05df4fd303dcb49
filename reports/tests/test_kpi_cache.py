"""The KPI day cache (reports.kpis.cache) over HTTP: a kept day answers exactly what a
recomputation answers, and stops being served the moment what it was computed from changes —
new telemetry (before and after the fold consumed its marks), the plant's configuration, a
device added — while alarms' lost energy is always read fresh."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from alarms.models import Alarm
from forecasting.tests.helpers import ingest
from plants.choices import DeviceType
from plants.models import Device, PanelSpec
from reports.kpis import kpi_inputs_read, plant_kpis
from reports.models import KpiDay
from reports.tasks import warm_kpi_days
from solarhub.testing.personas import api_client_for
from telemetry.models import DirtyHour
from telemetry.rollups import rollups_fold

from .helpers import POWER_KW, STEP, constructed_day, kpi_plant

pytestmark = pytest.mark.django_db

DAY = date(2026, 6, 10)
QUERY = "start=2026-06-10&end=2026-06-11"


@pytest.fixture
def plant(customer):
    plant = kpi_plant(code="CACHE-1", owner=customer, inverters=2)
    constructed_day(plant, DAY, outage=(10, 12))  # inverter 1 silent for 2 of the 8 sunny hours
    constructed_day(plant, DAY + timedelta(days=1))
    return plant


def _get(client, plant, query=QUERY) -> dict:
    response = client.get(f"/api/plants/{plant.pk}/kpis?{query}")
    assert response.status_code == 200, response.content
    return response.json()


def _computed_at(plant) -> dict[date, datetime]:
    return dict(KpiDay.objects.filter(plant=plant, figures__isnull=False).values_list("day", "computed_at"))


def _backfill_outage(plant) -> None:
    """The silent inverter's AC power for its outage hours (10:00-12:00 local), arriving late."""
    tz = ZoneInfo(plant.timezone)
    first = Device.objects.filter(plant=plant, type=DeviceType.INVERTER).order_by("id").first()
    ts = datetime.combine(DAY, datetime.min.time(), tzinfo=tz) + timedelta(hours=10)
    rows = []
    while ts < datetime.combine(DAY, datetime.min.time(), tzinfo=tz) + timedelta(hours=12):
        rows.append((ts, {"ac_power": POWER_KW, "status_code": 4.0}))
        ts += STEP
    ingest(plant, {first.serial_number: rows})


def test_a_kept_month_answers_what_a_recomputation_answers(plant, customer):
    client = api_client_for(customer)
    first = _get(client, plant)
    kept = _computed_at(plant)
    assert set(kept) == {DAY, DAY + timedelta(days=1)}
    second = _get(client, plant)
    assert second == first
    assert _computed_at(plant) == kept  # served, not recomputed
    # The report path computes from the period's inputs, without the cache: the same figures.
    direct = plant_kpis(plant=plant, start=DAY, end=DAY + timedelta(days=1), inputs=None)
    KpiDay.objects.all().delete()
    recomputed = plant_kpis(
        plant=plant,
        start=DAY,
        end=DAY + timedelta(days=1),
        inputs=kpi_inputs_read(plant=plant, start=DAY, end=DAY + timedelta(days=1)),
    )
    assert recomputed["total"] == direct["total"] and recomputed["periods"] == direct["periods"]
    assert recomputed["inverters"] == direct["inverters"]
    assert first["periods"][0]["availabilityTime"] == pytest.approx((96 + 72) / (2 * 96), abs=1e-4)
    assert first["total"]["availabilityTime"] == pytest.approx((96 + 72 + 2 * 96) / (4 * 96), abs=1e-4)


def test_late_data_is_seen_before_the_fold_and_after_it(plant, customer):
    client = api_client_for(customer)
    before = _get(client, plant)
    assert before["periods"][0]["availabilityTime"] < 1.0
    _backfill_outage(plant)
    assert DirtyHour.objects.exists()
    marked = _get(client, plant)  # the marks are still there: the day is recomputed, not served
    # The power curve reads unfolded hours from raw readings: the inverter counts as reporting.
    assert before["periods"][0]["completeness"]["energy"] < 1.0
    assert marked["periods"][0]["completeness"]["energy"] == 1.0
    assert marked["periods"][1] == before["periods"][1]
    rollups_fold()
    assert not DirtyHour.objects.exists()
    folded = _get(client, plant)
    assert folded["periods"][0]["availabilityTime"] == 1.0
    kept = _computed_at(plant)
    assert _get(client, plant) == folded and _computed_at(plant) == kept


def test_data_folded_before_anyone_looked_still_invalidates_the_kept_day(plant, customer):
    """The marks are gone once the fold commits: the fold's ``changed_at`` stamp is the only
    evidence that the kept day is older than its data."""
    client = api_client_for(customer)
    before = _get(client, plant)
    kept_before = _computed_at(plant)
    _backfill_outage(plant)
    rollups_fold()
    assert not DirtyHour.objects.exists()
    stamped = KpiDay.objects.get(plant=plant, day=DAY)
    assert stamped.changed_at > stamped.computed_at
    after = _get(client, plant)
    assert after["periods"][0]["availabilityTime"] == 1.0
    assert before["periods"][0]["availabilityTime"] < 1.0
    kept_after = _computed_at(plant)
    assert kept_after[DAY] > kept_before[DAY]
    assert kept_after[DAY + timedelta(days=1)] == kept_before[DAY + timedelta(days=1)]  # untouched day kept


def test_configuration_changes_recompute_the_kept_days(plant, customer):
    client = api_client_for(customer)
    before = _get(client, plant)
    spec = PanelSpec.objects.get(plant=plant)
    spec.coefficient_pmax_pct = -0.45
    spec.save()
    after = _get(client, plant)
    assert after["gammaPctPerC"] == -0.45
    assert after["total"]["temperatureCorrectedPr"] != before["total"]["temperatureCorrectedPr"]
    KpiDay.objects.all().delete()
    assert _get(client, plant)["total"] == after["total"]  # what a cold computation gives

    Device.objects.create(plant=plant, type=DeviceType.INVERTER, name="Inverter new", serial_number="CACHE-1-NEW")
    added = _get(client, plant)
    assert len(added["inverters"]) == 3
    # The new inverter never reported: the plant's time availability drops to two of three.
    assert added["total"]["availabilityTime"] == pytest.approx((96 + 72 + 2 * 96) / (3 * 2 * 96), abs=1e-4)


def test_alarm_losses_are_read_fresh_over_kept_days(plant, customer):
    client = api_client_for(customer)
    before = _get(client, plant)
    assert before["total"]["lostEnergyKwh"] == 0.0
    first = Device.objects.filter(plant=plant, type=DeviceType.INVERTER).order_by("id").first()
    triggered = datetime.combine(DAY, datetime.min.time(), tzinfo=ZoneInfo(plant.timezone)) + timedelta(hours=10)
    alarm = Alarm.objects.create(
        plant=plant, device=first, title="Inverter offline", triggered_at=triggered, lost_energy_kwh=80.0
    )
    kept = _computed_at(plant)
    after = _get(client, plant)
    assert _computed_at(plant) == kept  # no telemetry changed: the days are served
    assert after["periods"][0]["lostEnergyKwh"] == 80.0
    assert after["losses"]["downtimeKwh"] == 80.0
    assert {row["deviceId"]: row["lostEnergyKwh"] for row in after["inverters"]}[first.pk] == 80.0
    alarm.lost_energy_kwh = 20.0
    alarm.save()
    assert _get(client, plant)["losses"]["downtimeKwh"] == 20.0


def test_the_beat_task_keeps_recent_days_computed(customer):
    plant = kpi_plant(code="CACHE-WARM", owner=customer)
    yesterday = timezone.now().astimezone(ZoneInfo(plant.timezone)).date() - timedelta(days=1)
    constructed_day(plant, yesterday)
    assert warm_kpi_days() >= 35
    kept = _computed_at(plant)
    assert yesterday in kept and len(kept) == 35
    assert warm_kpi_days() == 0  # nothing changed: nothing recomputed
    body = _get(api_client_for(customer), plant, f"start={yesterday}&end={yesterday}")
    assert body["total"]["energyKwh"] == pytest.approx(POWER_KW * 8, abs=1e-3)
    assert _computed_at(plant) == kept
