"""Suite-wide fixtures: personas, API clients, and a header saying which services are used."""

from __future__ import annotations

import pytest

from solarhub.testing.personas import *  # noqa: F403 -- persona fixtures
from solarhub.testing.services import redis_url_for_tests


def pytest_report_header(config):
    from django.conf import settings

    db = settings.DATABASES["default"]
    where = db["NAME"] if db["ENGINE"].endswith("sqlite3") else f"{db.get('HOST')}:{db.get('PORT')}/{db['NAME']}"
    vendor = "SQLite" if db["ENGINE"].endswith("sqlite3") else "PostgreSQL"
    redis = redis_url_for_tests() or "not available (worker tests skip)"
    return [f"SolarHub test database: {vendor} ({where})", f"SolarHub test Redis: {redis}"]


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Each test starts with an empty cache (throttle counters, login attempts)."""
    from solarhub.testing.services import cache_clear_own_keys

    cache_clear_own_keys()
