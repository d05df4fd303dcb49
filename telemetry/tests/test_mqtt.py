"""``manage.py mqtt_ingest``: the MQTT door of the ingest service, end to end against the real
Mosquitto on 127.0.0.1:1883 (skipped when it does not answer, an error with
``SOLARHUB_REQUIRE_SERVICES=1``).

Every test uses its own topic prefix and client ids, so parallel runs on one broker never see
each other's messages, and removes its broker sessions afterwards. The ingestor writes from its
own thread (or process), hence ``transaction=True``.
"""

from __future__ import annotations

import io
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import paho.mqtt.client as mqtt
import pytest
from django.core.management import call_command
from django.db import OperationalError, connection
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from plants.choices import DeviceType
from plants.models import Device
from solarhub.testing.personas import make_plant
from solarhub.testing.services import services_required, tcp_answers
from telemetry import mqtt as mqtt_module
from telemetry.catalog import metric_definitions
from telemetry.ingest import metric_catalog
from telemetry.models import DeviceEvent, Metric, Reading
from telemetry.mqtt import MqttIngestor, MqttSettings, mqtt_settings_from_url

BROKER = MqttSettings(host="127.0.0.1", port=1883)
T0 = datetime(2025, 6, 1, 10, 0, tzinfo=UTC)
REPO = Path(__file__).resolve().parents[2]


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def wait_until(predicate, timeout: float = 15.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.05)


# -- fixtures ----------------------------------------------------------------------------------


@pytest.fixture
def broker() -> MqttSettings:
    if not tcp_answers(BROKER.host, BROKER.port):
        message = (
            "Mosquitto does not answer on 127.0.0.1:1883 (start it: mosquitto -d -c /etc/mosquitto/mosquitto.conf)"
        )
        if services_required():
            pytest.fail(f"SOLARHUB_REQUIRE_SERVICES is set but {message}")
        pytest.skip(message)
    return BROKER


@pytest.fixture
def prefix(broker):
    """A topic prefix and client-id stem of this test alone; its broker sessions are removed after."""
    stem = f"solarhub-test-{uuid.uuid4().hex[:10]}"
    yield stem
    for suffix in ("ingest", "pub"):
        _drop_session(f"{stem}-{suffix}")


def _drop_session(client_id: str) -> None:
    """Connect with clean start and session expiry 0: the broker forgets the session and its queue."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
    properties = Properties(PacketTypes.CONNECT)
    properties.SessionExpiryInterval = 0
    try:
        client.connect(BROKER.host, BROKER.port, clean_start=True, properties=properties)
        client.loop_start()
        time.sleep(0.2)
        client.disconnect()
        client.loop_stop()
    except OSError:
        pass


@pytest.fixture
def catalog(transactional_db):
    """The metric catalog is seeded by a migration; a transactional test before this one may have
    flushed it. Re-seed what is missing and drop the per-process cache of metric ids."""
    existing = set(Metric.objects.values_list("key", flat=True))
    Metric.objects.bulk_create(
        [
            Metric(key=d.key, unit=d.unit, kind=d.kind, min_value=d.min_value, max_value=d.max_value)
            for d in metric_definitions()
            if d.key not in existing
        ]
    )
    metric_catalog(refresh=True)
    yield
    metric_catalog(refresh=True)


@pytest.fixture
def plants(catalog):
    """Plant A with INV-1; plant B with its own INV-1 (same serial) and INV-B. Readings are removed after."""
    plant_a = make_plant(name="MQTT A", plant_code=f"MQA-{uuid.uuid4().hex[:6]}")
    plant_b = make_plant(name="MQTT B", plant_code=f"MQB-{uuid.uuid4().hex[:6]}")
    devices = {
        "a1": Device.objects.create(plant=plant_a, type=DeviceType.INVERTER, name="A1", serial_number="INV-1"),
        "b1": Device.objects.create(plant=plant_b, type=DeviceType.INVERTER, name="B1", serial_number="INV-1"),
        "bb": Device.objects.create(plant=plant_b, type=DeviceType.INVERTER, name="BB", serial_number="INV-B"),
    }
    yield plant_a, plant_b, devices
    # The readings table is unmanaged (partitioned by migration SQL): the transactional flush
    # after this test does not empty it, so remove what this test wrote.
    Reading.objects.filter(device_id__in=[device.id for device in devices.values()]).delete()


@pytest.fixture
def publisher(prefix):
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"{prefix}-pub", protocol=mqtt.MQTTv5)
    client.connect(BROKER.host, BROKER.port)
    client.loop_start()

    def publish(plant_code: str, serial: str, payload, kind: str = "telemetry") -> None:
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        info = client.publish(f"{prefix}/{plant_code}/{serial}/{kind}", body, qos=1)
        info.wait_for_publish(timeout=10)
        assert info.is_published(), "the broker did not acknowledge a QoS 1 publish"

    yield publish
    client.disconnect()
    client.loop_stop()


def make_ingestor(prefix: str, **options) -> MqttIngestor:
    defaults = {"flush_seconds": 0.2, "session_expiry": 120, "reconnect_min_delay": 0.2, "reconnect_max_delay": 1}
    return MqttIngestor(settings=BROKER, client_id=f"{prefix}-ingest", topic_prefix=prefix, **{**defaults, **options})


class Running:
    """``MqttIngestor.run`` in a thread, as the command runs it in the main one."""

    def __init__(self, ingestor: MqttIngestor):
        self.ingestor = ingestor
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        try:
            self.ingestor.run()
        except BaseException as exc:  # noqa: BLE001 -- reported by the test
            self.error = exc

    def __enter__(self) -> MqttIngestor:
        self.thread.start()
        assert self.ingestor.wait_connected(10), "the ingestor did not subscribe within 10 s"
        return self.ingestor

    def __exit__(self, *exc_info) -> None:
        self.ingestor.stop()
        self.thread.join(30)
        assert not self.thread.is_alive(), "the ingestor did not stop"
        assert self.error is None, self.error


def subscribe_once(prefix: str) -> None:
    """Create the ingestor's persistent session (and its subscription) on the broker, then leave."""
    with Running(make_ingestor(prefix)):
        pass


def values_of(device) -> dict[tuple[str, datetime], float]:
    rows = Reading.objects.filter(device=device).values_list("metric__key", "ts", "value")
    return {(key, ts): value for key, ts, value in rows}


# -- the pure part -----------------------------------------------------------------------------


def test_handle_message_parses_topics_and_payloads_without_io():
    ingestor = MqttIngestor(topic_prefix="pre/fix", batch_size=10)
    assert ingestor.subscription == "pre/fix/+/+/telemetry"
    one = ingestor.handle_message("pre/fix/P1/SN-1/telemetry", b'{"ts": 1700000000, "metrics": {"ac_power": 1}}')
    assert one == [{"serialNumber": "SN-1", "timestamp": 1700000000, "metrics": {"ac_power": 1}}]
    many = ingestor.handle_message(
        "pre/fix/P1/SN-2/telemetry",
        json.dumps([{"timestamp": "2025-01-01T00:00:00Z", "metrics": {}, "deviceId": 99}, 7]).encode(),
        mid=5,
        qos=1,
    )
    # identity only from the topic: a deviceId in the payload is dropped; a non-object goes to the service
    assert many == [{"serialNumber": "SN-2", "timestamp": "2025-01-01T00:00:00Z", "metrics": {}}, 7]
    assert ingestor.handle_message("pre/fix/P1/SN-1/telemetry", b"{nope") == []
    assert ingestor.handle_message("pre/fix/P1/SN-1/telemetry", b'"a string"') == []
    assert ingestor.handle_message("pre/fix/P1/SN-1/telemetry", b"\xff\xfe") == []
    assert ingestor.handle_message("pre/fix/P1/telemetry", b"{}") == []
    assert ingestor.handle_message("pre/fix/P1/SN-1/status", b"{}") == []
    stats = ingestor.stats
    assert (stats.messages, stats.readings, stats.malformed, stats.bad_topic) == (7, 3, 3, 2)
    assert ingestor.pending_messages() == 7
    assert ingestor._pending.acks == [(0, 5, 1)]  # only QoS 1 deliveries need a PUBACK


def test_mqtt_url_parsing():
    assert mqtt_settings_from_url("mqtt://u%40x:p%3Aw@broker:1884") == MqttSettings("broker", 1884, "u@x", "p:w")
    assert mqtt_settings_from_url("mqtts://broker") == MqttSettings("broker", 8883, tls=True)
    with pytest.raises(ValueError, match="mqtt:// or mqtts://"):
        mqtt_settings_from_url("http://broker")


@pytest.fixture
def flaky_ingest(monkeypatch):
    """The ingest service failing on its first call, as during a database failover."""
    calls = []

    def ingest(**kwargs):
        calls.append(len(kwargs["readings"]))
        if len(calls) == 1:
            raise OperationalError("the database is restarting")
        return real(**kwargs)

    real = mqtt_module.telemetry_ingest
    monkeypatch.setattr(mqtt_module, "telemetry_ingest", ingest)
    return calls


@pytest.mark.django_db(transaction=True)
def test_a_failed_write_keeps_the_batch_unacknowledged_for_the_retry(plants, flaky_ingest):
    plant_a, _, devices = plants
    ingestor = MqttIngestor(topic_prefix="p", batch_size=10)
    acked = []
    ingestor.client.ack = lambda mid, qos: acked.append(mid)
    topic = f"p/{plant_a.plant_code}/INV-1/telemetry"
    ingestor.handle_message(topic, json.dumps({"ts": iso(T0), "metrics": {"ac_power": 1}}).encode(), mid=1, qos=1)
    with pytest.raises(OperationalError):
        ingestor.flush()
    assert acked == [] and ingestor.pending_messages() == 1 and ingestor.stats.failed_flushes == 1
    later = {"ts": iso(T0 + timedelta(minutes=5)), "metrics": {"ac_power": 2}}
    ingestor.handle_message(topic, json.dumps(later).encode(), mid=2, qos=1)
    ingestor.flush()
    assert acked == [1, 2]  # after the commit, in the order received
    assert flaky_ingest == [1, 2] and ingestor.stats.accepted == 2 and len(values_of(devices["a1"])) == 2


def test_handle_message_parses_event_topics():
    ingestor = MqttIngestor(topic_prefix="pre", batch_size=10)
    assert ingestor.event_subscription == "pre/+/+/events"
    events = ingestor.handle_message(
        "pre/P1/SN-1/events",
        json.dumps({"ts": 1700000000, "eventType": "fault", "code": "GF", "severity": 4, "deviceId": 99}).encode(),
    )
    assert events == [
        {"serialNumber": "SN-1", "timestamp": 1700000000, "eventType": "fault", "code": "GF", "message": None,
         "severity": 4}
    ]  # fmt: skip
    assert ingestor._pending.events == {"P1": events} and ingestor._pending.readings == {}
    assert (ingestor.stats.events, ingestor.stats.readings) == (1, 0)


# -- end to end against Mosquitto --------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_end_to_end_events_reach_the_topics_device_once(prefix, plants, publisher):
    plant_a, plant_b, devices = plants
    a = plant_a.plant_code
    event = {"ts": iso(T0), "eventType": "fault", "code": "GROUND_FAULT", "message": "Riso low", "severity": "critical"}
    with Running(make_ingestor(prefix)) as ingestor:
        publisher(a, "INV-1", event, kind="events")
        publisher(a, "INV-1", [event, {"ts": iso(T0), "eventType": ""}, {**event, "code": "RESTART"}], kind="events")
        publisher(a, "INV-B", event, kind="events")  # plant B's serial under plant A's code: nowhere
        publisher(a, "INV-1", {"ts": iso(T0), "metrics": {"ac_power": 1.0}})
        wait_until(lambda: ingestor.stats.messages >= 4, what="4 deliveries")
    stats = ingestor.stats
    assert (stats.events, stats.events_accepted, stats.events_duplicates, stats.events_rejected) == (5, 2, 1, 2)
    stored = DeviceEvent.objects.filter(device=devices["a1"]).order_by("code")
    assert [(e.code, e.severity, e.message) for e in stored] == [
        ("GROUND_FAULT", "critical", "Riso low"),
        ("RESTART", "critical", "Riso low"),
    ]
    assert not DeviceEvent.objects.filter(device__plant=plant_b).exists()
    assert values_of(devices["a1"]) == {("ac_power", T0): 1.0}


@pytest.mark.django_db(transaction=True)
def test_end_to_end_messages_reach_the_store_of_the_topics_plant_only(prefix, plants, publisher):
    plant_a, plant_b, devices = plants
    a = plant_a.plant_code
    with Running(make_ingestor(prefix)) as ingestor:
        publisher(a, "INV-1", {"ts": iso(T0), "metrics": {"ac_power": 1.5, "dc_power": 1.6}})
        publisher(
            a,
            "INV-1",
            [
                {"timestamp": iso(T0 + timedelta(minutes=5)), "metrics": {"ac_power": 2.0}},
                {"ts": (T0 + timedelta(minutes=10)).timestamp(), "metrics": {"ac_power": 3.0}},
            ],
        )
        # a serial that exists only in plant B, published under plant A's code: not written anywhere
        publisher(a, "INV-B", {"ts": iso(T0), "metrics": {"ac_power": 9.0}})
        # a deviceId of plant B's device in the payload: ignored, the topic decides (A's INV-1)
        publisher(a, "INV-1", {"deviceId": devices["b1"].id, "ts": iso(T0 + timedelta(minutes=20)),
                               "metrics": {"ac_power": 7.0}})  # fmt: skip
        publisher("NO-SUCH-PLANT", "INV-1", {"ts": iso(T0), "metrics": {"ac_power": 5.0}})
        publisher(a, "INV-1", b"{this is not json")
        # one value out of range: rejected, the other value of the same reading kept
        publisher(a, "INV-1", {"ts": iso(T0 + timedelta(minutes=15)), "metrics": {"ac_power": -1e9, "dc_power": 4.0}})
        wait_until(lambda: ingestor.stats.messages >= 7, what="7 deliveries")
    stats = ingestor.stats
    assert (stats.messages, stats.accepted, stats.rejected, stats.malformed, stats.unknown_plant) == (7, 6, 2, 1, 1)
    assert values_of(devices["a1"]) == {
        ("ac_power", T0): 1.5,
        ("dc_power", T0): 1.6,
        ("ac_power", T0 + timedelta(minutes=5)): 2.0,
        ("ac_power", T0 + timedelta(minutes=10)): 3.0,
        ("dc_power", T0 + timedelta(minutes=15)): 4.0,
        ("ac_power", T0 + timedelta(minutes=20)): 7.0,
    }
    assert not Reading.objects.filter(device__plant=plant_b).exists()

    # Everything was acknowledged after the write: the persistent session holds nothing more.
    with Running(make_ingestor(prefix)) as again:
        time.sleep(0.5)
    assert again.stats.messages == 0 and again.stats.connects == 1


@pytest.mark.django_db(transaction=True)
def test_messages_published_while_the_consumer_is_down_arrive_on_restart(prefix, plants, publisher):
    plant_a, _, devices = plants
    subscribe_once(prefix)  # the broker now keeps a session for the ingestor's client id
    for minute in range(3):  # published while nobody is connected
        publisher(plant_a.plant_code, "INV-1", {"ts": iso(T0 + timedelta(minutes=minute)), "metrics": {"ac_power": 1}})
    out = io.StringIO()
    call_command(
        "mqtt_ingest",
        host=BROKER.host,
        port=BROKER.port,
        client_id=f"{prefix}-ingest",
        topic_prefix=prefix,
        session_expiry=120,
        flush_seconds=0.2,
        once_idle=2,
        stdout=out,
        stderr=io.StringIO(),
    )
    assert "3 message(s), 3 value(s) accepted" in out.getvalue()
    assert len(values_of(devices["a1"])) == 3


@pytest.mark.django_db(transaction=True)
def test_a_batch_not_yet_written_is_redelivered_after_a_crash(prefix, plants, publisher):
    plant_a, _, devices = plants
    doomed = make_ingestor(prefix, flush_seconds=300, batch_size=1000)
    doomed.start()
    assert doomed.wait_connected(10)
    for minute in range(2):
        publisher(plant_a.plant_code, "INV-1", {"ts": iso(T0 + timedelta(minutes=minute)), "metrics": {"ac_power": 2}})
    wait_until(lambda: doomed.pending_messages() == 2, what="2 pending messages")
    # Crash: the network thread dies and the socket closes without DISCONNECT, nothing written or acked.
    doomed.client.loop_stop()
    doomed.client.socket().close()
    assert not Reading.objects.filter(device__plant=plant_a).exists()

    with Running(make_ingestor(prefix)) as survivor:
        wait_until(lambda: survivor.stats.accepted >= 2, what="the redelivered messages")
    assert len(values_of(devices["a1"])) == 2 and survivor.stats.messages == 2


@pytest.mark.django_db(transaction=True)
def test_the_loop_reconnects_after_the_connection_drops(prefix, plants, publisher):
    plant_a, _, devices = plants
    with Running(make_ingestor(prefix)) as ingestor:
        publisher(plant_a.plant_code, "INV-1", {"ts": iso(T0), "metrics": {"ac_power": 1}})
        wait_until(lambda: ingestor.stats.accepted >= 1, what="the first message")
        ingestor.client.socket().shutdown(socket.SHUT_RDWR)  # as a broker restart or network cut looks
        # published while the consumer is away (QoS 1, persistent session): delivered after the reconnect
        publisher(plant_a.plant_code, "INV-1", {"ts": iso(T0 + timedelta(minutes=5)), "metrics": {"ac_power": 2}})
        wait_until(lambda: ingestor.stats.connects >= 2, what="the reconnect")
        publisher(plant_a.plant_code, "INV-1", {"ts": iso(T0 + timedelta(minutes=10)), "metrics": {"ac_power": 3}})
        wait_until(lambda: ingestor.stats.accepted >= 3, what="messages after the reconnect")
    assert len(values_of(devices["a1"])) == 3


@pytest.mark.django_db(transaction=True)
def test_the_loop_survives_a_database_outage(prefix, plants, publisher, flaky_ingest):
    plant_a, _, devices = plants
    with Running(make_ingestor(prefix)) as ingestor:
        publisher(plant_a.plant_code, "INV-1", {"ts": iso(T0), "metrics": {"ac_power": 1}})
        wait_until(lambda: ingestor.stats.accepted >= 1, what="the retried write")  # backoff: 1 s
    assert ingestor.stats.failed_flushes == 1 and len(flaky_ingest) == 2
    assert values_of(devices["a1"]) == {("ac_power", T0): 1.0}


@pytest.mark.django_db(transaction=True)
def test_sigterm_flushes_the_pending_batch_and_exits_cleanly(prefix, plants, publisher):
    plant_a, _, devices = plants
    subscribe_once(prefix)
    for minute in range(3):
        publisher(plant_a.plant_code, "INV-1", {"ts": iso(T0 + timedelta(minutes=minute)), "metrics": {"ac_power": 3}})
    env = {**os.environ, "DATABASE_URL": _this_test_database_url(), "DJANGO_SETTINGS_MODULE": "solarhub.settings.test"}
    env.pop("MQTT_URL", None)
    command = [
        sys.executable,
        str(REPO / "manage.py"),
        "mqtt_ingest",
        "--host",
        BROKER.host,
        "--port",
        str(BROKER.port),
    ]
    command += ["--client-id", f"{prefix}-ingest", "--topic-prefix", prefix, "--session-expiry", "120"]
    command += ["--flush-seconds", "300", "--batch-size", "1000", "--verbosity", "2"]
    process = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    received, log = threading.Event(), []

    def watch() -> None:
        for line in process.stderr:
            log.append(line)
            if sum("reading(s)" in seen for seen in log) >= 3:
                received.set()

    threading.Thread(target=watch, daemon=True).start()
    try:
        assert received.wait(30), "".join(log)
        assert not Reading.objects.filter(device__plant=plant_a).exists()  # pending: flush is every 300 s
        process.send_signal(signal.SIGTERM)
        stdout, _ = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, "".join(log)
    assert "3 message(s), 3 value(s) accepted" in stdout
    assert len(values_of(devices["a1"])) == 3


def _this_test_database_url() -> str:
    """The database this test writes to, as a URL for a child process."""
    config = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{config['NAME']}"
    credentials = quote(config["USER"] or "")
    if config.get("PASSWORD"):
        credentials += ":" + quote(config["PASSWORD"])
    return f"postgres://{credentials}@{config['HOST'] or '127.0.0.1'}:{config['PORT'] or 5432}/{config['NAME']}"
