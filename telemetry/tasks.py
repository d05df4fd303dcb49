"""Celery tasks of the telemetry app: thin, take ids, call a service.

All three are idempotent and safe to run concurrently: folding claims dirty hours with
``FOR UPDATE SKIP LOCKED``, partition creation is serialised by an advisory lock and uses
``IF NOT EXISTS``, retention drops with ``IF EXISTS``.
"""

from __future__ import annotations

from celery import shared_task

# A fold run stops taking new batches after this long, so the every-minute beat runs do not pile
# up; whatever is left is taken by the next run (or by a concurrent one).
FOLD_BUDGET_SECONDS = 50.0


@shared_task(name="telemetry.fold_rollups")
def fold_rollups(limit: int | None = None) -> int:
    """Every minute (beat): fold dirty (device, hour) marks into the rollups."""
    from telemetry.rollups import rollups_fold

    return rollups_fold(limit=limit, budget_seconds=FOLD_BUDGET_SECONDS)


@shared_task(name="telemetry.partitions_ahead")
def partitions_ahead(months: int = 3) -> list[str]:
    """Daily (beat): the readings partitions of this month and the next ones exist before data
    arrives (ingest also creates missing ones on demand, for back-filled months)."""
    from telemetry.partitions import partitions_ahead as ensure_ahead

    return ensure_ahead(months=months)


@shared_task(name="telemetry.drop_old_partitions")
def drop_old_partitions() -> list[str]:
    """Daily (beat): retention — drop whole monthly partitions older than
    ``TELEMETRY_RETENTION_DAYS`` (rollups are kept)."""
    from django.conf import settings

    from telemetry.partitions import partitions_drop_older_than

    return partitions_drop_older_than(days=settings.TELEMETRY_RETENTION_DAYS)
