"""A simulated SunSpec device: a pymodbus TCP server whose holding registers are a SunSpec map
(common 1 + inverter 103 + MPPT 160 + meter 203) built from pysunspec2's model definitions.

Used by ``manage.py modbus_simulator``, the tests and ``bench/bench_collector.py``. With
``live=True`` the inverter follows a clear-sky-like day curve on each read.
"""

from __future__ import annotations

import asyncio
import math
import socket
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from .sunspec import encode_model, register_map

BASE = 40000


@dataclass
class InverterState:
    power_w: float = 4200.0
    energy_wh: int = 12_345_678
    frequency_hz: float = 50.02
    temp_c: float = 41.5
    state: int = 4  # MPPT
    events: int = 0


def sunspec_registers(
    *,
    serial: str,
    state: InverterState | None = None,
    manufacturer: str = "SolarHub",
    model: str = "SIM-103",
    mppt_inputs: int = 2,
    meter: bool = True,
) -> list[int]:
    """The whole register map (from the base address) for one device."""
    s = state or InverterState()
    watts = round(s.power_w)
    per_input = watts / max(1, mppt_inputs) * 1.03
    common = encode_model(1, {"Mn": manufacturer, "Md": model, "Vr": "1.0.0", "SN": serial, "DA": 1})
    inverter = encode_model(
        103,
        {
            "A": int(watts / 230 / 3 * 100), "AphA": int(watts / 230 / 3 * 100), "AphB": int(watts / 230 / 3 * 100),
            "AphC": int(watts / 230 / 3 * 100), "A_SF": -2,
            "PhVphA": 2301, "PhVphB": 2299, "PhVphC": 2303, "V_SF": -1,
            "W": watts, "W_SF": 0, "Hz": round(s.frequency_hz * 100), "Hz_SF": -2,
            "VAr": 120, "VAr_SF": 0, "PF": 99, "PF_SF": 0,
            "WH": s.energy_wh, "WH_SF": 0,
            "DCA": int(per_input * mppt_inputs / 600 * 100), "DCA_SF": -2, "DCV": 6000, "DCV_SF": -1,
            "DCW": int(per_input * mppt_inputs), "DCW_SF": 0,
            "TmpCab": round(s.temp_c * 10), "Tmp_SF": -1, "St": s.state, "Evt1": s.events,
        },  # VA, TmpSnk and the vendor points stay "not implemented"
    )  # fmt: skip
    modules = [
        {"ID": n + 1, "IDStr": f"PV{n + 1}", "DCA": int(per_input / 600 * 100), "DCV": 6000 + 10 * n,
         "DCW": int(per_input)}
        for n in range(mppt_inputs)
    ]  # fmt: skip
    mppt = encode_model(160, {"DCA_SF": -2, "DCV_SF": -1, "DCW_SF": 0, "DCWH_SF": 0}, {"module": modules})
    models = [common, inverter, mppt]
    if meter:
        models.append(
            encode_model(
                203,
                {
                    "W": -watts // 2,
                    "W_SF": 0,
                    "Hz": round(s.frequency_hz * 100),
                    "Hz_SF": -2,
                    "TotWhExp": s.energy_wh // 2,
                    "TotWhImp": 1_000_000,
                    "TotWh_SF": 0,
                },
            )
        )
    return register_map(models)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SimulatorServer:
    """A pymodbus TCP server on its own thread and event loop. ``devices`` maps unit id →
    register list (from ``BASE``); ``set_registers`` swaps a map while it runs."""

    def __init__(self, devices: dict[int, list[int]], *, host: str = "127.0.0.1", port: int | None = None,
                 base: int = BASE, on_read=None):  # fmt: skip
        self.host = host
        self.port = port or free_port()
        self.base = base
        self.devices = devices
        self.on_read = on_read
        self._loop = asyncio.new_event_loop()
        self._server = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"modbus-sim-{self.port}", daemon=True)

    def _simdevice(self, unit_id: int, registers: list[int]):
        from pymodbus.simulator import DataType, SimData, SimDevice

        async def action(function_code, start_address, address, count, current_registers, set_values):
            if self.on_read is not None:
                fresh = self.on_read(unit_id)
                if fresh is not None:
                    current_registers[: len(fresh)] = fresh
            return None

        return SimDevice(
            id=unit_id,
            simdata=[SimData(address=self.base, values=list(registers), datatype=DataType.REGISTERS)],
            action=action,
        )

    def _run(self) -> None:
        from pymodbus.server import ModbusTcpServer

        asyncio.set_event_loop(self._loop)

        async def start():
            devices = [self._simdevice(uid, regs) for uid, regs in self.devices.items()]
            self._server = ModbusTcpServer(devices, address=(self.host, self.port))
            await self._server.serve_forever(background=True)

        self._loop.run_until_complete(start())
        self._ready.set()
        self._loop.run_forever()

    def start(self) -> SimulatorServer:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the Modbus simulator did not start")
        return self

    def stop(self) -> None:
        if self._server is not None:
            asyncio.run_coroutine_threadsafe(self._server.shutdown(), self._loop).result(5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    def __enter__(self) -> SimulatorServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def day_curve_state(
    now: datetime | None = None, *, peak_w: float = 5000.0, started: float | None = None
) -> InverterState:
    """A plausible inverter state for ``now``: a sine day between 06:00 and 18:00 UTC, energy
    counting up from a fixed lifetime value."""
    now = now or datetime.now(UTC)
    hours = now.hour + now.minute / 60 + now.second / 3600
    power = max(0.0, math.sin(math.pi * (hours - 6) / 12)) * peak_w if 6 <= hours <= 18 else 0.0
    elapsed = time.time() - (started or time.time())
    return InverterState(
        power_w=power,
        energy_wh=12_345_678 + int(elapsed * peak_w / 3600 / 2),
        temp_c=25 + power / peak_w * 25,
        state=4 if power > 0 else 2,
    )
