"""The SunSpec Modbus TCP driver against a real pymodbus server on 127.0.0.1: discovery,
scaling, storing once through the ingest service, and each failure recorded with backoff."""

from __future__ import annotations

import socket
import threading
import time
from datetime import timedelta

import pytest

from alarms.choices import RuleType
from alarms.models import Alarm, AlarmRule
from collector.models import CollectionConfig
from collector.services import collection_poll
from collector.simulator import SimulatorServer, free_port, sunspec_registers
from collector.sunspec import encode_model, register_map
from telemetry.models import LatestValue, Metric, Reading

from .conftest import SERIAL, make_config

pytestmark = pytest.mark.django_db


def _stored(device) -> dict[str, float]:
    return dict(Reading.objects.filter(device=device).values_list("metric__key", "value"))


def test_discovers_reads_scales_and_stores_once(modbus_server, inverter):
    config = make_config(inverter, port=modbus_server.port)
    [result] = collection_poll(config_ids=[config.id])
    assert result.ok, result.error
    assert result.info["models"] == [1, 103, 160, 203]
    assert result.info["manufacturer"] == "SolarHub"
    stored = _stored(inverter)
    assert stored["ac_power"] == 4.2  # 4200 W, W_SF 0 → kW
    assert stored["frequency"] == 50.02  # Hz_SF -2
    assert stored["internal_temp"] == 41.5  # Tmp_SF -1
    assert stored["pv1_voltage"] == 600.0 and stored["pv2_voltage"] == 601.0  # model 160, per module
    assert stored["export_power"] == 2.1 and "import_power" not in stored  # meter 203, W < 0
    assert stored["status_code"] == 4
    assert result.stored["accepted"] == len(stored) == len(result.values)
    assert LatestValue.objects.filter(device=inverter, metric__key="ac_power").exists()
    config.refresh_from_db()
    assert config.last_error_code == "" and config.consecutive_failures == 0 and config.last_success_at
    assert config.next_poll_at > result.at

    # A second poll of the same slot changes nothing.
    [again] = collection_poll(config_ids=[config.id])
    assert again.ok and again.timestamp == result.timestamp
    assert again.stored["accepted"] == 0 and again.stored["duplicates"] == len(stored)
    assert Reading.objects.filter(device=inverter).count() == len(stored)
    # The second poll knew the map's span: 281 registers in three requests, not a header walk.
    assert result.info["requests"] == 5 and again.info["requests"] == 3


def test_a_changed_map_is_walked_afresh(modbus_server, inverter):
    config = make_config(inverter, port=modbus_server.port)
    collection_poll(config_ids=[config.id])
    with SimulatorServer({1: sunspec_registers(serial=SERIAL, meter=False)}) as server:
        CollectionConfig.objects.filter(pk=config.pk).update(port=server.port)
        [result] = collection_poll(config_ids=[config.id])
    assert result.ok, result.error
    assert result.info["models"] == [1, 103, 160]


def test_not_implemented_points_are_not_stored(inverter):
    registers = register_map(
        [
            encode_model(1, {"Mn": "X", "Md": "Y", "SN": SERIAL}),
            encode_model(103, {"W": 1000, "W_SF": 0, "DCW": 0x8000, "DCW_SF": 0, "Hz": 5000}),  # Hz_SF missing
        ]
    )
    with SimulatorServer({1: registers}) as server:
        [result] = collection_poll(config_ids=[make_config(inverter, port=server.port).id])
    assert result.ok
    assert _stored(inverter) == {"ac_power": 1.0}


def _failed(config, code: str):
    config.refresh_from_db()
    assert config.last_error_code == code, config.last_error
    assert Reading.objects.filter(device=config.device).count() == 0
    return config


def test_serial_mismatch_is_an_error_and_stores_nothing(inverter):
    with SimulatorServer({1: sunspec_registers(serial="SOMEONE-ELSE")}) as server:
        config = make_config(inverter, port=server.port)
        [result] = collection_poll(config_ids=[config.id])
    assert not result.ok and "SOMEONE-ELSE" in result.error
    config = _failed(config, "SERIAL_MISMATCH")
    assert config.consecutive_failures == 1


def test_connection_refused_is_an_error(inverter):
    config = make_config(inverter, port=free_port())
    collection_poll(config_ids=[config.id])
    _failed(config, "CONNECTION_REFUSED")


@pytest.fixture
def silent_server():
    """Accepts TCP connections and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    held, stop = [], threading.Event()

    def accept():
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join(2)
    for conn in held:
        conn.close()
    listener.close()


def test_a_device_that_never_answers_times_out_within_the_timeout(inverter, silent_server):
    config = make_config(inverter, port=silent_server, timeout_seconds=1.0)
    started = time.monotonic()
    [result] = collection_poll(config_ids=[config.id])
    elapsed = time.monotonic() - started
    assert result.error_code == "TIMEOUT"
    assert elapsed < 1.0 + 0.75, elapsed  # the read itself is bounded; the rest is the database
    assert result.duration_ms < 1300
    _failed(config, "TIMEOUT")


@pytest.mark.parametrize(
    ("registers", "code"),
    [
        # the inverter model says 10 registers: shorter than model 103's fixed part
        (register_map([encode_model(1, {"SN": SERIAL}), [103, 10, *([0] * 10)]]), "MALFORMED_MODEL"),
        # a model length that runs past the device's registers
        ([0x5375, 0x6E53, *encode_model(1, {"SN": SERIAL}), 103, 50, 1, 2, 3], "MALFORMED_MODEL"),
        # the first model is not the common model
        (register_map([encode_model(103, {})]), "MALFORMED_MODEL"),
        # no marker anywhere
        ([0x1234, 0x5678, 1, 66, *([0] * 66)], "NO_SUNSPEC_MARKER"),
    ],
    ids=["short-model", "past-the-end", "no-common", "no-marker"],
)
def test_malformed_maps_are_errors(inverter, registers, code):
    with SimulatorServer({1: registers}) as server:
        config = make_config(inverter, port=server.port)
        collection_poll(config_ids=[config.id])
    _failed(config, code)


def test_failures_back_off_exponentially_and_raise_communication_loss(inverter, settings):
    settings.COLLECTOR_ALARM_AFTER = 3
    rule = AlarmRule.objects.create(
        plant=inverter.plant, name="Communication loss", rule_type=RuleType.COMMUNICATION_LOSS, params={"minutes": 30}
    )
    config = make_config(inverter, port=free_port(), interval_seconds=60, timeout_seconds=1.0)
    delays = []
    for _ in range(5):
        [result] = collection_poll(config_ids=[config.id])
        config.refresh_from_db()
        delays.append((config.next_poll_at - result.at).total_seconds())
        if config.consecutive_failures < 3:
            assert not Alarm.objects.filter(rule=rule).exists()
    assert config.consecutive_failures == 5
    assert delays[2] >= 4 * 60 - 1 and delays[3] >= 8 * 60 - 1 and delays[4] >= 16 * 60 - 1
    assert delays == sorted(delays)
    alarm = Alarm.objects.get(rule=rule, device=inverter)
    assert alarm.active and alarm.metadata["collector"]["errorCode"] == "CONNECTION_REFUSED"

    # The device answers again: the alarm returns to normal, the backoff ends.
    with SimulatorServer({1: sunspec_registers(serial=SERIAL)}) as server:
        config.port = server.port
        config.save()
        [result] = collection_poll(config_ids=[config.id])
    assert result.ok
    alarm.refresh_from_db()
    config.refresh_from_db()
    assert not alarm.active and config.consecutive_failures == 0
    assert config.next_poll_at - result.at <= timedelta(seconds=120)


def test_many_devices_poll_concurrently_on_one_worker(own_plant, modbus_server):
    from plants.choices import DeviceType
    from plants.models import Device

    registers = {uid: sunspec_registers(serial=f"MANY-{uid}") for uid in range(1, 11)}
    with SimulatorServer(registers) as server:
        configs = [
            make_config(
                Device.objects.create(
                    plant=own_plant, type=DeviceType.INVERTER, name=f"I{uid}", serial_number=f"MANY-{uid}"
                ),
                port=server.port,
                unit_id=uid,
            )
            for uid in registers
        ]
        results = collection_poll(config_ids=[c.id for c in configs], concurrency=5)
    assert all(r.ok for r in results), [r.error for r in results if not r.ok]
    ac_power = Metric.objects.get(key="ac_power")
    assert Reading.objects.filter(metric=ac_power, device__plant=own_plant).count() == 10


def test_a_batch_stores_the_good_devices_and_records_every_outcome_on_its_own(own_plant):
    """One poll task over five devices, two of them bad: the good ones' readings are stored in
    the batch's one ingest and each config records its own outcome (values, what became of
    them, error, failure streak); a second poll of the slot stores nothing and keeps the latest
    values as they were."""
    from collector import tasks
    from plants.choices import DeviceType
    from plants.models import Device

    registers = {uid: sunspec_registers(serial=f"GOOD-{uid}") for uid in range(1, 4)}
    registers[4] = sunspec_registers(serial="SOMEONE-ELSE")
    with SimulatorServer(registers) as server:

        def config(serial: str, **fields) -> CollectionConfig:
            device = Device.objects.create(plant=own_plant, type=DeviceType.INVERTER, name=serial, serial_number=serial)
            return make_config(device, **{"port": server.port, **fields})

        good = [config(f"GOOD-{uid}", unit_id=uid) for uid in range(1, 4)]
        mismatch = config("BAD-4", unit_id=4)
        refused = config("BAD-5", port=free_port())
        ids = [c.id for c in [*good, mismatch, refused]]
        assert tasks.poll_devices(ids) == {"polled": 5, "failed": 2}
        latest = sorted(LatestValue.objects.values_list("device_id", "metric_id", "ts", "value", "repeats"))
        for item in good:
            item.refresh_from_db()
            stored = _stored(item.device)
            assert item.last_values == stored and len(stored) > 10
            assert item.last_stored == {
                "accepted": 3 * len(stored), "duplicates": 0, "rejected": 0, "errors": [], "batch_devices": 3
            }  # fmt: skip
            assert item.last_info["source"] == "collector" and item.last_info["models"] == [1, 103, 160, 203]
            assert item.last_error_code == "" and item.consecutive_failures == 0
            assert item.last_success_at == item.last_poll_at and item.last_duration_ms > 0
            assert LatestValue.objects.filter(device=item.device).count() == len(stored)
        for item, code in ((mismatch, "SERIAL_MISMATCH"), (refused, "CONNECTION_REFUSED")):
            item = _failed(item, code)
            assert item.consecutive_failures == 1 and item.last_success_at is None
            assert item.last_values == {} and item.last_stored == {} and item.last_poll_at is not None
            assert not LatestValue.objects.filter(device=item.device).exists()

        assert tasks.poll_devices(ids) == {"polled": 5, "failed": 2}  # the same slot again
    for item in good:
        item.refresh_from_db()
        assert item.last_stored["accepted"] == 0 and item.last_stored["duplicates"] == 3 * len(item.last_values)
    assert sorted(LatestValue.objects.values_list("device_id", "metric_id", "ts", "value", "repeats")) == latest
    assert CollectionConfig.objects.get(pk=refused.pk).consecutive_failures == 2
