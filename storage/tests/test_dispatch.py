"""Dispatch events (API, CSV import) and the execution rate and income of a block whose delivery
is known: event 18:00-19:00 local, 0.25 MW awarded at 850/MW/h; the PCS delivers 225 kW
(constructed day) → 0.225 of 0.25 MWh, execution rate 0.9, performance index 0.7 (the tier
≥ 0.85), capacity fee 850 x 0.25 x 1 x 0.7 = 148.75, efficiency fee 100 x 0.25 x 1 x 0.7 = 17.5."""

from __future__ import annotations

import importlib
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.apps import apps
from django.core.management import call_command

from solarhub.testing.personas import api_client_for
from storage.models import DispatchEvent, StorageTariff
from storage.services import STORAGE_DEFAULT_RULES, dispatch_events_import

from .helpers import constructed_day, storage_site

pytestmark = pytest.mark.django_db
DAY = date(2026, 6, 1)
TIERS = [
    {"min_exec_rate": 0.95, "index": 1.0},
    {"min_exec_rate": 0.85, "index": 0.7},
    {"min_exec_rate": 0.7, "index": 0.5},
]


def _local(plant, hour: int, minute: int = 0) -> datetime:
    return datetime(DAY.year, DAY.month, DAY.day, hour, minute, tzinfo=ZoneInfo(plant.timezone))


@pytest.fixture
def dispatched(own_plant):
    site = storage_site(own_plant)
    constructed_day(own_plant, site, DAY)
    StorageTariff.objects.create(
        plant=own_plant, currency="TWD", efficiency_price=100.0, performance_tiers=TIERS, nominal_frequency_hz=60.0
    )
    awarded = DispatchEvent.objects.create(
        plant=own_plant, mode="dreg", time_start=_local(own_plant, 18), time_end=_local(own_plant, 19),
        quote_capacity=0.3, quote_price=900.0, is_get=True, power=0.25, price=850.0, quote_code="QC001",
    )  # fmt: skip
    DispatchEvent.objects.create(
        plant=own_plant, mode="edreg", time_start=_local(own_plant, 20), time_end=_local(own_plant, 21),
        quote_capacity=0.3, quote_price=900.0, is_get=False, quote_code="QC002",
    )  # fmt: skip
    return awarded


def test_daily_income_of_a_block_with_known_delivery(customer, own_plant, dispatched):
    body = (
        api_client_for(customer)
        .get(f"/api/v1/schedule/income/daily?plantId={own_plant.pk}&start_time=2026-06-01 00:00:00")
        .json()
    )
    assert body["date"] == "2026-06-01" and body["currency"] == "TWD"
    assert len(body["hourly_data"]) == 24
    hour = body["hourly_data"][18]
    assert hour["hour"] == 18
    assert hour["committed_energy"] == 0.25 and hour["delivered_energy"] == 0.225
    assert hour["exec_rate"] == 0.9 and hour["performance_index"] == 0.7
    assert hour["capacity_fee"] == 148.75 and hour["efficiency_fee"] == 17.5
    assert body["hourly_data"][20]["capacity_fee"] == 0.0  # not awarded
    assert body["total_capacity_fee"] == 148.75 and body["total_efficiency_fee"] == 17.5
    assert body["total_income"] == 166.25 and body["avg_exec_rate"] == 0.9


def test_monthly_income(customer, own_plant, dispatched):
    body = (
        api_client_for(customer)
        .get(f"/api/v1/schedule/income/monthly?plantId={own_plant.pk}&start_time=2026-06")
        .json()
    )
    assert len(body["daily_data"]) == 30
    assert body["daily_data"][0]["total_income"] == 166.25 and body["daily_data"][1]["total_income"] == 0.0
    assert body["total_income"] == 166.25


@pytest.mark.parametrize("month", ["2024-13", "2024-00", "2024-1x", "24-01", ""])
def test_a_bad_month_is_400(customer, own_plant, dispatched, month):
    response = api_client_for(customer).get(
        f"/api/v1/schedule/income/monthly?plantId={own_plant.pk}&start_time={month}"
    )
    assert response.status_code == 400
    assert response.json()["error_code"] == "INVALID_MONTH"


def test_income_without_a_tariff_is_404_no_tariff(customer, own_plant, dispatched):
    StorageTariff.objects.all().delete()
    response = api_client_for(customer).get(
        f"/api/v1/schedule/income/daily?plantId={own_plant.pk}&start_time=2026-06-01"
    )
    assert response.status_code == 404 and response.json()["error_code"] == "NO_TARIFF"


def test_exec_rate_series(customer, own_plant, dispatched):
    client = api_client_for(customer)
    base = f"/api/v1/schedule/exec-rate?plantId={own_plant.pk}&date=2026-06-01"
    buckets = client.get(f"{base}&data_type=exec_rate").json()
    assert len(buckets["data"]) == 12 and {point[1] for point in buckets["data"]} == {0.9}
    assert buckets["data"][0][0] == int(_local(own_plant, 18).timestamp()) * 1000
    rolling = client.get(f"{base}&data_type=roll_exec_rate").json()
    assert rolling["data"][-1][1] == 0.9
    hourly = client.get(f"{base}&data_type=hour_exec_rate").json()
    assert hourly["data"] == [[int(_local(own_plant, 18).timestamp()) * 1000, 0.9]]
    assert hourly["blocks"][0]["exec_rate"] == 0.9 and hourly["blocks"][0]["event_id"] == dispatched.pk
    assert client.get(f"{base}&data_type=rate").status_code == 400
    assert client.get(f"/api/v1/schedule/exec-rate?plantId={own_plant.pk}").status_code == 400


def test_schedule_lists_events_by_mode(customer, own_plant, dispatched):
    client = api_client_for(customer)
    body = client.get(f"/api/v1/schedule?plantId={own_plant.pk}&start=2026-06-01&weeks=1").json()
    assert body["total_count"] == 2 and body["mode"] == "all"
    first = body["events"][0]
    assert first["index"] == 1 and first["quote_code"] == "QC001" and first["is_get"] is True and first["power"] == 0.25
    dreg = client.get(f"/api/v1/schedule?plantId={own_plant.pk}&start=2026-06-01&mode=edreg").json()
    assert [e["quote_code"] for e in dreg["events"]] == ["QC002"]
    assert client.get(f"/api/v1/schedule?plantId={own_plant.pk}&weeks=53").status_code == 400


def test_dispatch_events_api_create_update(customer, installer, own_plant):
    client = api_client_for(installer)
    body = {
        "plantId": own_plant.pk, "mode": "full_power", "timeStart": "2026-06-02T14:00:00Z",
        "timeEnd": "2026-06-02T15:00:00Z", "quoteCapacity": 1.0, "quotePrice": 900, "isGet": True,
        "power": 0.8, "price": 850, "quoteCode": "QC9", "title": "Full power",
    }  # fmt: skip
    created = client.post("/api/dispatch-events", body, format="json")
    assert created.status_code == 201, created.content
    event_id = created.json()["id"]
    assert created.json()["isGet"] is True
    bad = client.post("/api/dispatch-events", {**body, "timeEnd": "2026-06-02T13:00:00Z"}, format="json")
    assert bad.status_code == 400 and "timeEnd" in bad.json()["errors"]
    changed = client.patch(f"/api/dispatch-events/{event_id}", {"interrupt": True}, format="json")
    assert changed.status_code == 200 and changed.json()["interrupt"] is True
    listed = client.get(f"/api/dispatch-events?plantId={own_plant.pk}&mode=full_power").json()
    assert [row["id"] for row in listed] == [event_id]


def test_csv_import_all_or_nothing(own_plant, tmp_path):
    header = "mode,time_start,time_end,quote_capacity,quote_price,is_get,power,price,quote_code,interrupt,title\n"
    good = "dreg,2026-06-03T10:00:00+08:00,2026-06-03T11:00:00+08:00,5,900,1,4.5,850,QC1,0,D-Reg\n"
    bad = "jump,2026-06-03T12:00:00+08:00,2026-06-03T11:00:00+08:00,5,900,1,4.5,850,QC2,0,X\n"
    with pytest.raises(ValueError, match="line 3: mode"):
        dispatch_events_import(plant=own_plant, text=header + good + bad)
    assert not DispatchEvent.objects.exists()
    path = tmp_path / "events.csv"
    path.write_text(header + good)
    call_command("dispatch_import", str(path), plant=own_plant.plant_code)
    call_command("dispatch_import", str(path), plant=own_plant.plant_code)  # idempotent: updates
    event = DispatchEvent.objects.get()
    assert event.power == 4.5 and event.is_get is True and event.hours == 1.0


def test_default_storage_alarm_rules(own_plant):
    names = set(own_plant.alarm_rules.filter(is_default=True).values_list("name", flat=True))
    assert {"Cell over-voltage", "Cell over-temperature", "Rack communication loss", "PCS fault status1"} <= names


def test_plants_older_than_the_storage_app_get_its_default_rules_from_the_migration(own_plant):
    """The backfill migration's function, on the real apps registry: a plant that never saw the
    storage app's plant_created receiver gets the missing defaults once, the rest untouched."""
    migration = importlib.import_module("storage.migrations.0003_backfill_default_rules")
    names = [spec["name"] for spec in STORAGE_DEFAULT_RULES]
    own_plant.alarm_rules.filter(name__in=names[1:]).delete()  # as if created before the storage app
    kept = own_plant.alarm_rules.get(name=names[0])
    others = set(own_plant.alarm_rules.exclude(name__in=names).values_list("id", flat=True))
    assert migration.backfill_default_rules(apps, None) == len(names) - 1
    assert sorted(own_plant.alarm_rules.filter(name__in=names).values_list("name", flat=True)) == sorted(names)
    assert own_plant.alarm_rules.get(name=names[0]).pk == kept.pk
    assert set(own_plant.alarm_rules.exclude(name__in=names).values_list("id", flat=True)) == others
    assert migration.backfill_default_rules(apps, None) == 0  # idempotent
