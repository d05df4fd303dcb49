"""Find the real services the test suite runs against.

``make test`` promises: DATABASE_URL when set; otherwise PostgreSQL on 127.0.0.1:5432 if it
answers; otherwise SQLite. Redis likewise: REDIS_URL when set, else 127.0.0.1:6379 if it answers.
With ``SOLARHUB_REQUIRE_SERVICES=1`` (CI) a missing PostgreSQL or Redis is an error, never a
silent fallback.
"""

from __future__ import annotations

import os
import socket

LOCAL_POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/solarhub"
LOCAL_REDIS_URL = "redis://127.0.0.1:6379/0"


def services_required() -> bool:
    return os.environ.get("SOLARHUB_REQUIRE_SERVICES", "").strip().lower() in {"1", "true", "yes", "on"}


def postgres_answers(url: str = LOCAL_POSTGRES_URL, timeout: float = 2.0) -> bool:
    try:
        import psycopg
    except ImportError:  # pragma: no cover - psycopg is a pinned dependency
        return False
    conninfo = url.replace("/solarhub", "/postgres", 1) if url == LOCAL_POSTGRES_URL else url
    try:
        with psycopg.connect(conninfo, connect_timeout=max(1, int(timeout))):
            return True
    except Exception:  # noqa: BLE001 -- any failure means "not usable"
        return False


def tcp_answers(host: str, port: int, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def choose_database_url() -> str:
    url = os.environ.get("DATABASE_URL", "").strip()
    if url:
        return url
    if postgres_answers():
        return LOCAL_POSTGRES_URL
    if services_required():
        raise RuntimeError("SOLARHUB_REQUIRE_SERVICES is set but PostgreSQL on 127.0.0.1:5432 does not answer.")
    return "sqlite:///" + os.path.join(os.path.dirname(__file__), "..", "..", ".data", "test.sqlite3")


def redis_url_for_tests() -> str | None:
    """REDIS_URL, else a local Redis if one answers, else None (tests needing it skip, or fail in CI)."""
    url = os.environ.get("REDIS_URL", "").strip()
    if url:
        return url
    if tcp_answers("127.0.0.1", 6379):
        return LOCAL_REDIS_URL
    return None


def cache_clear_own_keys() -> None:
    """Empty the test cache: the whole local-memory cache, or only this run's key prefix in
    Redis (``cache.clear()`` there would FLUSHDB everybody's keys, Celery's queues included)."""
    from django.conf import settings
    from django.core.cache import cache

    config = settings.CACHES["default"]
    if not config["BACKEND"].endswith("RedisCache"):
        cache.clear()
        return
    import redis

    client = redis.Redis.from_url(config["LOCATION"])
    try:
        keys = list(client.scan_iter(match=f"{config['KEY_PREFIX']}:*", count=1000))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


def redis_url_or_skip() -> str:
    """The Redis URL for a test that needs a real broker; skips without one, fails in CI."""
    import pytest

    url = redis_url_for_tests()
    if not url:
        if services_required():
            pytest.fail("Redis is required (SOLARHUB_REQUIRE_SERVICES) but does not answer")
        pytest.skip("no Redis on this machine")
    return url
