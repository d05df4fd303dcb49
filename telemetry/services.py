"""Writes of the telemetry app (besides ingest itself, in ``ingest.py``)."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from django.db import transaction
from django.utils import timezone

from plants.access import PlantAction
from plants.selectors import plant_get_for

from .models import IngestKey

KEY_PREFIX = "shk"


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
    from rest_framework.exceptions import NotFound

    plant = plant_get_for(user=by, plant_id=plant_id, action=PlantAction.MANAGE_KEYS, lock=True)
    updated = IngestKey.objects.filter(plant=plant, pk=key_id, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    if not updated:
        raise NotFound("No such active key.")


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


def readings_purge(*, device_ids: list[int]) -> int:
    """Delete the raw readings of devices being deleted (the readings table has no FK: a
    constraint check per row would halve ingest speed)."""
    from .models import Reading

    deleted, _ = Reading.objects.filter(device_id__in=device_ids).delete()
    return deleted
