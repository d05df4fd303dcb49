"""Run a simulated SunSpec device (common 1 + inverter 103 + MPPT 160 + meter 203) on Modbus
TCP, its inverter following a day curve: ``manage.py modbus_simulator --port 5020 --serial
SIM-001``. ``--attach DEVICE_ID`` takes the serial from that registry device and points the
device's collection config at the simulator, so after ``seed_demo`` a new user sees the
collector work end to end (``manage.py collect --device ID --once``, or the beat task)."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

from collector.choices import Driver
from collector.services import collection_config_save
from collector.simulator import SimulatorServer, day_curve_state, sunspec_registers
from plants.models import Device


class Command(BaseCommand):
    help = "Serve a simulated SunSpec inverter + meter over Modbus TCP."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=5020)
        parser.add_argument("--unit", type=int, default=1, help="Modbus unit id (default 1).")
        parser.add_argument("--serial", default="SIM-001")
        parser.add_argument("--peak-w", type=float, default=5000.0)
        parser.add_argument(
            "--attach", type=int, metavar="DEVICE_ID", help="Configure this device to poll the simulator."
        )
        parser.add_argument("--interval", type=int, default=60, help="Poll interval written by --attach (s).")
        parser.add_argument("--seconds", type=float, default=0, help="Stop after this long (0: until Ctrl-C).")

    def handle(self, *args, host, port, unit, serial, peak_w, attach, interval, seconds, **options):
        if attach is not None:
            device = Device.objects.filter(pk=attach).first()
            if device is None:
                raise CommandError(f"No device {attach}.")
            serial = device.serial_number
            collection_config_save(
                device=device,
                data={"driver": Driver.SUNSPEC_MODBUS_TCP, "host": host, "port": port, "unit_id": unit,
                      "interval_seconds": max(30, interval), "timeout_seconds": 5.0, "enabled": True},
            )  # fmt: skip
            self.stdout.write(f"Device {device.pk} ({device.name}) now polls {host}:{port} unit {unit}.")
        started = time.time()

        def fresh(_unit_id):
            return sunspec_registers(serial=serial, state=day_curve_state(peak_w=peak_w, started=started))

        server = SimulatorServer({unit: fresh(unit)}, host=host, port=port, on_read=fresh)
        server.start()
        self.stdout.write(f"SunSpec simulator (serial {serial}) on {host}:{port}, unit {unit}, base 40000.")
        try:
            while not seconds or time.time() - started < seconds:
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
        finally:
            server.stop()
