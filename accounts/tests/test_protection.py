"""Refresh-token races and brute-force lockouts, on the real database and cache."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request

import pytest
from django.conf import settings
from django.db import connection
from rest_framework.test import APIClient

from accounts.services import user_create
from solarhub.testing.server import gunicorn_server
from solarhub.testing.services import services_required
from solarhub.tests.test_health import _current_database_url


def _login(client=None, username="racer", password="sunny-Panels-42"):
    return (client or APIClient()).post("/api/auth/login", {"username": username, "password": password}, format="json")


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_refreshes_with_one_token_at_most_one_succeeds():
    if connection.vendor != "postgresql":
        pytest.skip("row-level concurrency is a PostgreSQL property; SQLite serialises writers")
    user_create(email="racer@example.com", password="sunny-Panels-42", username="racer")
    refresh = _login().json()["refresh"]
    barrier = threading.Barrier(20)
    statuses: list[int] = []
    lock = threading.Lock()

    def attempt():
        from django.db import connections

        try:
            barrier.wait()
            status = APIClient().post("/api/auth/refresh", {"refresh": refresh}, format="json").status_code
            with lock:
                statuses.append(status)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=attempt) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(statuses) == 20
    assert statuses.count(200) <= 1, statuses
    assert set(statuses) <= {200, 401}, statuses


@pytest.mark.django_db
def test_repeated_failures_for_one_username_lock_it_with_retry_after(settings):
    settings.AUTH_MAX_FAILURES = 3
    user_create(email="racer@example.com", password="sunny-Panels-42", username="racer")
    for _ in range(3):
        assert _login(password="wrong").status_code == 401
    locked = _login()  # even the right password is refused now
    assert locked.status_code == 429
    assert locked.json()["error_code"] == "THROTTLED"
    assert int(locked["Retry-After"]) > 0


@pytest.mark.django_db
def test_repeated_failures_from_one_address_lock_the_address(settings):
    settings.AUTH_MAX_FAILURES = 3
    user_create(email="racer@example.com", password="sunny-Panels-42", username="racer")
    for name in ("a", "b", "c"):
        assert _login(username=name, password="wrong").status_code == 401
    assert _login().status_code == 429
    other_address = APIClient(REMOTE_ADDR="10.9.8.7")
    assert _login(other_address).status_code == 200


@pytest.mark.django_db
def test_a_success_resets_the_username_counter(settings):
    settings.AUTH_MAX_FAILURES = 3
    user_create(email="racer@example.com", password="sunny-Panels-42", username="racer")
    assert _login(password="wrong").status_code == 401
    assert _login(password="wrong").status_code == 401
    assert _login().status_code == 200
    assert _login(APIClient(REMOTE_ADDR="10.1.1.1"), password="wrong").status_code == 401
    assert _login(APIClient(REMOTE_ADDR="10.1.1.2")).status_code == 200


@pytest.mark.django_db(transaction=True)
def test_lockout_is_shared_across_processes_through_redis():
    cache = settings.CACHES["default"]
    if not cache["BACKEND"].endswith("RedisCache"):
        if services_required():
            pytest.fail("Redis is required (SOLARHUB_REQUIRE_SERVICES) but the test cache is not Redis")
        pytest.skip("no Redis: the cache is process-local")
    user_create(email="racer@example.com", password="sunny-Panels-42", username="racer")
    for _ in range(settings.AUTH_MAX_FAILURES):
        assert _login(password="wrong").status_code == 401  # failures recorded by this process

    env = {
        "DATABASE_URL": _current_database_url(settings),
        "REDIS_URL": cache["LOCATION"],
        "CACHE_KEY_PREFIX": cache["KEY_PREFIX"],
        "SECRET_KEY": settings.SECRET_KEY,
    }
    body = json.dumps({"username": "racer", "password": "sunny-Panels-42"}).encode()
    with gunicorn_server(env, settings_module="solarhub.settings.local") as base:
        request = urllib.request.Request(
            f"{base}/api/auth/login", data=body, headers={"Content-Type": "application/json"}, method="POST"
        )
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=15)
    assert refused.value.code == 429
    assert int(refused.value.headers["Retry-After"]) > 0
    assert json.loads(refused.value.read())["error_code"] == "THROTTLED"
