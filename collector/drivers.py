"""Drivers: one small class per protocol behind one interface, ``await driver.read(target)`` →
:class:`ReadOutcome` (metric key → value in catalog units, and facts about the device).

Drivers know nothing about Django: the service hands them a :class:`Target` (a plain snapshot
of the device's collection config), so many reads run concurrently on one event loop and the
database work stays synchronous, after them. Every failure is a :class:`CollectorError` with a
stable code; the caller bounds the whole read by the config's timeout.
"""

from __future__ import annotations

import asyncio
import base64
import json
import socket
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from typing import Any, ClassVar

from .mapping import PointMap, clean_value, metrics_from_models, unit_factor
from .sunspec import (
    BASE_ADDRESSES,
    COMMON,
    END_ID,
    MARKER,
    READ_MODELS,
    DecodedModel,
    ModelError,
    decode_model,
    model_def,
)

MAX_READ = 125  # registers per Modbus request (the protocol's limit)
MAX_MODELS = 64  # a walk longer than this is a broken map, not a device
MAX_HTTP_BYTES = 1_000_000


class CollectorError(Exception):
    """A poll that failed for a reason an installer can act on."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Target:
    device_id: int
    serial_number: str
    driver: str
    host: str
    port: int
    unit_id: int = 1
    path: str = ""
    base_address: int | None = None
    timeout: float = 5.0
    use_tls: bool = False
    username: str = ""
    secret: str = ""
    json_mapping: dict[str, Any] = field(default_factory=dict)
    timestamp_path: str = ""
    # From the last good poll: where the map starts and how long it is, so the next poll reads it
    # in the fewest requests (125 registers each) instead of walking header by header.
    known_base: int | None = None
    known_span: int | None = None


@dataclass
class ReadOutcome:
    values: dict[str, float]
    timestamp: datetime | None = None  # the device's own, when it gives one
    info: dict[str, Any] = field(default_factory=dict)  # e.g. models found, manufacturer


class Driver:
    name: ClassVar[str]

    def __init__(self, point_map: PointMap):
        self.point_map = point_map

    async def read(self, target: Target) -> ReadOutcome:
        raise NotImplementedError


@cache
def _point_units(model_id: int) -> dict[tuple[int, str], str | None]:
    definition = model_def(model_id)
    units: dict[tuple[int, str], str | None] = {}
    if definition is None:
        return units
    for point in definition.top.points:
        units[(model_id, point.name)] = point.units
    for group in definition.top.groups:
        for point in group.points:
            units[(model_id, point.name)] = point.units
    return units


class _Registers:
    """Holding registers read on demand in chunks of up to 125 (one request each)."""

    def __init__(self, client, unit_id: int):
        self.client = client
        self.unit_id = unit_id
        self.cache: dict[int, int] = {}
        self.requests = 0

    async def get(self, address: int, count: int) -> list[int] | None:
        """Registers ``address`` .. ``address + count - 1`` (None when the device refuses them),
        reading only what is not cached yet."""
        start = address
        while start < address + count and start in self.cache:
            start += 1
        while start < address + count:
            size = min(MAX_READ, address + count - start, 65536 - start)
            if size <= 0:
                return None
            response = await self.client.read_holding_registers(start, count=size, device_id=self.unit_id)
            self.requests += 1
            if response.isError() or len(response.registers) < size:
                return None
            for offset, value in enumerate(response.registers[:size]):
                self.cache[start + offset] = value
            start += size
        return [self.cache[a] for a in range(address, address + count)]


class SunSpecModbusTcp(Driver):
    """SunSpec over Modbus TCP: find the ``SunS`` marker (40000, 50000, 0, or the configured
    base), walk the model chain, decode the models we read, check the common model's serial
    against the registry."""

    name = "sunspec_modbus_tcp"

    async def read(self, target: Target) -> ReadOutcome:
        from pymodbus.client import AsyncModbusTcpClient
        from pymodbus.exceptions import ModbusException

        client = AsyncModbusTcpClient(
            target.host, port=target.port, timeout=max(0.1, target.timeout), retries=0, reconnect_delay=0
        )
        try:
            if not await client.connect():
                raise CollectorError("CONNECTION_REFUSED", f"Cannot connect to {target.host}:{target.port}.")
            return await self._walk(target, _Registers(client, target.unit_id))
        except ModbusException as exc:
            raise CollectorError("MODBUS_ERROR", f"Modbus error: {exc}") from None
        finally:
            client.close()

    async def _walk(self, target: Target, registers: _Registers) -> ReadOutcome:
        bases = (target.base_address,) if target.base_address is not None else BASE_ADDRESSES
        if target.known_base is not None and target.known_span and target.known_base in bases:
            if await registers.get(target.known_base, target.known_span) is None:
                registers.cache.clear()  # the map changed: walk it afresh
            bases = (target.known_base, *(b for b in bases if b != target.known_base))
        base = None
        for candidate in bases:
            head = await registers.get(candidate, 4)  # the marker and the first model's header
            if head is not None and tuple(head[:2]) == MARKER:
                base = candidate
                break
        if base is None:
            raise CollectorError("NO_SUNSPEC_MARKER", f"No SunSpec marker at {', '.join(map(str, bases))}.")
        address = base + 2
        models: list[DecodedModel] = []
        found: list[int] = []
        for _ in range(MAX_MODELS):
            header = await registers.get(address, 2)
            if header is None:
                raise CollectorError("MALFORMED_MODEL", f"The model chain breaks off at register {address}.")
            model_id, length = header
            if model_id == END_ID:
                break
            if not found and model_id != COMMON:
                raise CollectorError("MALFORMED_MODEL", f"The first model is {model_id}, not the common model 1.")
            found.append(model_id)
            if model_id in READ_MODELS:
                # The body and the next model's header in one go: no request for a header alone.
                body = await registers.get(address + 2, length + 2)
                body = body[:length] if body is not None else None
                if body is None:
                    raise CollectorError("MALFORMED_MODEL", f"Model {model_id} runs past the device's registers.")
                try:
                    models.append(decode_model(model_id, body))
                except ModelError as exc:
                    raise CollectorError("MALFORMED_MODEL", str(exc)) from None
            address += 2 + length
        else:
            raise CollectorError("MALFORMED_MODEL", f"No end model after {MAX_MODELS} models.")
        common = models[0].values
        serial = str(common.get("SN") or "")
        if serial != target.serial_number:
            raise CollectorError(
                "SERIAL_MISMATCH",
                f"The device answers with serial {serial!r}; the registry expects {target.serial_number!r}.",
            )
        units: dict[tuple[int, str], str | None] = {}
        for model in models:
            units |= _point_units(model.id)
        values = metrics_from_models(models, units, self.point_map)
        info = {
            "models": found,
            "baseAddress": base,
            "manufacturer": common.get("Mn") or "",
            "model": common.get("Md") or "",
            "firmware": common.get("Vr") or "",
            "requests": registers.requests,
            "span": address + 2 - base,  # registers from the marker through the end model
        }
        return ReadOutcome(values=values, info=info)


def json_path_get(document: Any, path: str) -> Any:
    """``Body.Data.PAC.Value`` or ``inverters.0.power`` in a parsed JSON document; None when
    any step is missing."""
    node = document
    for step in path.split("."):
        if isinstance(node, dict):
            node = node.get(step)
        elif isinstance(node, list) and step.isdigit() and int(step) < len(node):
            node = node[int(step)]
        else:
            return None
        if node is None:
            return None
    return node


class HttpJson(Driver):
    """A JSON endpoint polled with GET (a Fronius Solar API ``GetInverterRealtimeData`` style
    document): each mapped metric names a JSON path and the unit the device reports in."""

    name = "http_json"

    def __init__(self, point_map: PointMap, catalog_units: dict[str, str]):
        super().__init__(point_map)
        self.catalog_units = catalog_units

    def url(self, target: Target) -> str:
        path = target.path if target.path.startswith("/") else f"/{target.path}"
        return f"{'https' if target.use_tls else 'http'}://{target.host}:{target.port}{path}"

    async def read(self, target: Target) -> ReadOutcome:
        body = await asyncio.to_thread(self._get, target)
        try:
            document = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            raise CollectorError("BAD_RESPONSE", "The device did not answer JSON.") from None
        values: dict[str, float] = {}
        for key, spec in target.json_mapping.items():
            spec = spec if isinstance(spec, dict) else {"path": spec}
            raw = json_path_get(document, str(spec.get("path", "")))
            if isinstance(raw, bool) or not isinstance(raw, int | float):
                continue
            factor = unit_factor(spec.get("unit"), self.catalog_units.get(key, "")) * float(spec.get("scale", 1))
            values[key] = clean_value(raw * factor)
        timestamp = None
        if target.timestamp_path:
            raw_ts = json_path_get(document, target.timestamp_path)
            if isinstance(raw_ts, str):
                try:
                    timestamp = datetime.fromisoformat(raw_ts)
                except ValueError:
                    timestamp = None
                if timestamp is not None:
                    # A naive device clock is not trusted (the poll slot is used instead).
                    timestamp = timestamp.astimezone(UTC) if timestamp.tzinfo is not None else None
        return ReadOutcome(values=values, timestamp=timestamp, info={"url": self.url(target)})

    def _get(self, target: Target) -> bytes:
        request = urllib.request.Request(self.url(target), headers={"Accept": "application/json"})  # noqa: S310
        if target.username:
            token = base64.b64encode(f"{target.username}:{target.secret}".encode()).decode()
            request.add_header("Authorization", f"Basic {token}")
        elif target.secret:
            request.add_header("Authorization", f"Bearer {target.secret}")
        try:
            with urllib.request.urlopen(request, timeout=target.timeout) as response:  # noqa: S310
                return response.read(MAX_HTTP_BYTES + 1)[:MAX_HTTP_BYTES]
        except urllib.error.HTTPError as exc:
            raise CollectorError("HTTP_ERROR", f"The device answered HTTP {exc.code}.") from None
        except urllib.error.URLError as exc:
            reason = exc.reason
            if isinstance(reason, ConnectionRefusedError):
                raise CollectorError("CONNECTION_REFUSED", f"Cannot connect to {target.host}:{target.port}.") from None
            if isinstance(reason, socket.timeout | TimeoutError):
                raise CollectorError("TIMEOUT", f"No answer within {target.timeout:g} s.") from None
            raise CollectorError("UNREACHABLE", f"Cannot reach the device: {reason}.") from None
        except TimeoutError:
            raise CollectorError("TIMEOUT", f"No answer within {target.timeout:g} s.") from None
        except OSError as exc:
            raise CollectorError("UNREACHABLE", f"Cannot reach the device: {exc}.") from None


async def read_bounded(driver: Driver, target: Target) -> ReadOutcome:
    """``driver.read`` bounded by the target's timeout: the caller never waits longer."""
    try:
        return await asyncio.wait_for(driver.read(target), timeout=target.timeout)
    except TimeoutError:
        raise CollectorError("TIMEOUT", f"No answer within {target.timeout:g} s.") from None
