"""What both imports share: strict value parsing, located problems, the result, and the
validate-then-write planning of devices (matched by serial number, datasheets, parents)."""

from __future__ import annotations

import difflib
import json
import math
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, models, transaction

from ..choices import PARENT_TYPES
from ..models import DATASHEETS, Device, PanelSpec, Plant

_SKIP = {"id", "plant", "device", "parent", "type", "owner", "installer", "created_at", "updated_at"}
KEEP = object()  # "not given": leave the stored value alone


def _fields(model: type[models.Model]) -> dict[str, models.Field]:
    return {f.name: f for f in model._meta.concrete_fields if f.name not in _SKIP}


PLANT_FIELDS = _fields(Plant)
PANEL_SPEC_FIELDS = _fields(PanelSpec)
DEVICE_FIELDS = _fields(Device)
SHEET_FIELDS = {dtype: _fields(model) for dtype, (model, _related) in DATASHEETS.items()}


class ImportFailed(Exception):
    """The input has problems; nothing was written. ``problems`` lists every one, located."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__(f"{len(self.problems)} problem(s): " + "; ".join(self.problems))


@dataclass
class ImportResult:
    """What an import created, updated or found unchanged, per kind (``plant``, ``panel_spec``
    or a device type). After a dry run of a new plant, ``plant`` is unsaved (no ``pk``)."""

    plant: Plant
    dry_run: bool = False
    created: Counter[str] = field(default_factory=Counter)
    updated: Counter[str] = field(default_factory=Counter)
    unchanged: Counter[str] = field(default_factory=Counter)
    readiness: dict | None = None  # forecasting.selectors.plant_model_readiness after a real import

    def count(self, kind: str, *, created: bool, changed: bool) -> None:
        (self.created if created else self.updated if changed else self.unchanged)[kind] += 1

    def summary(self) -> str:
        verb = "Dry run of the import of" if self.dry_run else "Imported"
        lines = [f"{verb} plant {self.plant.plant_code} ({self.plant.name}):"]
        kinds = dict.fromkeys([*self.created, *self.updated, *self.unchanged])
        for kind in sorted(kinds, key=lambda k: (k != "plant", k != "panel_spec", k)):
            lines.append(
                f"  {kind}: {self.created[kind]} created, {self.updated[kind]} updated, "
                f"{self.unchanged[kind]} unchanged"
            )
        if self.readiness is not None and not self.readiness["ready"]:
            lines.append(
                f"Not ready for {', '.join(self.readiness['features'])} (the plant model lacks these; "
                "monitoring works without them):"
            )
            plant_fields = {f.name for f in Plant._meta.get_fields()}
            lines.extend(
                f"  - {'plant.' if name in plant_fields else ''}{name}: {' '.join(msgs)}"
                for name, msgs in self.readiness["errors"].items()
            )
        if self.dry_run:
            lines.append("Dry run: nothing was written.")
        return "\n".join(lines)


# -- values ------------------------------------------------------------------------------------


def show(value: Any) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= 40 else text[:37] + "..."


def parse_date(text: str) -> date:
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return date.fromisoformat(text)
    except ValueError:
        pass
    raise ValueError(f"expected a date as YYYY-MM-DD, got {show(text)}")


def from_json(f: models.Field, value: Any) -> Any:
    """A JSON value as the field's Python value; ``ValueError`` says what is wrong."""
    if value is None:
        if f.null:
            return None
        if isinstance(f, models.CharField) and f.blank:
            return ""
        raise ValueError("may not be null")
    if isinstance(f, models.BooleanField):
        if isinstance(value, bool):
            return value
        raise ValueError(f"expected true or false, got {show(value)}")
    if isinstance(f, models.FloatField | models.IntegerField):
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise ValueError(f"expected a number, got {show(value)}")
        if isinstance(f, models.IntegerField):
            if value != int(value):
                raise ValueError(f"expected a whole number, got {show(value)}")
            return int(value)
        return float(value)
    if not isinstance(value, str):
        raise ValueError(f"expected a string, got {show(value)}")
    return parse_date(value) if isinstance(f, models.DateField) else value


_TRUE, _FALSE = {"true", "yes", "y", "1"}, {"false", "no", "n", "0"}


def from_text(f: models.Field, text: str) -> Any:
    """A (non-empty, stripped) CSV cell as the field's Python value; ``ValueError`` if malformed."""
    if isinstance(f, models.BooleanField):
        if text.lower() in _TRUE | _FALSE:
            return text.lower() in _TRUE
        raise ValueError(f"expected true or false, got {show(text)}")
    if isinstance(f, models.IntegerField):
        if re.fullmatch(r"[+-]?\d+", text):
            return int(text)
        raise ValueError(f"expected a whole number, got {show(text)}")
    if isinstance(f, models.FloatField):
        try:
            number = float(text)
        except ValueError:
            number = math.nan
        if not math.isfinite(number) or not re.fullmatch(r"[0-9eE+.-]+", text):
            raise ValueError(f"expected a number, got {show(text)}")
        return number
    return parse_date(text) if isinstance(f, models.DateField) else text


Convert = Callable[[models.Field, Any], Any]


def _loc(prefix: str, name: str) -> str:
    return f"{prefix}{name}" if name != NON_FIELD_ERRORS else prefix.rstrip(". :")


def apply_fields(
    obj, data: dict, allowed: dict[str, models.Field], prefix: str, problems: list[str], conv: Convert
) -> set:
    """Set every given field on ``obj``; returns the names that had problems."""
    bad = set()
    for key, value in data.items():
        f = allowed.get(key)
        if f is None:
            problems.append(f"{prefix}{key}: unknown key{did_you_mean(key, allowed)}")
            continue
        try:
            setattr(obj, f.attname, conv(f, value))
        except ValueError as exc:
            problems.append(f"{prefix}{key}: {exc}")
            bad.add(key)
    if obj.pk is None:  # required for new rows
        for name, f in allowed.items():
            if not (f.null or f.blank or f.has_default() or name in data or getattr(obj, f.attname) not in (None, "")):
                problems.append(f"{prefix}{name}: required")
                bad.add(name)
    return bad


def clean_into(obj, prefix: str, problems: list[str], exclude: Iterable[str]) -> None:
    try:
        obj.full_clean(exclude=list(exclude))
    except ValidationError as exc:
        problems.extend(f"{_loc(prefix, k)}: {m}" for k, msgs in exc.message_dict.items() for m in msgs)


def snapshot(obj) -> dict[str, Any] | None:
    if obj is None:
        return None
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields if f.name not in _SKIP}


# -- devices (shared by both imports) -------------------------------------------------------------


@dataclass
class DevicePlan:
    prefix: str
    parent_key: str
    device: Device
    sheet: models.Model | None
    parent: Any  # a serial number, None (no parent) or KEEP
    created: bool
    changed: bool
    parent_device: Device | None = None


def existing_devices(plant: Plant) -> dict[str, Device]:
    if plant.pk is None:
        return {}
    related = [related for _model, related in DATASHEETS.values()]
    return {d.serial_number: d for d in Device.objects.filter(plant=plant).select_related(*related)}


def plan_device(
    *,
    plant: Plant,
    existing: dict[str, Device],
    dtype: str,
    fields: dict[str, Any],
    sheet_fields: dict[str, Any],
    parent: Any,
    prefix: str,
    sheet_prefix: str,
    parent_key: str,
    problems: list[str],
    conv: Convert,
) -> DevicePlan | None:
    serial = fields["serial_number"]
    device = existing.get(serial)
    if device is not None and device.type != dtype:
        problems.append(
            f"{prefix}serial_number: {serial!r} is registered on this plant with type {device.type}, not {dtype} "
            "(imports never change a device's type)"
        )
        return None
    created = device is None
    device = device or Device(plant=plant, type=dtype)
    before = (snapshot(device), device.parent_id)
    bad = apply_fields(device, fields, DEVICE_FIELDS, prefix, problems, conv)
    clean_into(device, prefix, problems, bad | {"plant", "parent"})
    if parent is not KEEP and parent is not None and dtype not in PARENT_TYPES:
        problems.append(f"{prefix}{parent_key}: devices of type {dtype} have no parent device")
    sheet = sheet_before = None
    if dtype in DATASHEETS:
        model, related = DATASHEETS[dtype]
        sheet = None if created else getattr(device, related, None)
        sheet_before = snapshot(sheet)
        sheet = sheet or model()
        bad = apply_fields(sheet, sheet_fields, SHEET_FIELDS[dtype], sheet_prefix, problems, conv)
        clean_into(sheet, sheet_prefix, problems, bad | {"device"})
    changed = created or before[0] != snapshot(device) or sheet_before != snapshot(sheet)
    return DevicePlan(prefix, parent_key, device, sheet, parent, created, changed)


def resolve_parents(plans: list[DevicePlan], existing: dict[str, Device], problems: list[str]) -> None:
    planned = {p.device.serial_number: p.device for p in plans}
    for p in plans:
        if p.parent is KEEP:
            continue
        expected = PARENT_TYPES.get(p.device.type)
        if p.parent is None or expected is None:
            p.changed |= p.device.parent_id is not None
            continue
        target = planned.get(p.parent) or existing.get(p.parent)
        where = f"{p.prefix}{p.parent_key}"
        if target is None:
            problems.append(f"{where}: no device with serial number {p.parent!r} in the input or on the plant")
        elif target.type != expected:
            problems.append(
                f"{where}: {p.parent!r} has type {target.type}; "
                f"the parent of a {p.device.type} must have type {expected}"
            )
        else:
            p.parent_device = target
            p.changed |= target.pk is None or target.pk != p.device.parent_id


def write_devices(plant: Plant, plans: list[DevicePlan]) -> None:
    for p in sorted(plans, key=lambda p: p.device.type in PARENT_TYPES):  # parents first
        if not p.changed:
            continue
        p.device.plant = plant
        if p.parent is not KEEP:
            p.device.parent = p.parent_device
        p.device.save()
        if p.sheet is not None:
            p.sheet.device = p.device
            p.sheet.save()


def atomic_import(run: Callable[[], ImportResult]) -> ImportResult:
    try:
        with transaction.atomic():
            return run()
    except IntegrityError as exc:
        raise ImportFailed([f"the database refused the import (a concurrent change?), run it again: {exc}"]) from exc


def did_you_mean(key: Any, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(str(key), list(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""
