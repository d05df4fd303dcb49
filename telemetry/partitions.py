"""Monthly partitions of ``telemetry_reading`` on PostgreSQL: created ahead (beat task and, for
back-filled months, on demand before an ingest), dropped whole for retention."""

from __future__ import annotations

import zlib
from datetime import UTC, datetime, timedelta

from django.db import connection, transaction

_LOCK_KEY = zlib.crc32(b"telemetry_reading partitions")


def month_start(moment: datetime) -> datetime:
    moment = moment.astimezone(UTC)
    return datetime(moment.year, moment.month, 1, tzinfo=UTC)


def next_month(start: datetime) -> datetime:
    return datetime(start.year + (start.month == 12), start.month % 12 + 1, 1, tzinfo=UTC)


def partition_name(start: datetime) -> str:
    return f"telemetry_reading_y{start.year:04d}m{start.month:02d}"


def partitions_ensure(months: set[datetime]) -> None:
    """Create the partitions for these month starts if missing. Runs in its own short transaction
    (creating a partition locks the parent), serialised by an advisory lock."""
    if connection.vendor != "postgresql" or not months:
        return
    # One catalog lookup per batch (no process cache: a partition created in a transaction that
    # rolled back must not be believed to exist).
    with connection.cursor() as cursor:
        cursor.execute("SELECT relname FROM pg_class WHERE relname = ANY(%s)", [[partition_name(m) for m in months]])
        present = {row[0] for row in cursor.fetchall()}
    missing = sorted(m for m in months if partition_name(m) not in present)
    if not missing:
        return
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])
        for start in missing:
            name = partition_name(start)
            cursor.execute(
                f"CREATE TABLE IF NOT EXISTS {name} PARTITION OF telemetry_reading FOR VALUES FROM (%s) TO (%s)",
                [start, next_month(start)],
            )


def partitions_ahead(*, months: int = 3, now: datetime | None = None) -> list[str]:
    """Current month and the next ``months - 1`` (beat task)."""
    start = month_start(now or datetime.now(UTC))
    wanted = set()
    for _ in range(months):
        wanted.add(start)
        start = next_month(start)
    partitions_ensure(wanted)
    return sorted(partition_name(m) for m in wanted)


def partitions_list() -> list[tuple[str, datetime]]:
    if connection.vendor != "postgresql":
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = 'telemetry_reading'"
        )
        names = [row[0] for row in cursor.fetchall()]
    result = []
    for name in names:
        try:
            result.append((name, datetime(int(name[-7:-3]), int(name[-2:]), 1, tzinfo=UTC)))
        except ValueError:
            continue
    return sorted(result, key=lambda item: item[1])


def partitions_drop_older_than(*, days: int, now: datetime | None = None) -> list[str]:
    """Retention: drop every partition whose whole month ended more than ``days`` ago — a
    metadata operation, no row-by-row DELETE. On SQLite, delete the old rows instead."""
    cutoff = (now or datetime.now(UTC)) - timedelta(days=days)
    if connection.vendor != "postgresql":
        from .models import Reading

        Reading.objects.filter(ts__lt=cutoff).delete()
        return []
    dropped = []
    for name, start in partitions_list():
        if next_month(start) <= cutoff:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(f"DROP TABLE IF EXISTS {name}")
            dropped.append(name)
    return dropped
