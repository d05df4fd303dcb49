"""Writes of the storage app: dispatch events (API, admin, CSV import), the plant's tariff and
the default storage alarm rules. Every write re-checks the plant under lock
(``plant_get_for(..., lock=True)``) with ``operate`` (dispatch) or ``change_plant`` (tariff)."""

from __future__ import annotations

from django.db import transaction
from rest_framework.exceptions import ValidationError

from alarms.models import AlarmRule
from plants.access import PlantAction
from plants.choices import DeviceType
from plants.models import Plant
from plants.selectors import plant_get_for
from solarhub.api.params import csv_records, datetime_from_text

from .choices import DispatchMode
from .models import DispatchEvent

DISPATCH_FIELDS = (
    "mode",
    "time_start",
    "time_end",
    "time_number",
    "quote_capacity",
    "quote_price",
    "is_get",
    "power",
    "price",
    "quote_code",
    "interrupt",
    "title",
    "description",
)


def _check_window(fields: dict) -> None:
    if fields["time_end"] <= fields["time_start"]:
        raise ValidationError({"time_end": ["timeEnd must be after timeStart."]})


@transaction.atomic
def dispatch_event_create(*, by, plant_id: int, **fields) -> DispatchEvent:
    """A dispatch event on a plant the caller may operate."""
    plant = plant_get_for(user=by, plant_id=plant_id, action=PlantAction.OPERATE, lock=True)
    _check_window(fields)
    return DispatchEvent.objects.create(plant=plant, created_by=by, **fields)


@transaction.atomic
def dispatch_event_update(*, by, event: DispatchEvent, **fields) -> DispatchEvent:
    """Change an event; its plant is re-checked under lock and cannot change."""
    plant_get_for(user=by, plant_id=event.plant_id, action=PlantAction.OPERATE, lock=True)
    merged = {name: fields.get(name, getattr(event, name)) for name in DISPATCH_FIELDS}
    _check_window(merged)
    for name, value in merged.items():
        setattr(event, name, value)
    event.save()
    return event


_BOOL = {
    "1": True,
    "true": True,
    "yes": True,
    "y": True,
    "0": False,
    "false": False,
    "no": False,
    "n": False,
    "": False,
}
_FLOATS = ("quote_capacity", "quote_price", "power", "price")


def _parse_row(row: dict[str, str], line: int, problems: list[str]) -> dict | None:
    fields: dict = {}
    mode = row.get("mode", "").strip()
    if mode not in DispatchMode.values:
        problems.append(f"line {line}: mode {mode!r} is not one of {', '.join(DispatchMode.values)}")
        return None
    fields["mode"] = mode
    for name in ("time_start", "time_end"):
        moment = datetime_from_text(row.get(name, ""))
        if moment is None or moment.tzinfo is None:
            problems.append(f"line {line}: {name} must be an ISO 8601 time with an offset")
            return None
        fields[name] = moment
    for name in _FLOATS:
        text = row.get(name, "").strip() or "0"
        try:
            fields[name] = float(text)
        except ValueError:
            problems.append(f"line {line}: {name} {text!r} is not a number")
            return None
        if fields[name] < 0 or fields[name] != fields[name]:
            problems.append(f"line {line}: {name} must not be negative")
            return None
    for name in ("is_get", "interrupt"):
        text = row.get(name, "").strip().lower()
        if text not in _BOOL:
            problems.append(f"line {line}: {name} {text!r} is not a boolean")
            return None
        fields[name] = _BOOL[text]
    number = row.get("time_number", "").strip()
    fields["time_number"] = int(number) if number.isdigit() else None
    for name, limit in (("quote_code", 64), ("title", 128)):
        fields[name] = row.get(name, "").strip()[:limit]
    fields["description"] = row.get("description", "").strip()
    if fields["time_end"] <= fields["time_start"]:
        problems.append(f"line {line}: time_end must be after time_start")
        return None
    return fields


@transaction.atomic
def dispatch_events_import(*, plant: Plant, text: str, by=None) -> int:
    """Import seed 003's schedule rows from CSV (header: the model's field names; times ISO 8601
    with offset; booleans 1/0/true/false). An event with the same plant, ``time_start`` and
    ``quote_code`` is updated; nothing is written when any row has a problem (``ValueError``
    listing them all). Returns the number of rows written."""
    header, rows = csv_records(text)
    missing = [name for name in ("mode", "time_start", "time_end") if name not in header]
    if missing:
        raise ValueError(f"missing columns: {', '.join(missing)}")
    problems: list[str] = []
    parsed = [_parse_row(row, line, problems) for line, row in enumerate(rows, start=2)]
    if problems:
        raise ValueError("; ".join(problems))
    for fields in parsed:
        DispatchEvent.objects.update_or_create(
            plant=plant,
            time_start=fields.pop("time_start"),
            quote_code=fields.pop("quote_code"),
            defaults={**fields, "created_by": by},
        )
    return len(parsed)


# --- default storage alarm rules -------------------------------------------------------------

# Editable afterwards like every default rule; the limits are the usual LFP envelope.
STORAGE_DEFAULT_RULES = [
    {
        "name": "Cell over-voltage",
        "rule_type": "threshold",
        "device_type": DeviceType.BESS_RACK,
        "severity": "high",
        "params": {"metric": "cell_voltage_max", "operator": ">", "value": 3.65},
        "trigger_delay_minutes": 1,
    },
    {
        "name": "Cell under-voltage",
        "rule_type": "threshold",
        "device_type": DeviceType.BESS_RACK,
        "severity": "high",
        "params": {"metric": "cell_voltage_min", "operator": "<", "value": 2.8},
        "trigger_delay_minutes": 1,
    },
    {
        "name": "Cell over-temperature",
        "rule_type": "threshold",
        "device_type": DeviceType.BESS_RACK,
        "severity": "critical",
        "params": {"metric": "cell_temp_max", "operator": ">", "value": 55},
    },
    {
        "name": "SoC above band",
        "rule_type": "threshold",
        "device_type": DeviceType.BESS,
        "severity": "medium",
        "params": {"metric": "soc", "operator": ">", "value": 98},
        "trigger_delay_minutes": 15,
    },
    {
        "name": "SoC below band",
        "rule_type": "threshold",
        "device_type": DeviceType.BESS,
        "severity": "medium",
        "params": {"metric": "soc", "operator": "<", "value": 5},
        "trigger_delay_minutes": 15,
    },
    {
        "name": "Rack communication loss",
        "rule_type": "communication_loss",
        "device_type": DeviceType.BESS_RACK,
        "severity": "high",
        "params": {"minutes": 10},
    },
    *[
        {
            "name": f"PCS {word.replace('_', ' ')}",
            "rule_type": "status_code",
            "device_type": DeviceType.PCS,
            "severity": "high",
            "params": {"metric": f"pcs_{word}", "bits": "any"},
        }
        for word in ("fault_status1", "fault_status2")
    ],
]


def storage_alarm_rules_create_defaults(*, plant: Plant) -> list[AlarmRule]:
    """The storage rules of :data:`STORAGE_DEFAULT_RULES` the plant lacks (by name); idempotent."""
    names = {spec["name"] for spec in STORAGE_DEFAULT_RULES}
    present = set(AlarmRule.objects.filter(plant=plant, is_default=True, name__in=names).values_list("name", flat=True))
    return AlarmRule.objects.bulk_create(
        AlarmRule(plant=plant, is_default=True, **spec) for spec in STORAGE_DEFAULT_RULES if spec["name"] not in present
    )
