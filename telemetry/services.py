"""Writes of the telemetry app (besides ingest itself, in ``ingest.py``)."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from django.db import transaction
from django.utils import timezone

from plants.access import PlantAction
from plants.selectors import plant_get_for
from solarhub.api.exceptions import ApiError, PayloadTooLarge
from solarhub.api.params import csv_records

from .ingest import MAX_READINGS
from .models import IngestKey, Reading

KEY_PREFIX = "shk"
_CSV_FIXED = {"timestamp", "ts", "deviceid", "device_id", "serialnumber", "serial_number", "metric", "value"}


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@transaction.atomic
def ingest_key_create(*, by, plant_id: int, name: str) -> tuple[IngestKey, str]:
    """A new key for a plant's loggers; returns the key row and the plaintext key, which is
    shown once and never stored (only its SHA-256)."""
    plant = plant_get_for(user=by, plant_id=plant_id, action=PlantAction.MANAGE_KEYS, lock=True)
    prefix = secrets.token_hex(4)
    secret = secrets.token_urlsafe(32)
    plaintext = f"{KEY_PREFIX}_{prefix}_{secret}"
    key = IngestKey.objects.create(plant=plant, name=name, prefix=prefix, key_hash=_hash(plaintext), created_by=by)
    return key, plaintext


@transaction.atomic
def ingest_key_revoke(*, by, plant_id: int, key_id: int) -> None:
    plant = plant_get_for(user=by, plant_id=plant_id, action=PlantAction.MANAGE_KEYS, lock=True)
    updated = IngestKey.objects.filter(plant=plant, pk=key_id, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    if not updated:
        raise ApiError("No such active key.", code="not_found", status_code=404)


def ingest_key_authenticate(*, plaintext: str) -> IngestKey | None:
    """The active key matching ``plaintext`` (constant-time comparison), or None."""
    parts = plaintext.strip().split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX or len(plaintext) > 200:
        return None
    key = IngestKey.objects.select_related("plant").filter(prefix=parts[1], revoked_at__isnull=True).first()
    if key is None or not hmac.compare_digest(key.key_hash, _hash(plaintext.strip())):
        return None
    now = timezone.now()
    if key.last_used_at is None or (now - key.last_used_at).total_seconds() > 60:
        IngestKey.objects.filter(pk=key.pk).update(last_used_at=now)  # at most once a minute
    return key


def ingest_keys_revoke_all(*, plant, by) -> int:
    """Revoke every active ingest key of the plant (a previous owner or installer lost it).
    Through :func:`ingest_key_revoke` (which re-checks ``by``'s key right on the plant, inside
    the caller's transaction); ``by=None`` is the operator at the shell: revoked directly."""
    active = IngestKey.objects.filter(plant_id=plant.pk, revoked_at__isnull=True)
    if by is None:
        return active.update(revoked_at=timezone.now())
    key_ids = list(active.values_list("id", flat=True))
    for key_id in key_ids:
        ingest_key_revoke(by=by, plant_id=plant.pk, key_id=key_id)
    return len(key_ids)


def readings_purge(*, device_ids: list[int]) -> int:
    """Delete the raw readings of devices being deleted (the readings table has no FK: a
    constraint check per row would halve ingest speed)."""
    deleted, _ = Reading.objects.filter(device_id__in=device_ids).delete()
    return deleted


def readings_from_csv(text: str) -> list[dict]:
    """Wide (``timestamp, deviceId|serialNumber, <metric>...``) or long (``timestamp,
    deviceId|serialNumber, metric, value``) CSV → readings. Empty cells are not given; a
    non-numeric cell is passed through so the ingest service reports it per value."""
    columns, rows = csv_records(text)
    if not columns:
        raise ApiError("CSV has no header row.", code="parse_error")
    lower = {name.lower() for name in columns}
    if not lower & {"timestamp", "ts"} or not lower & {"deviceid", "device_id", "serialnumber", "serial_number"}:
        raise ApiError("CSV needs a timestamp column and a deviceId or serialNumber column.", code="parse_error")
    long_format = {"metric", "value"} <= lower
    readings: list[dict] = []
    grouped: dict[tuple, dict] = {}
    for row in rows:
        row = {name: value.strip() for name, value in row.items()}
        ident = {}
        for name, target in (("deviceId", "deviceId"), ("device_id", "deviceId"), ("serialNumber", "serialNumber"),
                             ("serial_number", "serialNumber")):  # fmt: skip
            if row.get(name):
                ident[target] = row[name]
        timestamp = row.get("timestamp") or row.get("ts") or ""
        if long_format:
            key = (timestamp, tuple(sorted(ident.items())))
            reading = grouped.get(key)
            if reading is None:
                reading = grouped[key] = {**ident, "timestamp": timestamp, "metrics": {}}
                readings.append(reading)
            if row.get("metric"):
                reading["metrics"][row["metric"]] = _number(row.get("value", ""))
        else:
            metrics = {
                name: _number(value) for name, value in row.items() if name.lower() not in _CSV_FIXED and value != ""
            }
            readings.append({**ident, "timestamp": timestamp, "metrics": metrics})
        if len(readings) > MAX_READINGS:
            raise PayloadTooLarge(f"At most {MAX_READINGS} readings per request.")
    return readings


def _number(text: str):
    try:
        return float(text)
    except ValueError:
        return text
