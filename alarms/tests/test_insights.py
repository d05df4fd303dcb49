"""Alarm insights: summary + seed 003 header, analytics (MTTA/MTTR, bad actors, chattering,
flood, rate, lost energy), seed 003's PCS and BESS rack alert words. Alarms go through the
lifecycle services; status words through ingest. Times the services stamp with ``now`` are
moved afterwards (queryset updates) where a known answer needs exact instants."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from alarms.bitmaps import bit_maps_seed
from alarms.choices import EventKind, RuleType, Severity
from alarms.models import Alarm, AlarmEvent, AlarmRule, StatusBitMap
from alarms.services import (
    alarm_acknowledge,
    alarm_add_lost_energy,
    alarm_close,
    alarm_create_manual,
    alarm_raise,
    alarm_return_to_normal,
)
from plants.choices import DeviceType
from plants.models import Device
from solarhub.testing.personas import api_client_for
from telemetry.ingest import telemetry_ingest

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _bit_maps(db):
    bit_maps_seed(StatusBitMap)


@pytest.fixture
def inverter(own_plant):
    return Device.objects.create(plant=own_plant, type=DeviceType.INVERTER, name="Inverter 1", serial_number="INV-1")


@pytest.fixture
def inverter2(own_plant):
    return Device.objects.create(plant=own_plant, type=DeviceType.INVERTER, name="Inverter 2", serial_number="INV-2")


def rule(plant, name="Inverter fault", rule_type=RuleType.STATUS_CODE, severity=Severity.HIGH):
    return AlarmRule.objects.create(plant=plant, name=name, rule_type=rule_type, severity=severity)


def acknowledge_at(alarm, by, at):
    alarm_acknowledge(alarm=alarm, by=by)
    AlarmEvent.objects.filter(alarm=alarm, kind=EventKind.ACKNOWLEDGED).update(at=at)
    Alarm.objects.filter(pk=alarm.pk).update(acknowledged_at=at)


# --- summary / header ------------------------------------------------------------------------


def test_summary_counts_and_header_groups(customer, outsider, own_plant, other_plant, inverter):
    now = timezone.now()
    flags = [
        {"bit": 7, "name": "OVER_TEMP", "category": "protection"},
        {"bit": 0, "name": "GROUND_FAULT", "category": "fault"},
        {"bit": 3, "name": "RUNNING", "category": "status"},
    ]
    decoded = alarm_raise(
        rule=rule(own_plant), device=inverter, at=now, value=129, message="bits", metadata={"flags": flags}
    )
    crit = alarm_create_manual(plant=own_plant, by=customer, title="Grid lost", severity=Severity.CRITICAL)
    high = alarm_create_manual(plant=own_plant, by=customer, title="Derated", severity=Severity.HIGH)
    medium = alarm_create_manual(plant=own_plant, by=customer, title="Dirty panels", severity=Severity.MEDIUM)
    alarm_acknowledge(alarm=medium, by=customer)
    closed = alarm_create_manual(plant=own_plant, by=customer, title="Old", severity=Severity.CRITICAL)
    alarm_close(alarm=closed, by=customer)
    alarm_create_manual(plant=other_plant, by=outsider, title="Not yours", severity=Severity.CRITICAL)

    response = api_client_for(customer).get(f"/api/alarms/summary?plantId={own_plant.pk}")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "success"
    assert body["total"] == 5 and body["open"] == 4
    assert body["byState"]["activeUnacknowledged"] == 3
    assert body["byState"]["activeAcknowledged"] == 1
    assert body["byState"]["closed"] == 1
    assert body["byLegacyState"] == {"open": 3, "acknowledged": 1, "closed": 1}
    assert body["bySeverity"] == {"low": 0, "medium": 1, "high": 2, "critical": 1}  # open only
    assert body["protectionInfo"]["count"] == 2
    assert set(body["protectionInfo"]["items"]) == {"Inverter 1: OVER_TEMP", high.title}
    assert set(body["faultInfo"]["items"]) == {"Inverter 1: GROUND_FAULT", crit.title}
    assert body["warningInfo"] == {"count": 1, "items": ["Dirty panels"]}
    assert decoded.pk  # the status flag (RUNNING) is informational: in no group

    # without plantId: every visible plant (the other plant's alarm stays invisible)
    assert api_client_for(customer).get("/api/alarms/summary").json()["total"] == 5
    assert api_client_for(outsider).get("/api/alarms/summary").json()["total"] == 1

    header = api_client_for(customer).get(f"/api/v1/config/header?plantId={own_plant.pk}").json()
    assert header["status"] == "success"
    assert {k: v["count"] for k, v in header.items() if k.endswith("Info")} == {
        "protectionInfo": 2,
        "warningInfo": 1,
        "faultInfo": 2,
    }


def test_summary_of_an_invisible_plant_is_404(customer, other_plant):
    response = api_client_for(customer).get(f"/api/alarms/summary?plantId={other_plant.pk}")
    assert response.status_code == 404
    assert response.json()["error_code"]
    assert api_client_for(customer).get("/api/alarms/summary?plantId=abc").status_code == 400


def test_shelved_alarms_leave_the_header(customer, own_plant):
    from alarms.services import alarm_shelve

    alarm = alarm_create_manual(plant=own_plant, by=customer, title="Noise", severity=Severity.LOW)
    alarm_shelve(alarm=alarm, by=customer, until=timezone.now() + timedelta(hours=1))
    body = api_client_for(customer).get(f"/api/alarms/summary?plantId={own_plant.pk}").json()
    assert body["byState"]["shelved"] == 1
    assert body["warningInfo"]["count"] == 0


# --- analytics -------------------------------------------------------------------------------


def test_mtta_mttr_bad_actors_and_lost_energy(customer, own_plant, inverter, inverter2):
    t0 = timezone.now().replace(microsecond=0) - timedelta(hours=5)
    fault, temp = rule(own_plant), rule(own_plant, "Over temp", RuleType.THRESHOLD, Severity.MEDIUM)
    # A: acknowledged after 10 min, back to normal after 30 min, 2.5 kWh lost
    a = alarm_raise(rule=fault, device=inverter, at=t0, value=1, message="a")
    acknowledge_at(a, customer, t0 + timedelta(minutes=10))
    alarm_return_to_normal(alarm=a, at=t0 + timedelta(minutes=30))
    alarm_add_lost_energy(alarm=a, kwh=2.5)
    # B: acknowledged after 20 min, back to normal after 90 min
    b = alarm_raise(rule=temp, device=inverter, at=t0 + timedelta(hours=1), value=80, message="b")
    acknowledge_at(b, customer, t0 + timedelta(hours=1, minutes=20))
    alarm_return_to_normal(alarm=b, at=t0 + timedelta(hours=2, minutes=30))
    alarm_add_lost_energy(alarm=b, kwh=1.0)
    # C: still active, never acknowledged: in neither mean
    alarm_raise(rule=fault, device=inverter2, at=t0 + timedelta(hours=2), value=1, message="c")

    since, until = (t0 - timedelta(hours=1)).isoformat(), (t0 + timedelta(hours=4)).isoformat()
    response = api_client_for(customer).get(
        "/api/alarms/analytics", {"plantId": own_plant.pk, "since": since, "until": until}
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["total"] == 3
    assert body["mttaMinutes"] == 15.0 and body["mttaSample"] == 2
    assert body["mttrMinutes"] == 60.0 and body["mttrSample"] == 2
    assert sum(day["count"] for day in body["perDay"]) == 3
    assert body["timezone"] == own_plant.timezone
    assert body["rate"]["perHour"] == 0.6 and body["rate"]["exceedsGuideline"] is False
    assert body["lostEnergyKwh"] == 3.5
    causes = {row["cause"]: row["lostEnergyKwh"] for row in body["lostEnergyByCause"]}
    assert causes == {"status_code": 2.5, "threshold": 1.0}
    top = body["badActors"][0]
    assert (top["deviceName"], top["ruleName"], top["alarms"]) in {
        ("Inverter 1", "Inverter fault", 1),
        ("Inverter 1", "Over temp", 1),
        ("Inverter 2", "Inverter fault", 1),
    }
    assert len(body["badActors"]) == 3
    assert body["chattering"] == [] and body["floodMinutes"] == 0


def test_a_window_without_the_alarms_is_empty_and_bad_windows_are_400(customer, own_plant):
    alarm_create_manual(plant=own_plant, by=customer, title="Now", severity=Severity.LOW)
    client = api_client_for(customer)
    body = client.get(
        "/api/alarms/analytics",
        {"plantId": own_plant.pk, "since": "2020-01-01T00:00:00Z", "until": "2020-01-02T00:00:00Z"},
    ).json()
    assert body["total"] == 0 and body["mttaMinutes"] is None and body["perDay"] == []
    assert client.get("/api/alarms/analytics", {"since": "yesterday"}).status_code == 400
    bad = client.get("/api/alarms/analytics", {"since": "2026-01-02", "until": "2026-01-01"})
    assert bad.status_code == 400 and bad.json()["error_code"]
    # default window: the last 30 days
    assert client.get("/api/alarms/analytics").json()["total"] == 1


def test_chattering_rule_is_found(customer, own_plant, inverter, inverter2):
    t0 = timezone.now().replace(microsecond=0) - timedelta(hours=3)
    noisy, calm = rule(own_plant, "Noisy"), rule(own_plant, "Calm")
    alarm = alarm_raise(rule=noisy, device=inverter, at=t0, value=1, message="x")
    for minutes in (5, 15, 25):
        alarm_return_to_normal(alarm=alarm, at=t0 + timedelta(minutes=minutes))
        alarm = alarm_raise(rule=noisy, device=inverter, at=t0 + timedelta(minutes=minutes + 5), value=1, message="x")
    assert alarm.occurrence_count == 4
    # twice an hour apart on another rule: not chattering
    other = alarm_raise(rule=calm, device=inverter2, at=t0, value=1, message="y")
    alarm_return_to_normal(alarm=other, at=t0 + timedelta(minutes=5))
    alarm_raise(rule=calm, device=inverter2, at=t0 + timedelta(minutes=70), value=1, message="y")

    body = api_client_for(customer).get("/api/alarms/analytics", {"plantId": own_plant.pk}).json()
    assert body["chattering"] == [{"ruleId": noisy.pk, "ruleName": "Noisy", "runs": 2, "devices": 1}]
    top = body["badActors"][0]
    assert top["ruleName"] == "Noisy" and top["occurrences"] == 4


def test_time_in_flood_and_rate(customer, own_plant):
    minute = timezone.now().replace(second=0, microsecond=0) - timedelta(hours=1)
    ids = [
        alarm_create_manual(plant=own_plant, by=customer, title=f"A{n}", severity=Severity.LOW).pk for n in range(12)
    ]
    # eleven opened in one minute: the ten windows ending in that minute and the nine after flood
    Alarm.objects.filter(pk__in=ids[:11]).update(triggered_at=minute + timedelta(seconds=10))
    Alarm.objects.filter(pk=ids[11]).update(triggered_at=minute + timedelta(minutes=30))
    since, until = minute - timedelta(minutes=30), minute + timedelta(minutes=90)
    body = (
        api_client_for(customer)
        .get("/api/alarms/analytics", {"plantId": own_plant.pk, "since": since.isoformat(), "until": until.isoformat()})
        .json()
    )
    assert body["floodMinutes"] == 10
    assert body["rate"] == {"perHour": 6.0, "isaGuidelinePerHour": 6.0, "exceedsGuideline": False}


# --- seed 003 status words --------------------------------------------------------------------


def ingest(device, metrics, at=None):
    at = at or timezone.now().replace(microsecond=0) - timedelta(minutes=1)
    result = telemetry_ingest(
        plant_ids=[device.plant_id],
        readings=[{"deviceId": device.pk, "timestamp": at.isoformat(), "metrics": metrics}],
    )
    assert result.accepted == len(metrics), result


def test_pcs_alert_words_raw_and_decoded(customer, own_plant, other_plant):
    client = api_client_for(customer)
    missing = client.get(f"/api/v1/pcs/alert?plantId={own_plant.pk}")
    assert missing.status_code == 404 and missing.json()["error_code"] == "NO_PCS"

    pcs = Device.objects.create(plant=own_plant, type=DeviceType.PCS, name="PCS 1", serial_number="PCS-1")
    ingest(pcs, {"pcs_fault_status1": 5, "pcs_grid_status": 0, "pcs_warning_status": 32768})
    response = client.get(f"/api/v1/pcs/alert?plantId={own_plant.pk}")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "success" and body["deviceId"] == pcs.pk
    assert body["faultStatus1"] == "0000000000000101"
    assert body["gridStatus"] == "0000000000000000"
    assert body["warningStatus"] == "1000000000000000"
    assert body["inverterStatus"] is None  # never reported
    assert [f["name"] for f in body["decoded"]["faultStatus1"]] == ["FAULT_STATUS1_BIT0", "FAULT_STATUS1_BIT2"]
    assert body["decoded"]["faultStatus1"][0]["category"] == "fault"
    assert body["decoded"]["warningStatus"] == [{"bit": 15, "name": "WARNING_STATUS_BIT15", "category": "warning"}]
    assert body["decoded"]["gridStatus"] == []

    assert client.get(f"/api/v1/pcs/alert?plantId={own_plant.pk}&deviceId={pcs.pk + 1000}").status_code == 404
    assert client.get(f"/api/v1/pcs/alert?plantId={other_plant.pk}").status_code == 404
    # a model-specific map wins over the default
    pcs.manufacturer, pcs.model = "Acme", "P1"
    pcs.save()
    StatusBitMap.objects.create(
        device_type="pcs",
        manufacturer="Acme",
        model="P1",
        word="pcs_fault_status1",
        bits={"0": {"name": "DC_OVERCURRENT", "category": "fault"}},
    )
    names = [f["name"] for f in client.get("/api/pcs/alert").json()["decoded"]["faultStatus1"]]
    assert names == ["DC_OVERCURRENT", "BIT2"]


def test_bess_rack_alerts_keep_data_keys_verbatim(customer, own_plant):
    bess = Device.objects.create(plant=own_plant, type=DeviceType.BESS, name="BESS 1", serial_number="B-1")
    racks = [
        Device.objects.create(
            plant=own_plant, type=DeviceType.BESS_RACK, name=f"Rack {n}", serial_number=f"R-{n}", parent=bess
        )
        for n in (1, 2)
    ]
    ingest(
        racks[0],
        {
            "battery1_protection": 0,
            "battery1_alarm": 2,
            "battery1_warning": 0,
            "battery2_protection": 0,
            "battery2_alarm": 0,
            "battery2_warning": 3,
            "bams_status": 0,
        },
    )
    client = api_client_for(customer)
    response = client.get(f"/api/v1/bess/alert/rack/rack01?plantId={own_plant.pk}")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["rackNumber"] == "rack01" and body["deviceId"] == racks[0].pk and body["status"] == "success"
    assert body["batteryAlerts"] == {
        "battery_1_protection": "Normal",
        "battery_1_alarm": "BATTERY_ALARM_BIT1",
        "battery_1_warning": "Normal",
        "battery_2_protection": "Normal",
        "battery_2_alarm": "Normal",
        "battery_2_warning": "BATTERY_WARNING_BIT0, BATTERY_WARNING_BIT1",
    }
    assert body["bamsAlerts"] == {"bams_status": "Normal"}
    assert body["decoded"]["battery_1_alarm"] == [{"bit": 1, "name": "BATTERY_ALARM_BIT1", "category": "fault"}]

    second = client.get(f"/api/v1/bess/alert/rack/rack02?plantId={own_plant.pk}").json()
    assert second["deviceId"] == racks[1].pk and second["batteryAlerts"] == {} and second["bamsAlerts"] == {}
    out = client.get(f"/api/v1/bess/alert/rack/rack03?plantId={own_plant.pk}")
    assert out.status_code == 404 and out.json()["error_code"] == "RACK_NOT_FOUND"
    assert client.get(f"/api/v1/bess/alert/rack/rack00?plantId={own_plant.pk}").status_code == 404
    assert client.get(f"/api/v1/bess/alert/rack/shelf1?plantId={own_plant.pk}").status_code == 400


def test_status_alarm_from_ingest_lands_in_the_header_by_its_flags(customer, own_plant, inverter):
    from alarms.evaluation import devices_evaluate
    from alarms.services import alarm_rules_create_defaults

    alarm_rules_create_defaults(plant=own_plant)  # "Inverter fault": any bit of event_bits
    ingest(inverter, {"event_bits": 129})  # GROUND_FAULT (bit 0, fault) + OVER_TEMP (bit 7, protection)
    devices_evaluate(device_ids=[inverter.pk])
    alarm = Alarm.objects.get(plant=own_plant, rule__name="Inverter fault")
    assert {f["name"] for f in alarm.metadata["flags"]} == {"GROUND_FAULT", "OVER_TEMP"}

    body = api_client_for(customer).get(f"/api/alarms/summary?plantId={own_plant.pk}").json()
    assert body["faultInfo"] == {"count": 1, "items": ["Inverter 1: GROUND_FAULT"]}
    assert body["protectionInfo"] == {"count": 1, "items": ["Inverter 1: OVER_TEMP"]}
    assert body["warningInfo"]["count"] == 0


def test_insights_run_a_fixed_number_of_queries(customer, own_plant, inverter, django_assert_max_num_queries):
    fault = rule(own_plant)
    t0 = timezone.now() - timedelta(hours=2)
    for n in range(3):
        device = Device.objects.create(plant=own_plant, type=DeviceType.INVERTER, name=f"I{n}", serial_number=f"Q{n}")
        alarm = alarm_raise(rule=fault, device=device, at=t0, value=1, message="q")
        alarm_acknowledge(alarm=alarm, by=customer)
        alarm_return_to_normal(alarm=alarm, at=t0 + timedelta(minutes=n + 1))
    client = api_client_for(customer)
    client.get("/api/alarms/summary")  # warm the auth path
    with django_assert_max_num_queries(12):
        assert client.get(f"/api/alarms/summary?plantId={own_plant.pk}").status_code == 200
    with django_assert_max_num_queries(16):
        assert client.get(f"/api/alarms/analytics?plantId={own_plant.pk}").status_code == 200


def test_header_count_is_complete_while_items_are_capped(customer, own_plant, inverter):
    from alarms.selectors import HEADER_MAX_ITEMS

    for n in range(HEADER_MAX_ITEMS + 5):
        alarm_create_manual(plant=own_plant, by=customer, title=f"W{n}", severity=Severity.LOW)
    # flags that are only informational: the severity decides, the title is the item
    alarm_raise(
        rule=rule(own_plant, severity=Severity.CRITICAL),
        device=inverter,
        at=timezone.now(),
        value=8,
        message="status",
        metadata={"flags": [{"bit": 3, "name": "RUNNING", "category": "status"}]},
    )
    body = api_client_for(customer).get(f"/api/v1/config/header?plantId={own_plant.pk}").json()
    assert body["warningInfo"]["count"] == HEADER_MAX_ITEMS + 5
    assert len(body["warningInfo"]["items"]) == HEADER_MAX_ITEMS
    assert body["warningInfo"]["items"][0] == f"W{HEADER_MAX_ITEMS + 4}"  # newest first
    assert body["faultInfo"] == {"count": 1, "items": ["Inverter fault — Inverter 1"]}
    assert body["protectionInfo"]["count"] == 0
