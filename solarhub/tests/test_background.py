"""The in-process background executor of the zero-setup mode (no broker, eager Celery with
``CELERY_EAGER_BACKGROUND``): an ingest answers before its alarm evaluation runs, pending
evaluations coalesce, failures are logged without stopping the worker, a full queue runs work
inline in the caller, and commands finish what they handed over.

Through HTTP as a data logger sends (``X-Api-Key``), against the real database: the worker
thread has its own connection, hence ``transaction=True``. The worker is held on a gate (a
callable blocked on an Event) where a test needs to see the state between response and
evaluation; nothing here measures time.
"""

from __future__ import annotations

import io
import logging
import os
import subprocess
import sys
import threading
from datetime import timedelta

import pytest
from celery import shared_task
from django.core import mail
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import UserSetting, default_notifications
from alarms.choices import DeliveryStatus
from alarms.evaluation_tasks import alarms_evaluate_devices, evaluations_merge
from alarms.models import Alarm, NotificationDelivery
from plants.choices import DeviceType
from plants.models import Device
from solarhub import background
from solarhub.background import BackgroundExecutor, Outcome
from solarhub.settings import env as envmod
from solarhub.testing.personas import make_plant
from solarhub.testing.server import ROOT
from telemetry.models import Reading
from telemetry.services import ingest_key_create

transactional = pytest.mark.django_db(transaction=True)

RULE = "Inverter over-temperature"  # a default rule of every plant: internal_temp > 75 for 10 minutes
WAIT = 60  # seconds: a safety net for a broken executor, never a measurement


@shared_task(name="tests.background.boom")
def boom() -> None:
    """A task that always fails (for the failure test)."""
    raise RuntimeError("boom in the background")


class Gate:
    """Occupies the worker thread until released, so what is handed over meanwhile stays queued."""

    def __init__(self, executor: BackgroundExecutor):
        self.entered, self.opened = threading.Event(), threading.Event()
        assert executor.submit(self._hold) == Outcome.QUEUED
        assert self.entered.wait(WAIT), "the worker never took the gate"

    def _hold(self) -> None:
        self.entered.set()
        self.opened.wait(WAIT)

    def release(self) -> None:
        self.opened.set()


@pytest.fixture
def executor():
    """The process's executor with eager hand-over on; drained afterwards."""
    with override_settings(CELERY_EAGER_BACKGROUND=True):
        yield background.executor
        assert background.executor.drain(WAIT), "the background queue did not drain"


@pytest.fixture
def gate(executor):
    """The worker thread held until the test releases it (at the latest on teardown)."""
    held = Gate(executor)
    yield held
    held.release()


@pytest.fixture
def plant(customer, installer):
    return make_plant(name="Background plant", owner=customer, installer=installer, timezone="UTC")


@pytest.fixture
def inverters(plant) -> list[Device]:
    return [
        Device.objects.create(plant=plant, type=DeviceType.INVERTER, name=f"INV {n}", serial_number=f"INV-{n}")
        for n in (1, 2, 3)
    ]


@pytest.fixture
def logger_client(plant, installer) -> APIClient:
    """A data logger: the plant's ingest key as ``X-Api-Key``."""
    _, key = ingest_key_create(by=installer, plant_id=plant.pk, name="Logger")
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=key)
    return client


@pytest.fixture
def start():
    now = timezone.now().replace(second=0, microsecond=0)
    return now - timedelta(hours=2, minutes=now.minute % 5)


def hot_batch(device: Device, start, *, temps=(90.0, 91.0, 92.0)) -> dict:
    """Readings violating the over-temperature rule for 10 minutes: the alarm opens at the third."""
    return {
        "readings": [
            {
                "deviceId": device.pk,
                "timestamp": (start + timedelta(minutes=5 * i)).isoformat().replace("+00:00", "Z"),
                "metrics": {"internal_temp": temp, "ac_power": 40.0},
            }
            for i, temp in enumerate(temps)
        ]
    }


def post(client: APIClient, body: dict):
    response = client.post("/api/telemetry/ingest", body, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["rejected"] == 0, response.content
    return response


def open_alarms(*devices: Device):
    return Alarm.objects.filter(rule__name=RULE, device__in=devices, closed_at__isnull=True)


# --- (a) the response returns before the evaluation ------------------------------------------


@transactional
def test_ingest_answers_before_evaluation_which_then_opens_the_alarm(
    executor, gate, logger_client, inverters, customer
):
    prefs = default_notifications()
    prefs["min_severity"] = "info"
    UserSetting.objects.update_or_create(user=customer, defaults={"notifications": prefs})
    inverter = inverters[0]

    response = post(logger_client, hot_batch(inverter, timezone.now() - timedelta(hours=1)))

    assert response.json()["accepted"] == 6
    assert Reading.objects.filter(device=inverter).count() == 6  # committed before the answer
    assert not open_alarms(inverter).exists()  # ... and not evaluated yet: queued behind the gate
    assert executor.pending == 1
    gate.release()
    assert executor.drain(WAIT)
    alarm = open_alarms(inverter).get()
    assert alarm.device == inverter and alarm.last_value == 92.0
    # The alarm's notification was handed over from the worker thread itself, queued, and sent.
    delivery = NotificationDelivery.objects.get(alarm=alarm, recipient=customer.email)
    assert delivery.status == DeliveryStatus.SENT
    assert any(customer.email in message.to for message in mail.outbox)


# --- (b) pending evaluations coalesce --------------------------------------------------------


@transactional
def test_batches_while_the_worker_is_busy_become_one_evaluation_of_every_device(
    executor, gate, logger_client, inverters, start
):
    before = (executor.stats.queued, executor.stats.coalesced, executor.stats.done)
    for offset, inverter in enumerate(inverters):
        post(logger_client, hot_batch(inverter, start + timedelta(minutes=30 * offset)))

    assert executor.pending == 1  # one queued evaluation ...
    assert executor.stats.queued - before[0] == 1
    assert executor.stats.coalesced - before[1] == len(inverters) - 1  # ... absorbing the others
    assert not open_alarms(*inverters).exists()
    gate.release()
    assert executor.drain(WAIT)
    assert executor.stats.done - before[2] == 2  # the gate and one evaluation
    assert set(open_alarms(*inverters).values_list("device_id", flat=True)) == {d.pk for d in inverters}


def test_evaluations_merge_unions_devices_and_metrics_and_keeps_the_earliest_since():
    merged = evaluations_merge(
        ((), {"device_ids": [3, 1], "metric_ids": [7], "since": "2026-06-01T10:00:00+00:00"}),
        (([2, 3], [5]), {"since": "2026-06-01T09:55:00+00:00"}),
    )
    assert merged == ((), {"device_ids": [1, 2, 3], "metric_ids": [5, 7], "since": "2026-06-01T09:55:00+00:00"})
    # None means "any metric" (a superset) and "no hint" for since
    merged = evaluations_merge(((), {"device_ids": [1], "metric_ids": None}), ((), {"device_ids": [2], "since": None}))
    assert merged == ((), {"device_ids": [1, 2], "metric_ids": None, "since": None})


# --- (c) a failure is logged; the next item still runs ---------------------------------------


@transactional
def test_a_failing_task_is_logged_and_the_next_one_still_runs(executor, gate, logger_client, inverters, start, caplog):
    failed = executor.stats.failed
    boom.delay()  # a Celery task, handed over like any other
    post(logger_client, hot_batch(inverters[0], start))
    with caplog.at_level(logging.ERROR, logger="solarhub.background"):
        gate.release()
        assert executor.drain(WAIT)

    assert executor.stats.failed - failed == 1
    failures = [r for r in caplog.records if r.name == "solarhub.background" and "tests.background.boom" in r.message]
    assert failures and failures[0].exc_info and "boom in the background" in str(failures[0].exc_info[1])
    assert open_alarms(inverters[0]).exists()  # the evaluation queued after it ran


# --- (d) a full queue: the caller runs the work inline ---------------------------------------


@transactional
def test_a_full_queue_runs_the_evaluation_inline_in_the_request(
    executor, gate, logger_client, inverters, start, monkeypatch, caplog
):
    monkeypatch.setattr(executor, "max_pending", 2)
    fillers = [executor.submit(lambda: None) for _ in range(2)]
    assert fillers == [Outcome.QUEUED, Outcome.QUEUED] and executor.pending == 2
    inline = executor.stats.inline

    with caplog.at_level(logging.WARNING, logger="solarhub.background"):
        post(logger_client, hot_batch(inverters[0], start))

    # No room and nothing pending to merge with: the request evaluated before answering, while
    # the worker is still held and the queue still full.
    assert executor.stats.inline - inline == 1
    assert open_alarms(inverters[0]).exists()
    assert executor.pending == 2
    assert any("queue full" in r.message for r in caplog.records if r.name == "solarhub.background")
    # A pending evaluation absorbs the next ones without needing room.
    monkeypatch.setattr(executor, "max_pending", 3)
    post(logger_client, hot_batch(inverters[1], start))
    post(logger_client, hot_batch(inverters[2], start))
    assert executor.pending == 3 and executor.stats.inline - inline == 1
    gate.release()
    assert executor.drain(WAIT)
    assert open_alarms(*inverters).count() == 3


# --- concurrency, commands, hand-over details ------------------------------------------------


@transactional
def test_ingest_requests_concurrent_with_background_evaluation_do_not_error(executor, plant, installer, inverters):
    """Two loggers post while the worker evaluates the previous batches (on SQLite too: the
    second writer waits for the lock instead of failing with "database is locked")."""
    _, key = ingest_key_create(by=installer, plant_id=plant.pk, name="Logger 2")
    first = timezone.now().replace(second=0, microsecond=0) - timedelta(hours=6)
    statuses: list[int] = []
    failed = executor.stats.failed

    def logger(device: Device) -> None:
        from django.db import connections

        client = APIClient()
        client.credentials(HTTP_X_API_KEY=key)
        try:
            for n in range(6):
                temps = (90.0, 91.0, 92.0) if n == 5 else (40.0, 41.0, 42.0)
                body = hot_batch(device, first + timedelta(minutes=15 * n), temps=temps)
                statuses.append(client.post("/api/telemetry/ingest", body, format="json").status_code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=logger, args=(device,)) for device in inverters[:2]]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT)
    assert statuses == [200] * 12
    assert executor.drain(WAIT)
    assert executor.stats.failed == failed
    assert open_alarms(*inverters[:2]).count() == 2


@transactional
def test_import_telemetry_leaves_alarms_evaluated_when_it_returns(executor, plant, inverters, start, tmp_path):
    lines = ["timestamp,device,internal_temp"]
    lines += [f"{(start + timedelta(minutes=5 * i)).isoformat()},INV-1,{90 + i}" for i in range(3)]
    path = tmp_path / "hot.csv"
    path.write_text("\n".join(lines) + "\n")

    call_command("import_telemetry", str(path), plant=plant.plant_code, stdout=io.StringIO(), stderr=io.StringIO())

    assert executor.pending == 0
    assert open_alarms(inverters[0]).exists()


@transactional
def test_a_task_handed_over_inside_a_transaction_waits_for_the_commit(executor, gate, inverters):
    with transaction.atomic():
        alarms_evaluate_devices.delay(device_ids=[inverters[0].pk])
        assert executor.pending == 0  # the worker could not see this transaction's rows yet
    assert executor.pending == 1
    with transaction.atomic():
        alarms_evaluate_devices.delay(device_ids=[inverters[1].pk])
        transaction.set_rollback(True)
    assert executor.pending == 1  # rolled back: never handed over


def test_arguments_are_serialized_as_for_a_broker():
    with override_settings(CELERY_EAGER_BACKGROUND=True), pytest.raises(Exception, match="not JSON serializable"):
        alarms_evaluate_devices.delay(device_ids={1, 2})


def test_drain_on_the_worker_thread_refuses_instead_of_deadlocking():
    executor = BackgroundExecutor(max_pending=4, name="test-background")
    seen: list[BaseException] = []

    def nested() -> None:
        try:
            executor.drain(1)
        except RuntimeError as exc:
            seen.append(exc)

    assert executor.submit(nested) == Outcome.QUEUED
    assert executor.drain(WAIT)
    assert seen and "wait for itself" in str(seen[0])
    assert executor.shutdown(WAIT)
    assert executor.submit(lambda: seen.append(None)) == Outcome.INLINE  # after shutdown: inline


# --- the setting ---------------------------------------------------------------------------------


def _settings_of(**env: str) -> subprocess.CompletedProcess:
    clean = {
        k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "CELERY_BROKER_URL", "CELERY_EAGER_BACKGROUND"}
    }
    clean.update(env, DJANGO_SETTINGS_MODULE="solarhub.settings.local")
    code = (
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.CELERY_TASK_ALWAYS_EAGER, settings.CELERY_EAGER_BACKGROUND)"
    )
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=60, check=False
    )


@pytest.mark.parametrize(
    ("env", "printed"),
    [
        ({}, "True True"),  # no broker: eager, on the background thread
        ({"CELERY_EAGER_BACKGROUND": "off"}, "True False"),
        ({"REDIS_URL": "redis://127.0.0.1:6379/15"}, "False False"),  # a broker: workers, not consulted
    ],
)
def test_the_setting_is_on_by_default_without_a_broker(env, printed):
    result = _settings_of(**env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == printed


def test_a_malformed_setting_stops_start_up_naming_it():
    result = _settings_of(CELERY_EAGER_BACKGROUND="sometimes")
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and "CELERY_EAGER_BACKGROUND" in result.stderr


def test_sqlite_writers_wait_for_the_lock_instead_of_failing():
    options = envmod.env_database("DATABASE_URL_UNSET_FOR_THIS_TEST", "sqlite:////tmp/x.sqlite3")["OPTIONS"]
    assert options["transaction_mode"] == "IMMEDIATE" and options["timeout"] >= 5
    assert "journal_mode=WAL" in options["init_command"]
