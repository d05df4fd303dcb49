"""SunSpec information models: layouts from ``pysunspec2``'s JSON model definitions, decoding of
register blocks (scale factors, not-implemented values), and encoding (for the simulator, the
tests and the benchmark, which build register maps from the same definitions).

Only the definitions come from pysunspec2 (``sunspec2/models/json/model_<id>.json``); its own
device classes are synchronous and do one request per model, so the collector reads the
registers with pymodbus' asyncio client and decodes them here.
"""

from __future__ import annotations

import json
import math
import struct
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

MARKER = (0x5375, 0x6E53)  # "SunS"
BASE_ADDRESSES = (40000, 50000, 0)
END_ID = 0xFFFF
COMMON = 1
# The models the collector reads (domain.md): common, inverters (int + float), MPPT, meters,
# storage and battery.
READ_MODELS = frozenset({1, 101, 102, 103, 111, 112, 113, 160, 201, 202, 203, 204, 124, 802})

# Registers of each type and the raw value that means "not implemented" (SunSpec spec, 4.x).
_SIZES = {"int16": 1, "uint16": 1, "acc16": 1, "enum16": 1, "bitfield16": 1, "sunssf": 1, "count": 1, "pad": 1}
_SIZES |= {"int32": 2, "uint32": 2, "acc32": 2, "enum32": 2, "bitfield32": 2, "float32": 2, "ipaddr": 2}
_SIZES |= {"int64": 4, "uint64": 4, "acc64": 4, "float64": 4}
_NOT_IMPLEMENTED = {
    "int16": 0x8000,
    "sunssf": 0x8000,
    "uint16": 0xFFFF,
    "enum16": 0xFFFF,
    "bitfield16": 0xFFFF,
    "count": 0xFFFF,
    "acc16": 0,
    "int32": 0x80000000,
    "uint32": 0xFFFFFFFF,
    "enum32": 0xFFFFFFFF,
    "bitfield32": 0xFFFFFFFF,
    "acc32": 0,
    "int64": 0x8000000000000000,
    "uint64": 0xFFFFFFFFFFFFFFFF,
    "acc64": 0,
}
_SIGNED = {"int16": 16, "sunssf": 16, "int32": 32, "int64": 64}


class ModelError(ValueError):
    """A register block that does not match its model definition."""


@dataclass(frozen=True)
class PointDef:
    name: str
    type: str
    size: int
    sf: str | None = None
    units: str | None = None


@dataclass(frozen=True)
class GroupDef:
    name: str
    points: tuple[PointDef, ...]
    count: str | int = 1  # a point name holding the count, or 0: repeat to fill the model length
    groups: tuple[GroupDef, ...] = ()

    @property
    def length(self) -> int:
        return sum(p.size for p in self.points)


@dataclass(frozen=True)
class ModelDef:
    id: int
    name: str
    top: GroupDef  # points after ID and L, and the repeating groups

    @property
    def fixed_length(self) -> int:
        return self.top.length


def _point(raw: dict) -> PointDef:
    kind = raw["type"]
    size = int(raw.get("size") or _SIZES.get(kind, 1))
    return PointDef(raw["name"], kind, size, raw.get("sf"), raw.get("units"))


def _group(raw: dict, *, skip_header: bool) -> GroupDef:
    points = [_point(p) for p in raw.get("points", [])]
    if skip_header:  # ID and L are read as the model header
        points = [p for p in points if p.name not in ("ID", "L")]
    groups = tuple(_group(g, skip_header=False) for g in raw.get("groups", []))
    return GroupDef(raw["name"], tuple(points), raw.get("count", 1), groups)


@cache
def model_def(model_id: int) -> ModelDef | None:
    """The model's layout from pysunspec2's definitions; None for a model it does not define."""
    try:
        text = resources.files("sunspec2").joinpath(f"models/json/model_{model_id}.json").read_text()
    except (FileNotFoundError, OSError):
        return None
    raw = json.loads(text)
    return ModelDef(model_id, raw["group"]["name"], _group(raw["group"], skip_header=True))


# --- decoding -------------------------------------------------------------------------------


def _raw(kind: str, regs: list[int]) -> int | float | str | None:
    if kind == "string":
        data = b"".join(struct.pack(">H", r) for r in regs)
        text = data.split(b"\x00", 1)[0].decode("utf-8", "replace").strip()
        return text or None
    if kind in ("float32", "float64"):
        fmt = ">f" if kind == "float32" else ">d"
        value = struct.unpack(fmt, b"".join(struct.pack(">H", r) for r in regs))[0]
        return None if math.isnan(value) else value
    if kind == "pad":
        return None
    value = 0
    for r in regs:
        value = (value << 16) | r
    if _NOT_IMPLEMENTED.get(kind) == value:
        return None
    bits = _SIGNED.get(kind)
    if bits and value >= 1 << (bits - 1):
        value -= 1 << bits
    return value


def _decode_points(points: tuple[PointDef, ...], regs: list[int], offset: int) -> tuple[dict[str, Any], int]:
    values: dict[str, Any] = {}
    for point in points:
        chunk = regs[offset : offset + point.size]
        if len(chunk) < point.size:
            raise ModelError(f"point {point.name} runs past the model's end")
        values[point.name] = _raw(point.type, chunk)
        offset += point.size
    return values, offset


def _scaled(points: tuple[PointDef, ...], values: dict[str, Any], *scopes: dict[str, Any]) -> dict[str, Any]:
    """Apply scale factors (looked up in the group, then its parents); a point whose scale factor
    is not implemented has no value."""
    out: dict[str, Any] = {}
    for point in points:
        value = values.get(point.name)
        if value is None or point.type in ("sunssf", "pad", "count"):
            continue
        if point.sf:
            sf = values.get(point.sf)
            for scope in scopes:
                if sf is None:
                    sf = scope.get(point.sf)
            if sf is None:
                continue
            value = value * 10.0**sf if sf else value
        out[point.name] = value
    return out


@dataclass
class DecodedModel:
    id: int
    values: dict[str, Any]  # scaled top-level points
    groups: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # repeating groups


def decode_model(model_id: int, body: list[int]) -> DecodedModel:
    """Decode a model's registers after ID and L (``len(body)`` = L)."""
    definition = model_def(model_id)
    if definition is None:
        raise ModelError(f"model {model_id} is not a SunSpec model")
    top = definition.top
    if len(body) < top.length:
        raise ModelError(f"model {model_id} is {len(body)} registers long, its fixed part needs {top.length}")
    raw, offset = _decode_points(top.points, body, 0)
    decoded = DecodedModel(model_id, _scaled(top.points, raw))
    for group in top.groups:
        if isinstance(group.count, str):
            count = raw.get(group.count) or 0
        elif group.count == 0:  # fills the rest of the model
            count = (len(body) - offset) // group.length if group.length else 0
        else:
            count = int(group.count)
        rows = []
        for _ in range(count):
            if offset + group.length > len(body):
                raise ModelError(f"model {model_id}: group {group.name} runs past the model's end")
            values, offset = _decode_points(group.points, body, offset)
            rows.append(_scaled(group.points, values, raw))
        decoded.groups[group.name] = rows
    return decoded


# --- encoding (simulator, tests, bench) -----------------------------------------------------


def _encode(point: PointDef, value: Any) -> list[int]:
    if value is None:
        if point.type == "string":
            return [0] * point.size
        if point.type in ("float32", "float64"):
            value = math.nan
        else:
            raw = _NOT_IMPLEMENTED.get(point.type, 0)
            return [(raw >> (16 * (point.size - 1 - i))) & 0xFFFF for i in range(point.size)]
    if point.type == "string":
        data = str(value).encode()[: point.size * 2].ljust(point.size * 2, b"\x00")
        return list(struct.unpack(f">{point.size}H", data))
    if point.type in ("float32", "float64"):
        data = struct.pack(">f" if point.type == "float32" else ">d", float(value))
        return list(struct.unpack(f">{point.size}H", data))
    number = int(value) & ((1 << (16 * point.size)) - 1)
    return [(number >> (16 * (point.size - 1 - i))) & 0xFFFF for i in range(point.size)]


def encode_model(
    model_id: int, values: dict[str, Any], groups: dict[str, list[dict[str, Any]]] | None = None
) -> list[int]:
    """ID, L and the registers of one model from raw point values (integers as stored, scale
    factors included); a point not given is "not implemented"."""
    definition = model_def(model_id)
    if definition is None:
        raise ModelError(f"model {model_id} is not a SunSpec model")
    body: list[int] = []
    top = definition.top
    for point in top.points:
        value = values.get(point.name)
        for group in top.groups:
            if point.name == group.count and value is None:
                value = len((groups or {}).get(group.name, []))
        body.extend(_encode(point, value))
    for group in top.groups:
        for row in (groups or {}).get(group.name, []):
            for point in group.points:
                body.extend(_encode(point, row.get(point.name)))
    return [model_id, len(body), *body]


def register_map(models: list[list[int]]) -> list[int]:
    """The whole SunSpec map: marker, the encoded models, end model."""
    registers = list(MARKER)
    for model in models:
        registers.extend(model)
    registers.extend([END_ID, 0])
    return registers
