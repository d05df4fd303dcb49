"""SunSpec points → our metric keys, from the metric catalog's ``sunspec_point`` column (the
catalog names them: ``101-103/W``, ``160/DCV``, ``124/ChaState, 802/SoC``), and unit
conversion (SunSpec reads W, Wh, var; the catalog stores kW, kWh, kvar).

Conventions stated once:
* the float inverter models 111-113 carry the points of 101-103 under the same names;
* a repeating group point (``160/DCV``) fills the numbered family (``pv1_voltage``,
  ``pv2_voltage``…) in group order;
* a meter's ``W`` (201-204) is positive while importing from the grid: it becomes
  ``import_power`` when ≥ 0 and ``export_power`` (its magnitude) when < 0;
* power factor is read in percent (SunSpec ``Pct``) and stored as a fraction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .sunspec import DecodedModel

# The catalog spells the phase points Aa/Ab/Ac and PhVA/PhVB/PhVC; SunSpec calls them
# AphA/AphB/AphC and PhVphA/PhVphB/PhVphC.
_POINT_ALIASES = {"Aa": "AphA", "Ab": "AphB", "Ac": "AphC", "PhVA": "PhVphA", "PhVB": "PhVphB", "PhVC": "PhVphC"}
_FLOAT_TWINS = {111: 101, 112: 102, 113: 103}
_NUMBER = re.compile(r"(\d+)")
_PREFIX = {"k": 1e3, "M": 1e6}


def unit_factor(source: str | None, target: str) -> float:
    """Multiplier from a value in SunSpec ``source`` units to catalog ``target`` units (W → kW:
    0.001, Pct → fraction: 0.01); 1 when they do not relate by a prefix (C and °C)."""
    source = (source or "").strip()
    target = (target or "").strip()
    if source == "Pct":
        return 0.01 if target == "" else 1.0
    if not source or not target or source.lower() == target.lower():
        return 1.0
    for prefix, factor in _PREFIX.items():
        if target.lower() == (prefix + source).lower():
            return 1.0 / factor
    return 1.0


@dataclass
class PointMap:
    """(model id, point) → metric keys, split into top-level and group points."""

    top: dict[tuple[int, str], list[str]] = field(default_factory=dict)
    grouped: dict[tuple[int, str], list[str]] = field(default_factory=dict)  # keys in family order
    units: dict[str, str] = field(default_factory=dict)  # key → catalog unit


def _models_of(spec: str) -> list[int]:
    if "-" in spec:
        low, high = spec.split("-", 1)
        return list(range(int(low), int(high) + 1))
    return [int(spec)]


def point_map_from_catalog(rows: list[tuple[str, str, str]]) -> PointMap:
    """Build the map from catalog rows ``(key, unit, sunspec_point)``."""
    mapping = PointMap()
    families: dict[tuple[int, str], list[tuple[int, str]]] = {}
    for key, unit, sunspec in rows:
        if not sunspec:
            continue
        mapping.units[key] = unit
        for part in sunspec.split(","):
            part = part.strip()
            if "/" not in part:
                continue
            models, point = part.split("/", 1)
            try:
                model_ids = _models_of(models)
            except ValueError:
                continue
            point = _POINT_ALIASES.get(point, point)
            number = _NUMBER.search(key)
            for model_id in model_ids:
                if model_id == 160 and number:  # the MPPT module group
                    families.setdefault((model_id, point), []).append((int(number.group(1)), key))
                else:
                    mapping.top.setdefault((model_id, point), []).append(key)
    for ident, keys in families.items():
        mapping.grouped[ident] = [key for _, key in sorted(keys)]
    return mapping


def clean_value(value: float) -> float:
    """Scale factors are powers of ten: 4326 * 0.001 is 4.3260000000000005 in binary; keep the
    digits the device sent."""
    return float(f"{value:.12g}")


def _model_key(model_id: int) -> int:
    return _FLOAT_TWINS.get(model_id, model_id)


def metrics_from_models(
    models: list[DecodedModel], units: dict[tuple[int, str], str | None], mapping: PointMap
) -> dict[str, float]:
    """Metric key → value for every mapped, implemented point of ``models``. ``units`` gives
    each (model, point)'s SunSpec unit."""
    out: dict[str, float] = {}
    for model in models:
        ident = _model_key(model.id)
        for point, value in model.values.items():
            if isinstance(value, str):
                continue
            keys = mapping.top.get((ident, point))
            if not keys:
                continue
            unit = units.get((model.id, point))
            if 201 <= ident <= 204 and point == "W" and {"import_power", "export_power"} <= set(keys):
                key = "import_power" if value >= 0 else "export_power"
                out[key] = clean_value(abs(value) * unit_factor(unit, mapping.units[key]))
                continue
            for key in keys:
                out.setdefault(key, clean_value(value * unit_factor(unit, mapping.units.get(key, ""))))
        for rows in model.groups.values():
            for index, row in enumerate(rows):
                for point, value in row.items():
                    keys = mapping.grouped.get((ident, point))
                    if not keys or index >= len(keys) or isinstance(value, str):
                        continue
                    key = keys[index]
                    out[key] = clean_value(
                        value * unit_factor(units.get((model.id, point)), mapping.units.get(key, ""))
                    )
    return out
