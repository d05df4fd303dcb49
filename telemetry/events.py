"""Device events (seed 004's ``device_events``): validation and storage for the ingest service.

An event is ``{"deviceId" | "serialNumber", "timestamp", "eventType", "code"?, "message"?,
"severity"?}``. Storage is idempotent on ``(device, ts, eventType, code)``: a replayed event is a
duplicate, never a second row. Like readings, one bad event never drops the good ones — each
problem becomes ``{index, field, message}`` and the rest is stored.

``severity`` is one of ``info``, ``minor``, ``major``, ``critical`` (default ``info``); seed 004
stores it as an integer, so ``1``..``4`` are accepted for the same four levels.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.db import connection, transaction

from .choices import EventSeverity

MAX_EVENTS = 10_000
MAX_TEXT = {"eventType": 64, "code": 64, "message": 2000}
SEVERITY_BY_NUMBER = {1: "info", 2: "minor", 3: "major", 4: "critical"}
_SEVERITIES = set(EventSeverity.values)


@dataclass
class EventResult:
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)

    def reject(self, index: int, field_name: str, message: str) -> None:
        self.rejected += 1
        if len(self.errors) < 1000:  # bounded answer size; counts stay exact
            self.errors.append({"index": index, "field": field_name, "message": message})

    def as_dict(self) -> dict[str, Any]:
        return {
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "errors": self.errors,
        }

    def merge(self, other: EventResult) -> None:
        self.accepted += other.accepted
        self.duplicates += other.duplicates
        self.rejected += other.rejected
        self.errors.extend(other.errors[: max(0, 1000 - len(self.errors))])


EventRow = tuple[int, datetime, str, str, str, str]  # device_id, ts, event_type, code, message, severity


def _text(raw: Any, name: str, *, required: bool) -> str:
    if raw is None or raw == "":
        if required:
            raise ValueError(f"{name} is required")
        return ""
    if isinstance(raw, bool) or not isinstance(raw, str | int):
        raise ValueError(f"{name} must be a string")
    text = str(raw).strip()
    if "\x00" in text:
        raise ValueError(f"{name} must not contain NUL characters")
    if len(text) > MAX_TEXT[name]:
        raise ValueError(f"{name} may be at most {MAX_TEXT[name]} characters")
    if required and not text:
        raise ValueError(f"{name} is required")
    return text


def _severity(raw: Any) -> str:
    if raw is None or raw == "":
        return EventSeverity.INFO.value
    if isinstance(raw, int) and not isinstance(raw, bool) and raw in SEVERITY_BY_NUMBER:
        return SEVERITY_BY_NUMBER[raw]
    if isinstance(raw, str) and raw.strip().lower() in _SEVERITIES:
        return raw.strip().lower()
    raise ValueError("severity must be one of info, minor, major, critical (or 1..4)")


def validate_events(events: Sequence[Any], *, resolver, result: EventResult, now: datetime | None = None) -> list:
    """Rows ``(device_id, ts, event_type, code, message, severity)`` of every valid event;
    problems go to ``result``. ``resolver`` is the ingest service's ``DeviceResolver``."""
    from .ingest import EARLIEST, FUTURE_TOLERANCE, parse_timestamp

    latest_allowed = (now or datetime.now(UTC)) + FUTURE_TOLERANCE
    rows: list[EventRow] = []
    for index, event in enumerate(events):
        if not isinstance(event, dict):
            result.reject(index, "", "each event must be an object")
            continue
        try:
            device_id = resolver.resolve(event)
        except LookupError as exc:
            result.reject(index, "deviceId", str(exc))
            continue
        try:
            ts = parse_timestamp(event.get("timestamp", event.get("ts")))
        except ValueError as exc:
            result.reject(index, "timestamp", str(exc))
            continue
        if ts > latest_allowed:
            result.reject(index, "timestamp", "timestamp is in the future")
            continue
        if ts < EARLIEST:
            result.reject(index, "timestamp", "timestamp is before 2000-01-01")
            continue
        try:
            event_type = _text(event.get("eventType", event.get("event_type")), "eventType", required=True)
        except ValueError as exc:
            result.reject(index, "eventType", str(exc))
            continue
        try:
            code = _text(event.get("code", event.get("eventCode", event.get("event_code"))), "code", required=False)
        except ValueError as exc:
            result.reject(index, "code", str(exc))
            continue
        try:
            message = _text(event.get("message"), "message", required=False)
        except ValueError as exc:
            result.reject(index, "message", str(exc))
            continue
        try:
            severity = _severity(event.get("severity"))
        except ValueError as exc:
            result.reject(index, "severity", str(exc))
            continue
        rows.append((device_id, ts, event_type, code, message, severity))
    return rows


def store_events(rows: list[EventRow]) -> int:
    """Insert the events not stored yet; returns how many were new. The same key twice in one
    batch counts once (first wins, as a replay would). Sorted by key, so concurrent writers of
    overlapping batches take index locks in the same order."""
    unique: dict[tuple, EventRow] = {}
    for row in rows:
        unique.setdefault(row[:4], row)
    ordered = sorted(unique.values(), key=lambda row: row[:4])
    if not ordered:
        return 0
    now = datetime.now(UTC)
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            columns = list(zip(*ordered, strict=True))
            cursor.execute(
                "INSERT INTO telemetry_deviceevent (device_id, ts, event_type, code, message, severity, created_at) "
                "SELECT d, t, e, c, m, s, %s FROM unnest(%s::bigint[], %s::timestamptz[], %s::text[], %s::text[], "
                "%s::text[], %s::text[]) AS u(d, t, e, c, m, s) "
                "ON CONFLICT (device_id, ts, event_type, code) DO NOTHING",
                [now, *[list(column) for column in columns]],
            )
            return max(cursor.rowcount, 0)
        adapt = connection.ops.adapt_datetimefield_value
        cursor.executemany(
            "INSERT INTO telemetry_deviceevent (device_id, ts, event_type, code, message, severity, created_at) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (device_id, ts, event_type, code) DO NOTHING",
            [(d, adapt(ts), e, c, m, s, adapt(now)) for d, ts, e, c, m, s in ordered],
        )
        return max(cursor.rowcount, 0)
