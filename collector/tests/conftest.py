"""Fixtures of the collector tests: a real pymodbus TCP server on 127.0.0.1 (random free port)
serving a SunSpec map built from the model definitions, and a device registered for it."""

from __future__ import annotations

import pytest

from collector.models import CollectionConfig
from collector.services import point_map
from collector.simulator import SimulatorServer, sunspec_registers
from plants.choices import DeviceType
from plants.models import Device

SERIAL = "SIM-TEST-1"


@pytest.fixture(autouse=True)
def _fresh_point_map(request):
    if {"db", "transactional_db"} & set(request.fixturenames) or request.node.get_closest_marker("django_db"):
        request.getfixturevalue("db")
        point_map(refresh=True)


@pytest.fixture
def modbus_server():
    with SimulatorServer({1: sunspec_registers(serial=SERIAL)}) as server:
        yield server


@pytest.fixture
def inverter(own_plant) -> Device:
    return Device.objects.create(plant=own_plant, type=DeviceType.INVERTER, name="Inv M", serial_number=SERIAL)


def make_config(device, *, port: int, **fields) -> CollectionConfig:
    values = {"driver": "sunspec_modbus_tcp", "host": "127.0.0.1", "port": port, "timeout_seconds": 2.0}
    return CollectionConfig.objects.create(device=device, **{**values, **fields})
