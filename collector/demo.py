"""The collector end to end for ``seed_demo --collector``: the demo home's inverter is served by
the SunSpec Modbus simulator (common 1 + inverter 103 + MPPT 160 + meter 203, its own serial) on
a free loopback port, its collection config points there, and one poll reads, scales and stores
its values through the ingest service (``source: collector``) — what a worker on the site's
network does every 5 minutes. The simulator lives only as long as the seeding, so the config is
left disabled afterwards (beat would otherwise raise communication loss against a closed port):
``manage.py modbus_simulator --attach ID`` runs it for good and enables the config again."""

from __future__ import annotations

from dataclasses import dataclass

from plants.choices import DeviceType
from plants.models import Device

from .choices import Driver
from .models import CollectionConfig
from .services import PollResult, collection_config_save, collection_poll
from .simulator import SimulatorServer, day_curve_state, sunspec_registers

DEMO_PLANT_CODE = "DEMO2-HOME-01"


@dataclass(frozen=True)
class DemoPoll:
    device: Device
    port: int
    result: PollResult


def demo_collector_run(*, plant_code: str = DEMO_PLANT_CODE) -> DemoPoll | None:
    """Poll the demo plant's first inverter once from a simulator; None without such an inverter."""
    device = Device.objects.filter(plant__plant_code=plant_code, type=DeviceType.INVERTER).order_by("id").first()
    if device is None:
        return None
    peak_w = (device.capacity_kw or 5.0) * 1000 * 0.8

    def fresh(_unit_id):
        return sunspec_registers(serial=device.serial_number, state=day_curve_state(peak_w=peak_w))

    with SimulatorServer({1: fresh(1)}, on_read=fresh) as server:
        collection_config_save(
            device=device,
            data={"driver": Driver.SUNSPEC_MODBUS_TCP, "host": server.host, "port": server.port, "unit_id": 1,
                  "interval_seconds": 300, "timeout_seconds": 5.0, "enabled": True},
        )  # fmt: skip
        config = CollectionConfig.objects.get(device=device)
        (result,) = collection_poll(config_ids=[config.pk])
    CollectionConfig.objects.filter(pk=config.pk).update(enabled=False)
    return DemoPoll(device=device, port=server.port, result=result)
