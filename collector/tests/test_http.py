"""The HTTP JSON driver against a real local HTTP server (a Fronius Solar API
``GetInverterRealtimeData`` style document)."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from collector.services import collection_poll
from collector.simulator import free_port
from telemetry.models import Reading

from .conftest import make_config

pytestmark = pytest.mark.django_db

PATH = "/solar_api/v1/GetInverterRealtimeData.cgi?Scope=Device&DeviceId=1&DataCollection=CommonInverterData"
MAPPING = {
    "ac_power": {"path": "Body.Data.PAC.Value", "unit": "W"},
    "energy_total": {"path": "Body.Data.TOTAL_ENERGY.Value", "unit": "Wh"},
    "frequency": {"path": "Body.Data.FAC.Value", "unit": "Hz"},
    "dc_power": {"path": "Body.Data.MISSING.Value", "unit": "W"},  # absent at night: skipped
}


def _document(timestamp="2026-06-01T12:00:00+02:00"):
    return {
        "Head": {"Status": {"Code": 0}, "Timestamp": timestamp},
        "Body": {"Data": {"PAC": {"Value": 3190, "Unit": "W"}, "TOTAL_ENERGY": {"Value": 8_123_456, "Unit": "Wh"},
                          "FAC": {"Value": 49.99, "Unit": "Hz"}}},
    }  # fmt: skip


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        behaviour = self.server.behaviour
        self.server.seen.append({"path": self.path, "auth": self.headers.get("Authorization")})
        if behaviour == "slow":
            time.sleep(3)
        if behaviour == "drip":  # a byte every 0.3 s: no single socket read ever times out
            self.send_response(200)
            self.end_headers()
            for _ in range(20):
                try:
                    self.wfile.write(b" ")
                    self.wfile.flush()
                except OSError:
                    return
                time.sleep(0.3)
            return
        if behaviour == "error":
            self.send_response(500)
            self.end_headers()
            return
        body = b"<html>not json</html>" if behaviour == "html" else json.dumps(_document()).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except OSError:
            pass

    def log_message(self, *args):
        pass


@pytest.fixture
def http_device():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    server.behaviour = "ok"
    server.seen = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _config(inverter, port, **fields):
    return make_config(
        inverter, port=port, driver="http_json", path=PATH, json_mapping=MAPPING,
        timestamp_path="Head.Timestamp", **fields,
    )  # fmt: skip


def test_reads_json_paths_converts_units_and_stores_once(inverter, http_device):
    config = _config(inverter, http_device.server_address[1], secret="tok-123")
    [result] = collection_poll(config_ids=[config.id])
    assert result.ok, result.error
    stored = dict(Reading.objects.filter(device=inverter).values_list("metric__key", "value"))
    assert stored == {"ac_power": 3.19, "energy_total": 8123.456, "frequency": 49.99}
    assert result.timestamp.isoformat() == "2026-06-01T10:00:00+00:00"  # the device's own time, in UTC
    assert http_device.seen[0]["path"] == PATH and http_device.seen[0]["auth"] == "Bearer tok-123"
    [again] = collection_poll(config_ids=[config.id])
    assert again.stored["accepted"] == 0 and again.stored["duplicates"] == 3
    assert Reading.objects.filter(device=inverter).count() == 3


@pytest.mark.parametrize(("behaviour", "code"), [("error", "HTTP_ERROR"), ("html", "BAD_RESPONSE")])
def test_bad_answers_are_errors(inverter, http_device, behaviour, code):
    http_device.behaviour = behaviour
    config = _config(inverter, http_device.server_address[1])
    collection_poll(config_ids=[config.id])
    config.refresh_from_db()
    assert config.last_error_code == code and config.consecutive_failures == 1
    assert not Reading.objects.filter(device=inverter).exists()


def test_a_slow_device_times_out_within_the_timeout(inverter, http_device):
    http_device.behaviour = "slow"
    config = _config(inverter, http_device.server_address[1], timeout_seconds=1.0)
    started = time.monotonic()
    [result] = collection_poll(config_ids=[config.id])
    assert result.error_code == "TIMEOUT"
    assert time.monotonic() - started < 1.75


def test_a_dripping_device_is_abandoned_at_the_timeout(inverter, http_device):
    """urllib's timeout bounds each socket read, not the whole answer: the read is bounded by the
    poll's timeout and the poll does not wait for the abandoned thread."""
    http_device.behaviour = "drip"
    config = _config(inverter, http_device.server_address[1], timeout_seconds=1.0)
    started = time.monotonic()
    [result] = collection_poll(config_ids=[config.id])
    assert result.error_code == "TIMEOUT"
    assert time.monotonic() - started < 1.75


def test_connection_refused(inverter):
    config = _config(inverter, free_port())
    [result] = collection_poll(config_ids=[config.id])
    assert result.error_code == "CONNECTION_REFUSED"
