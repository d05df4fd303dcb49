"""Bulk device onboarding of one plant from spreadsheet rows (CSV)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence

from ..choices import DeviceType
from ..models import Device, Plant
from .base import (
    DEVICE_FIELDS,
    KEEP,
    SHEET_FIELDS,
    DevicePlan,
    ImportFailed,
    ImportResult,
    atomic_import,
    did_you_mean,
    existing_devices,
    from_text,
    plan_device,
    resolve_parents,
    write_devices,
)

CSV_DEVICE_COLUMNS = ("type", *DEVICE_FIELDS, "parent_serial")
CSV_SHEET_COLUMNS = tuple(dict.fromkeys(name for sheet in SHEET_FIELDS.values() for name in sheet))
CSV_REQUIRED_COLUMNS = ("type", "serial_number")


_CSV_KNOWN = frozenset(CSV_DEVICE_COLUMNS) | frozenset(CSV_SHEET_COLUMNS)


def _line_of(problem: str) -> int:
    match = re.match(r"line (\d+): ", problem)
    return int(match.group(1)) if match else 0


def _header_problems(columns: Sequence[str | None]) -> list[str]:
    counts = Counter(c for c in columns if c is not None)
    problems = []
    for column, n in counts.items():
        if column not in _CSV_KNOWN:
            problems.append(f"header: unknown column {column!r}{did_you_mean(column, _CSV_KNOWN)}")
        elif n > 1:
            problems.append(f"header: column {column!r} appears {n} times")
    problems += [f"header: required column {c!r} is missing" for c in CSV_REQUIRED_COLUMNS if c not in counts]
    return problems


def _plan_csv_row(
    plant: Plant, row: dict, line: int, existing: dict[str, Device], seen: dict[str, str], problems: list[str]
) -> DevicePlan | None:
    prefix = f"line {line}: "
    if None in row:
        problems.append(f"{prefix}more cells than there are columns")
    cells = {k: (v or "").strip() for k, v in row.items() if k in _CSV_KNOWN and (v or "").strip()}
    if not cells:
        return None  # a blank row
    raw_type, serial = cells.pop("type", ""), cells.get("serial_number", "")
    dtype = raw_type.lower()
    if dtype not in DeviceType.values:
        expected = ", ".join(DeviceType.values)
        problems.append(
            f"{prefix}type: " + (f"unknown device type {raw_type!r} (one of {expected})" if dtype else "required")
        )
    if not serial:
        problems.append(f"{prefix}serial_number: required")
    elif serial in seen:
        problems.append(f"{prefix}serial_number: duplicate serial number {serial!r} (also on {seen[serial]})")
        return None
    else:
        seen[serial] = f"line {line}"
    if dtype not in DeviceType.values or not serial:
        return None
    parent = cells.pop("parent_serial", KEEP)
    sheet_allowed = SHEET_FIELDS.get(dtype, {})
    for column in [c for c in cells if c not in DEVICE_FIELDS and c not in sheet_allowed]:
        problems.append(f"{prefix}{column}: not a datasheet field of type {dtype} (leave the cell empty)")
        del cells[column]
    return plan_device(
        plant=plant, existing=existing, dtype=dtype, parent=parent, prefix=prefix, sheet_prefix=prefix,
        fields={k: v for k, v in cells.items() if k in DEVICE_FIELDS},
        sheet_fields={k: v for k, v in cells.items() if k in sheet_allowed},
        parent_key="parent_serial", problems=problems, conv=from_text,
    )  # fmt: skip


def devices_csv_import(
    *,
    plant: Plant,
    rows: Iterable[dict[str, str]],
    dry_run: bool = False,
    columns: Sequence[str] | None = None,
) -> ImportResult:
    """Create or update devices of ``plant`` from spreadsheet rows (``csv.DictReader`` dicts).

    Columns: ``type,name,serial_number,manufacturer,model,firmware,capacity_kw,commissioned_at,
    operational,parent_serial`` plus any datasheet field, applied to the datasheet of the row's
    type. Empty cells mean "not given" (new devices get the default, existing ones keep their
    value). Devices are matched by serial number on the plant; ``parent_serial`` may name a
    device in the rows or already on the plant. Problems are located as ``line N`` counting
    the header as line 1 (one line per record). ``columns`` is the header when known; otherwise
    the first row's keys are checked. Every problem is raised as :class:`ImportFailed` before
    anything is written; all writes share one transaction; ``dry_run`` writes nothing.
    """
    rows = list(rows)
    columns = list(columns) if columns is not None else (list(rows[0]) if rows else [])

    def run() -> ImportResult:
        problems = _header_problems(columns)
        locked = Plant.objects.select_for_update().get(pk=plant.pk)
        existing = existing_devices(locked)
        plans, seen = [], {}
        for i, row in enumerate(rows):
            plan = _plan_csv_row(locked, row, i + 2, existing, seen, problems)
            if plan is not None:
                plans.append(plan)
        resolve_parents(plans, existing, problems)
        if problems:
            raise ImportFailed(sorted(problems, key=_line_of))  # header first, then by line
        result = ImportResult(plant=locked, dry_run=dry_run)
        for p in plans:
            result.count(p.device.type, created=p.created, changed=p.changed)
        if not dry_run:
            write_devices(locked, plans)
        return result

    return atomic_import(run)
