"""Hot statements bound on the server (solarhub.db): prepared once per connection on PostgreSQL,
seen by Django's query hooks like any other, and switchable off for PgBouncer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from plants.choices import DeviceType
from plants.models import Device
from plants.selectors import device_visible_to
from solarhub.db import server_cursor
from solarhub.settings import env as envmod
from telemetry.rollups.buckets import zone
from telemetry.rollups.compute import rollups_read_rows

pytestmark = pytest.mark.django_db


@pytest.fixture
def inverter(own_plant):
    return Device.objects.create(plant=own_plant, type=DeviceType.INVERTER, name="Inv 1", serial_number="INV-1")


needs_postgres = pytest.mark.skipif(connection.vendor != "postgresql", reason="prepared statements are PostgreSQL's")


def prepared_statements() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


@needs_postgres
def test_rollup_reads_and_the_device_scope_are_prepared_after_a_few_runs(customer, inverter):
    end = datetime(2026, 6, 2, tzinfo=UTC)
    read = {"device_ids": [inverter.pk], "metric_ids": [1], "resolution": "hour", "tz": zone("UTC")}
    for _ in range(envmod.PREPARE_THRESHOLD + 1):
        rollups_read_rows(start=end - timedelta(days=1), end=end, **read)
        assert device_visible_to(customer, device_id=inverter.pk) is not None
    statements = prepared_statements()
    assert any("FROM telemetry_rollup" in text for text in statements)
    assert any("plants_device" in text for text in statements)


@needs_postgres
def test_orm_queries_stay_unprepared(customer):
    for _ in range(envmod.PREPARE_THRESHOLD + 3):
        assert User.objects.filter(pk=customer.pk).exists()
    assert not any("accounts_user" in text for text in prepared_statements())


@needs_postgres
def test_server_statements_are_seen_by_query_capture():
    with CaptureQueriesContext(connection) as queries, server_cursor(binary=True) as cursor:
        cursor.execute("SELECT %s::int + 1", [41])
        assert cursor.fetchone() == (42,)
    assert len(queries) == 1 and "::int + 1" in queries[0]["sql"]


def test_prepared_statements_are_on_by_default_and_can_be_switched_off(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://u@db.internal:5432/solar")
    monkeypatch.delenv("DATABASE_PREPARED_STATEMENTS", raising=False)
    assert envmod.env_database("DATABASE_URL", "")["OPTIONS"]["prepare_threshold"] == envmod.PREPARE_THRESHOLD
    monkeypatch.setenv("DATABASE_PREPARED_STATEMENTS", "false")
    assert envmod.env_database("DATABASE_URL", "")["OPTIONS"]["prepare_threshold"] is None
