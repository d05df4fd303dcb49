"""The alarms API as the SPA uses it: lifecycle through the endpoints, seed 000's PATCH, clear
4xx answers, and an operator of plant A who cannot touch plant B's alarms."""

from __future__ import annotations

import pytest

from accounts.services import user_create
from alarms.models import Alarm, AlarmRule
from alarms.services import alarm_create_manual
from plants.choices import PlantRole
from plants.models import PlantMembership
from solarhub.testing.personas import api_client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(own_plant):
    user = user_create(email="op@example.com", password="x-Pass-1234", username="op")
    PlantMembership.objects.create(user=user, plant=own_plant, role=PlantRole.OPERATOR)
    return user


def test_operator_runs_the_lifecycle_and_history_is_complete(own_plant, operator):
    client = api_client_for(operator)
    alarm = alarm_create_manual(plant=own_plant, by=None, title="Inverter 3 tripped", severity="high")
    url = f"/api/alarms/{alarm.id}"
    assert client.post(f"{url}/acknowledge", {"comment": "on it"}, format="json").json()["state"] == (
        "active_acknowledged"
    )
    assert client.post(f"{url}/comment", {"comment": "crew dispatched"}, format="json").status_code == 201
    assert client.post(f"{url}/assign", {"assigneeId": operator.id}, format="json").json()["assigneeId"] == operator.id
    assert client.post(f"{url}/clear", {}, format="json").json()["state"] == "cleared"
    body = client.post(f"{url}/close", {"comment": "breaker replaced"}, format="json").json()
    assert body["state"] == "closed" and body["status"] == "closed" and body["closedBy"] == operator.id
    events = client.get(f"{url}/events").json()
    assert [e["kind"] for e in events] == ["created", "acknowledged", "comment", "assigned", "cleared", "closed"]
    assert all(e["actorId"] == operator.id for e in events[1:])
    assert events[1]["comment"] == "on it" and events[-1]["toState"] == "closed"
    # closed is final: acknowledging again is a conflict with an error code
    response = client.post(f"{url}/shelve", {"minutes": 10}, format="json")
    assert response.status_code == 409 and response.json()["error_code"] == "ALARM_CLOSED"


def test_operator_of_plant_a_cannot_acknowledge_plant_b(own_plant, other_plant, operator):
    theirs = alarm_create_manual(plant=other_plant, by=None, title="Not yours", severity="low")
    response = api_client_for(operator).post(f"/api/alarms/{theirs.id}/acknowledge", {}, format="json")
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.acknowledged_at is None


def test_viewer_sees_but_cannot_acknowledge(own_plant):
    viewer = user_create(email="v@example.com", password="x-Pass-1234", username="v")
    PlantMembership.objects.create(user=viewer, plant=own_plant, role=PlantRole.VIEWER)
    alarm = alarm_create_manual(plant=own_plant, by=None, title="Look only", severity="low")
    client = api_client_for(viewer)
    assert client.get(f"/api/alarms/{alarm.id}").status_code == 200
    response = client.post(f"/api/alarms/{alarm.id}/acknowledge", {}, format="json")
    assert response.status_code == 403 and response.json()["error_code"]


def test_seed_000_create_patch_and_filters(own_plant, customer):
    client = api_client_for(customer)
    created = client.post(
        "/api/alarms",
        {"plantId": own_plant.id, "title": "Fence damaged", "message": "north side", "severity": "low"},
        format="json",
    )
    assert created.status_code == 201
    alarm_id = created.json()["id"]
    patched = client.patch(f"/api/alarms/{alarm_id}", {"acknowledged": True, "severity": "high"}, format="json")
    assert patched.status_code == 200
    assert patched.json()["status"] == "acknowledged" and patched.json()["severity"] == "high"
    other = alarm_create_manual(plant=own_plant, by=None, title="Grid outage", severity="critical")
    assert [a["id"] for a in client.get("/api/alarms", {"state": "acknowledged"}).json()] == [alarm_id]
    assert [a["id"] for a in client.get("/api/alarms", {"state": "open"}).json()] == [other.id]
    assert [a["id"] for a in client.get("/api/alarms", {"severity": "critical"}).json()] == [other.id]
    assert [a["id"] for a in client.get("/api/alarms", {"search": "fence"}).json()] == [alarm_id]
    closed = client.patch(f"/api/alarms/{alarm_id}", {"closed": True}, format="json").json()
    assert closed["status"] == "closed"
    assert client.get("/api/alarms", {"state": "closed"}).json()[0]["id"] == alarm_id


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title": "x", "severity": "apocalyptic"}, "severity"),
        ({"severity": "low"}, "title"),
        ({"title": "x", "deviceId": 999999}, "deviceId"),
    ],
)
def test_bad_manual_alarm_is_a_400_and_stores_nothing(own_plant, customer, body, field):
    response = api_client_for(customer).post("/api/alarms", {"plantId": own_plant.id, **body}, format="json")
    assert response.status_code == 400 and response.json()["error_code"]
    assert field in str(response.json())
    assert not Alarm.objects.exists()


def test_rule_crud_validates_parameters_against_the_catalog(own_plant, installer):
    client = api_client_for(installer)
    body = {
        "plantId": own_plant.id,
        "name": "Hot",
        "ruleType": "threshold",
        "severity": "high",
        "params": {"metric": "internal_temp", "operator": ">", "value": 80},
        "triggerDelayMinutes": 10,
    }
    created = client.post("/api/alarm-rules", body, format="json")
    assert created.status_code == 201, created.content
    rule_id = created.json()["id"]
    bad = client.post(
        "/api/alarm-rules", {**body, "params": {"metric": "no_such_metric", "operator": ">", "value": 1}}, format="json"
    )
    assert bad.status_code == 400 and "no_such_metric" in str(bad.json())
    bad = client.patch(f"/api/alarm-rules/{rule_id}", {"params": {"operator": "~"}}, format="json")
    assert bad.status_code == 400 and bad.json()["error_code"]
    assert AlarmRule.objects.get(pk=rule_id).params["operator"] == ">"  # nothing lost
    assert client.patch(f"/api/alarm-rules/{rule_id}", {"enabled": False}, format="json").json()["enabled"] is False
    dry = client.post(f"/api/alarm-rules/{rule_id}/test", {}, format="json")
    assert dry.status_code == 200 and dry.json()["firings"] == 0


def test_operator_cannot_change_rules(own_plant, operator):
    rule = own_plant.alarm_rules.first()
    response = api_client_for(operator).patch(f"/api/alarm-rules/{rule.id}", {"enabled": False}, format="json")
    assert response.status_code == 403
    rule.refresh_from_db()
    assert rule.enabled
