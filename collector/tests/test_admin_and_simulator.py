"""The collection config admin (secret write-only) and ``manage.py modbus_simulator --attach``
end to end with ``manage.py collect``."""

from __future__ import annotations

import threading
import time

import pytest
from django.core.management import call_command
from django.test import Client

from collector.models import CollectionConfig
from collector.simulator import free_port
from telemetry.models import Reading

from .conftest import make_config

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(plant_admin):
    plant_admin.is_staff = plant_admin.is_superuser = True
    plant_admin.save()
    client = Client()
    client.force_login(plant_admin)
    return client


def test_admin_never_renders_the_secret_and_blank_keeps_it(admin_client, inverter):
    config = make_config(inverter, port=502, secret="hunter2-secret")
    page = admin_client.get(f"/admin/collector/collectionconfig/{config.pk}/change/")
    assert page.status_code == 200 and b"hunter2-secret" not in page.content
    assert admin_client.get("/admin/collector/collectionconfig/").status_code == 200
    form = {
        "device": inverter.pk, "driver": "sunspec_modbus_tcp", "host": "10.0.0.9", "port": 502, "unit_id": 3,
        "path": "", "json_mapping": "{}", "timestamp_path": "", "username": "", "secret": "",
        "interval_seconds": 120, "timeout_seconds": 4, "enabled": "on",
    }  # fmt: skip
    response = admin_client.post(f"/admin/collector/collectionconfig/{config.pk}/change/", form)
    assert response.status_code == 302, response.content[:2000]
    config.refresh_from_db()
    assert config.host == "10.0.0.9" and config.unit_id == 3 and config.secret == "hunter2-secret"


@pytest.mark.django_db(transaction=True)  # the simulator command runs on a thread of its own
def test_simulator_attach_then_collect_end_to_end(inverter):
    port = free_port()

    def simulate():
        from django.db import connections

        try:
            call_command("modbus_simulator", "--port", str(port), "--attach", str(inverter.pk), "--seconds", "4")
        finally:
            connections.close_all()

    runner = threading.Thread(target=simulate, daemon=True)
    runner.start()
    deadline = time.monotonic() + 5
    while not CollectionConfig.objects.filter(device=inverter).exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)  # the server starts listening after the config is written
    call_command("collect", "--device", str(inverter.pk), "--once")
    runner.join(6)
    config = CollectionConfig.objects.get(device=inverter)
    assert config.port == port and config.last_error_code == ""
    assert Reading.objects.filter(device=inverter, metric__key="energy_total").exists()
