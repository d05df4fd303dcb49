"""Collector throughput: polls per second against 50 simulated SunSpec devices on one worker.

One pymodbus TCP server on loopback serves 50 unit ids, each a SunSpec map (common 1 + 103 +
160 with two inputs + 203: 281 registers) with its own serial. Timed, each a median of
``BENCH_ROUNDS`` (default 5) rounds of 50 polls after a warm-up round, at the worker's
concurrency (``COLLECTOR_CONCURRENCY``, default 20):

* baseline, in the same run: a bare pymodbus asyncio client per device — connect, read the same
  281 registers in the fewest requests (125 + 125 + 31), close;
* the collector's read alone (``collector.services.targets_read``: discovery of the marker and
  the model chain, decoding, scale factors, catalog mapping; nothing stored);
* the collector's whole poll (``collection_poll``: read, store through ``telemetry_ingest`` in
  the scratch PostgreSQL database, record the outcome). The readings are deleted between rounds
  and the latest values moved 5 minutes back (untimed), so every round stores new rows and
  replaces every device's latest values, as each slot's poll does in production.

Prints polls/s and the ratio to the baseline (target ≥ 0.5 x the bare read). Asserts nothing.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import scratch_django

DEVICES = 50
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))


def bare_round(port: int, units: list[int], count: int, concurrency: int) -> float:
    from pymodbus.client import AsyncModbusTcpClient

    async def one(unit: int, gate: asyncio.Semaphore) -> None:
        async with gate:
            # the client settings the collector uses (reconnect_delay=0: no reconnect timer on close)
            client = AsyncModbusTcpClient("127.0.0.1", port=port, timeout=5, retries=0, reconnect_delay=0)
            await client.connect()
            address, left = 40000, count
            while left:
                size = min(125, left)
                response = await client.read_holding_registers(address, count=size, device_id=unit)
                assert not response.isError()
                address, left = address + size, left - size
            client.close()

    async def run() -> None:
        gate = asyncio.Semaphore(concurrency)
        await asyncio.gather(*(one(unit, gate) for unit in units))

    started = time.perf_counter()
    asyncio.run(run())
    return len(units) / (time.perf_counter() - started)


def timed(fn) -> float:
    started = time.perf_counter()
    polled = fn()
    return polled / (time.perf_counter() - started)


def main() -> None:
    with scratch_django("collector"):
        from django.conf import settings
        from django.db import connection

        from accounts.services import user_create
        from collector.models import CollectionConfig
        from collector.services import collection_poll, target_of, targets_read
        from collector.simulator import SimulatorServer, sunspec_registers
        from plants.choices import DeviceType
        from plants.models import Device
        from solarhub import background
        from solarhub.testing.personas import make_plant

        owner = user_create(email="bench@example.com", password="x-Pass-1234", username="bench")  # noqa: S106
        plant = make_plant(name="Bench", owner=owner)
        units = list(range(1, DEVICES + 1))
        maps = {unit: sunspec_registers(serial=f"BENCH-{unit:03d}") for unit in units}
        concurrency = settings.COLLECTOR_CONCURRENCY
        with SimulatorServer(maps) as server:
            configs = []
            for unit in units:
                device = Device.objects.create(
                    plant=plant, type=DeviceType.INVERTER, name=f"Inv {unit}", serial_number=f"BENCH-{unit:03d}"
                )
                configs.append(
                    CollectionConfig.objects.create(
                        device=device,
                        driver="sunspec_modbus_tcp",
                        host="127.0.0.1",
                        port=server.port,
                        unit_id=unit,
                        timeout_seconds=5,
                    )
                )
            ids = [c.id for c in configs]
            targets = [target_of(c) for c in CollectionConfig.objects.select_related("device").order_by("id")]
            registers = len(maps[1])

            def read_only() -> int:
                results = targets_read(targets=targets)
                assert all(r.ok for r in results), [r.error for r in results if not r.ok][:3]
                return len(results)

            def whole_poll() -> int:
                results = collection_poll(config_ids=ids)
                assert all(r.ok and r.stored["accepted"] for r in results), [r.error for r in results][:3]
                return len(results)

            def clear() -> None:
                # The alarm evaluation each ingest hands to this process's background thread (a
                # Celery worker's job with a broker) is drained untimed, as in bench_ingest.py.
                background.drain(600)
                with connection.cursor() as cursor:
                    cursor.execute("DELETE FROM telemetry_reading")
                    # As if the values stored were the previous slot's: every round's poll is then
                    # a new slot that replaces each device's latest values, as in production (a
                    # poll of the slot already stored would skip the latest-value update).
                    cursor.execute(
                        "UPDATE telemetry_latestvalue SET ts = ts - interval '5 minutes', "
                        "repeat_since = repeat_since - interval '5 minutes'"
                    )

            bare, reads, polls = [], [], []
            bare_round(server.port, units, registers, concurrency)  # warm-up
            whole_poll()  # warm-up; the configs now know their map's span (steady state)
            targets[:] = [target_of(c) for c in CollectionConfig.objects.select_related("device").order_by("id")]
            read_only()
            clear()
            for _ in range(ROUNDS):  # interleaved, so drift on a shared machine hits all three
                bare.append(bare_round(server.port, units, registers, concurrency))
                clear()
                reads.append(timed(read_only))
                clear()
                polls.append(timed(whole_poll))
            values = len(collection_poll(config_ids=ids[:1])[0].values)
            if os.environ.get("BENCH_PROFILE"):  # where a whole poll's time goes
                import cProfile
                import pstats

                clear()
                profiler = cProfile.Profile()
                profiler.runcall(whole_poll)
                pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
            background.drain(600)

        b, r, p = statistics.median(bare), statistics.median(reads), statistics.median(polls)
        print(
            f"{DEVICES} simulated SunSpec devices (1 + 103 + 160 + 203, {registers} registers, {values} metrics each),"
        )
        print(f"one worker, concurrency {concurrency}, median of {ROUNDS} rounds, database {connection.vendor}")
        print(f"bare pymodbus read (baseline)     : {b:7.1f} polls/s  ({1000 / b:6.2f} ms/poll)")
        print(
            f"collector read (discover+decode)  : {r:7.1f} polls/s  ({1000 / r:6.2f} ms/poll) = {r / b:.2f} x baseline"
        )
        print(
            f"collector poll (read+ingest+state): {p:7.1f} polls/s  ({1000 / p:6.2f} ms/poll) = {p / b:.2f} x baseline"
        )
        print(f"target: collector poll ≥ 0.5 x baseline — {'met' if p / b >= 0.5 else 'NOT met'}")


if __name__ == "__main__":
    main()
