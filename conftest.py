"""Suite-wide fixtures: personas, API clients, and a header saying which services are used."""

from __future__ import annotations

import pytest

from solarhub.testing.personas import *  # noqa: F403 -- persona fixtures
from solarhub.testing.services import redis_url_for_tests, redis_url_or_skip


def pytest_report_header(config):
    from django.conf import settings

    db = settings.DATABASES["default"]
    where = db["NAME"] if db["ENGINE"].endswith("sqlite3") else f"{db.get('HOST')}:{db.get('PORT')}/{db['NAME']}"
    vendor = "SQLite" if db["ENGINE"].endswith("sqlite3") else "PostgreSQL"
    redis = redis_url_for_tests() or "not available (worker tests skip)"
    return [f"SolarHub test database: {vendor} ({where})", f"SolarHub test Redis: {redis}"]


@pytest.fixture
def redis_url() -> str:
    """A real Redis for tests that need a broker (skips without one; fails in CI)."""
    return redis_url_or_skip()


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Each test starts with an empty cache (throttle counters, login attempts)."""
    from solarhub.testing.services import cache_clear_own_keys

    cache_clear_own_keys()


@pytest.fixture(autouse=True)
def _telemetry_tables(request):
    """Transactional tests end with a flush that empties every managed table, the seeded
    metric catalog included, and never touch the unmanaged (partitioned) readings table.
    Re-seed the catalog when it is missing and clear readings after transactional tests."""
    marker = request.node.get_closest_marker("django_db")
    transactional = bool(marker and (marker.kwargs.get("transaction") or (marker.args and marker.args[0])))
    uses_db = marker is not None or {"db", "transactional_db"} & set(request.fixturenames)
    if not uses_db:
        yield
        return
    request.getfixturevalue("transactional_db" if transactional else "db")
    from telemetry.catalog import catalog_seed
    from telemetry.models import Metric, Reading

    catalog_seed(Metric)
    from telemetry import ingest

    if transactional or ingest._catalog is None or "ac_power" not in ingest._catalog:
        ingest.metric_catalog(refresh=True)
    elif ingest._catalog["ac_power"].id != Metric.objects.only("id").get(key="ac_power").id:
        ingest.metric_catalog(refresh=True)  # re-seeded by another test: ids changed
    yield
    if transactional:
        Reading.objects.all().delete()
