"""The collection API over HTTP as the SPA sends it (camelCase JSON, Bearer token), the
management commands, and the beat fan-out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from collector import tasks
from collector.models import CollectionConfig
from collector.services import collection_dispatch_due, phase_of
from collector.simulator import free_port
from solarhub.testing.personas import api_client_for
from telemetry.models import Reading

from .conftest import make_config

pytestmark = pytest.mark.django_db


def _url(device, suffix=""):
    return f"/api/devices/{device.id}/collection{suffix}"


def _body(port, **extra):
    return {"driver": "sunspec_modbus_tcp", "host": "127.0.0.1", "port": port, "timeoutSeconds": 2, **extra}


def test_put_get_patch_and_the_secret_is_never_echoed(installer, customer, inverter):
    client = api_client_for(installer)
    response = client.put(_url(inverter), _body(1502, secret="s3cr3t-pw", username="admin"), format="json")
    assert response.status_code == 200, response.content
    assert b"s3cr3t-pw" not in response.content
    body = response.json()
    assert body["configured"] is True
    assert body["config"]["hasSecret"] is True and "secret" not in body["config"]
    assert body["config"]["pollIntervalSeconds"] == 300 and body["config"]["unitId"] == 1
    assert body["state"]["nextPollAt"].endswith("Z")

    response = client.patch(_url(inverter), {"pollIntervalSeconds": 60, "enabled": False}, format="json")
    assert response.status_code == 200, response.content
    config = CollectionConfig.objects.get(device=inverter)
    assert config.interval_seconds == 60 and not config.enabled and config.secret == "s3cr3t-pw"

    seen = api_client_for(customer).get(_url(inverter))  # the owner sees it, never the secret
    assert seen.status_code == 200 and b"s3cr3t-pw" not in seen.content
    assert seen.json()["config"]["host"] == "127.0.0.1"


def test_a_device_without_config_answers_configured_false(customer, inverter):
    response = api_client_for(customer).get(_url(inverter))
    assert response.status_code == 200
    assert response.json() == {"deviceId": inverter.id, "configured": False, "config": None, "state": None,
                               "lastPoll": None}  # fmt: skip


def test_patch_without_a_config_is_a_clear_404(installer, inverter):
    response = api_client_for(installer).patch(_url(inverter), {"pollIntervalSeconds": 60}, format="json")
    assert response.status_code == 404 and response.json()["error_code"] == "COLLECTION_NOT_CONFIGURED"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (_body(502, pollIntervalSeconds=10), "pollIntervalSeconds"),
        (_body(502, timeoutSeconds=0.1), "timeoutSeconds"),
        (_body(502, host="http://x/"), "host"),
        (_body(502, host="bad\x00host"), "host"),
        (_body(70000), "port"),
        ({"driver": "http_json", "host": "10.0.0.5", "path": "/api"}, "jsonMapping"),
        ({"driver": "http_json", "host": "10.0.0.5", "path": "/api",
          "jsonMapping": [{"metric": "no_such_metric", "path": "a.b"}]}, "jsonMapping"),
        ({"driver": "modbus_rtu", "host": "10.0.0.5"}, "driver"),
        (_body(502, pollIntervalSeconds=30, timeoutSeconds=30), "timeoutSeconds"),
    ],
    ids=["interval", "timeout", "scheme", "nul", "port", "no-mapping", "unknown-metric", "driver",
         "timeout-vs-interval"],
)  # fmt: skip
def test_bad_configs_are_400_with_error_code(installer, inverter, body, field):
    response = api_client_for(installer).put(_url(inverter), body, format="json")
    assert response.status_code == 400, response.content
    payload = response.json()
    assert payload["error_code"] and field in payload["errors"], payload
    assert not CollectionConfig.objects.filter(device=inverter).exists()


def test_http_mapping_round_trips_with_metric_keys_intact(installer, inverter):
    mapping = [{"metric": "ac_power", "path": "Body.Data.PAC.Value", "unit": "W"}]
    body = {"driver": "http_json", "host": "192.168.1.20", "path": "/solar_api/v1/x.cgi", "jsonMapping": mapping}
    response = api_client_for(installer).put(_url(inverter), body, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["config"]["jsonMapping"] == [{**mapping[0], "scale": 1.0}]
    assert response.json()["config"]["port"] == 80
    assert CollectionConfig.objects.get(device=inverter).json_mapping["ac_power"]["path"] == "Body.Data.PAC.Value"


def test_test_poll_answers_what_it_read_and_stores_nothing(installer, inverter, modbus_server):
    client = api_client_for(installer)
    response = client.post(_url(inverter, "/test"), _body(modbus_server.port), format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["ok"] is True and body["error"] is None
    values = {v["metric"]: v for v in body["values"]}
    assert values["ac_power"] == {"metric": "ac_power", "value": 4.2, "unit": "kW"}
    assert body["info"]["models"] == [1, 103, 160, 203]
    assert not Reading.objects.filter(device=inverter).exists()
    assert not CollectionConfig.objects.filter(device=inverter).exists()  # a body config is not saved


def test_test_poll_reports_the_error(installer, inverter):
    make_config(inverter, port=free_port())
    response = api_client_for(installer).post(_url(inverter, "/test"), {}, format="json")
    assert response.status_code == 200
    assert response.json()["ok"] is False and response.json()["error"]["code"] == "CONNECTION_REFUSED"


def test_test_poll_without_any_config_is_400(installer, inverter):
    response = api_client_for(installer).post(_url(inverter, "/test"), {}, format="json")
    assert response.status_code == 400 and response.json()["error_code"] == "COLLECTION_NOT_CONFIGURED"


def test_collect_command_stores_and_get_shows_the_last_poll(customer, inverter, modbus_server, capsys):
    make_config(inverter, port=modbus_server.port)
    call_command("collect", "--device", str(inverter.id), "--once")
    assert "stored" in capsys.readouterr().out
    count = Reading.objects.filter(device=inverter).count()
    assert count > 10
    body = api_client_for(customer).get(_url(inverter)).json()
    assert body["lastPoll"]["ok"] is True and body["lastPoll"]["durationMs"] > 0
    assert body["lastPoll"]["stored"]["accepted"] == count
    assert {"metric": "frequency", "value": 50.02, "unit": "Hz"} in body["lastPoll"]["values"]
    call_command("collect", "--device", str(inverter.id), "--once", "--dry-run")
    assert Reading.objects.filter(device=inverter).count() == count


def test_collect_command_fails_loudly(inverter):
    with pytest.raises(CommandError, match="No collection config"):
        call_command("collect", "--device", str(inverter.id), "--once")
    make_config(inverter, port=free_port())
    with pytest.raises(CommandError, match="1 poll"):
        call_command("collect", "--device", str(inverter.id), "--once")


def test_dispatch_claims_due_devices_once_and_fans_out(inverter, modbus_server, own_plant):
    config = make_config(inverter, port=modbus_server.port, next_poll_at=datetime.now(UTC) - timedelta(seconds=1))
    later = make_config(
        own_plant.devices.create(type="inverter", name="Later", serial_number="LATER-1"),
        port=modbus_server.port, next_poll_at=datetime.now(UTC) + timedelta(hours=1),
    )  # fmt: skip
    assert tasks.dispatch_due() == 1  # eager in tests: the batch is polled right away
    config.refresh_from_db()
    assert config.last_success_at is not None and config.next_poll_at > datetime.now(UTC)
    assert collection_dispatch_due() == []  # already claimed / not due
    later.refresh_from_db()
    assert later.last_poll_at is None


def test_due_times_spread_over_the_interval():
    phases = sorted(phase_of(device_id, 300) for device_id in range(1, 501))
    assert phases[0] >= 0 and phases[-1] < 300
    seconds = {int(p) for p in phases}
    assert len(seconds) > 150  # 500 devices do not share a handful of seconds
