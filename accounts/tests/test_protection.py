"""Refresh-token races, the refresh reuse interval and brute-force lockouts, on the real database
and cache."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest
from django.conf import settings
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from accounts.services import user_create
from solarhub.testing.server import gunicorn_server
from solarhub.testing.services import services_required
from solarhub.tests.test_health import _current_database_url


def _login(client=None, username="racer", password="sunny-Panels-42"):
    return (client or APIClient()).post("/api/auth/login", {"username": username, "password": password}, format="json")


def _concurrently(count: int, call: Callable[[], Any]) -> list[Any]:
    """Run ``call`` in ``count`` real threads released at once by a barrier; their results."""
    from django.db import connections

    barrier = threading.Barrier(count)
    results: list[Any] = []
    lock = threading.Lock()

    def attempt():
        try:
            barrier.wait()
            result = call()
            with lock:
                results.append(result)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=attempt) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(results) == count, results
    return results


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_refreshes_with_one_token_exactly_one_rotates(settings):
    settings.JWT_REFRESH_REUSE_SECONDS = 0
    user_create(email="racer@example.com", password="sunny-Panels-42", username="racer")
    refresh = _login().json()["refresh"]
    statuses = _concurrently(
        20, lambda: APIClient().post("/api/auth/refresh", {"refresh": refresh}, format="json").status_code
    )
    assert statuses.count(200) == 1, statuses
    assert set(statuses) == {200, 401}, statuses


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_refreshes_within_the_reuse_interval_all_get_one_pair(settings):
    settings.JWT_REFRESH_REUSE_SECONDS = 30
    user_create(email="racer@example.com", password="sunny-Panels-42", username="racer")
    refresh = _login().json()["refresh"]

    def attempt():
        response = APIClient().post("/api/auth/refresh", {"refresh": refresh}, format="json")
        return response.status_code, response.json()

    results = _concurrently(20, attempt)
    assert [status for status, _ in results] == [200] * 20, results
    pairs = {(body["token"], body["refresh"]) for _, body in results}
    assert len(pairs) == 1, "every tab gets the one pair the rotation issued"
    (_, new_refresh), *_ = pairs
    assert OutstandingToken.objects.count() == 2, "one rotation: the login's token and its successor"
    assert _refresh(new_refresh).status_code == 200


# --- the issue's sequence, through a real threaded HTTP server ----------------------------------

_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _http_post(url: str, body: dict) -> tuple[int, Any, dict]:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    try:
        with _NO_PROXY.open(request, timeout=60) as response:
            return response.status, json.loads(response.read()), dict(response.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null"), dict(exc.headers)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("reuse_seconds", [15, 0], ids=["reuse-interval", "no-reuse-interval"])
def test_issue_13_a_refresh_race_does_not_lock_the_user_out(live_server, settings, reuse_seconds):
    """One mistyped password, one sign-in with the wrong userType, then ten tabs refreshing with
    one token (itself the product of a rotation) at once: the next correct sign-in succeeds."""
    settings.AUTH_MAX_FAILURES = 5
    settings.JWT_REFRESH_REUSE_SECONDS = reuse_seconds
    user_create(email="racer@example.com", password="sunny-Panels-42", username="racer")
    login, refresh_url = f"{live_server.url}/api/auth/login", f"{live_server.url}/api/auth/refresh"
    good = {"username": "racer", "password": "sunny-Panels-42", "userType": "customer"}

    status, first, _ = _http_post(login, good)
    assert status == 200, first
    status, rotated, _ = _http_post(refresh_url, {"refresh": first["refresh"]})
    assert status == 200, rotated
    assert _http_post(login, {**good, "password": "sunny-Panels-24"})[0] == 401
    assert _http_post(login, {**good, "userType": "installer"})[0] == 401

    results = _concurrently(10, lambda: _http_post(refresh_url, {"refresh": rotated["refresh"]}))
    statuses = sorted(status for status, _, _ in results)
    winners = [body for status, body, _ in results if status == 200]
    if reuse_seconds:
        assert statuses == [200] * 10, results
        assert len({(body["token"], body["refresh"]) for body in winners}) == 1, "one pair for every tab"
        assert set(winners[0]) == {"token", "refresh", "expiresIn"}
    else:
        assert statuses == [200] + [401] * 9, results
        assert {body["error_code"] for status, body, _ in results if status == 401} == {"TOKEN_INVALID"}
    assert _http_post(refresh_url, {"refresh": winners[0]["refresh"]})[0] == 200, "the family lives on"
    # The login's token was rotated moments ago, but what it was rotated into is spent now.
    assert _http_post(refresh_url, {"refresh": first["refresh"]})[0] == 401

    status, body, _ = _http_post(login, good)
    assert status == 200, body


# --- lockouts: by (username, address), by address, and what counts -------------------------------


def _client(address: str = "127.0.0.1", **extra) -> APIClient:
    return APIClient(REMOTE_ADDR=address, **extra)


def _refresh(token: str, client=None):
    return (client or APIClient()).post("/api/auth/refresh", {"refresh": token}, format="json")


@pytest.fixture
def two_users(db):
    user_create(email="alice@example.com", password="sunny-Panels-42", username="alice")
    user_create(email="bob@example.com", password="sunny-Panels-42", username="bob")


@pytest.mark.django_db
def test_wrong_passwords_lock_that_user_from_that_address_only(settings, two_users):
    settings.AUTH_MAX_FAILURES = 5
    office = "203.0.113.10"
    for _ in range(5):
        assert _login(_client(office), username="alice", password="wrong").status_code == 401
    locked = _login(_client(office), username="alice")  # even the right password, as typed any case
    assert locked.status_code == 429
    body = locked.json()
    assert (body["status_code"], body["error_code"]) == (429, "THROTTLED")
    assert body["detail"].startswith("Too many failed attempts; try again later.")
    assert 0 < int(locked["Retry-After"]) <= 15 * 60
    assert _login(_client(office), username=" ALICE ").status_code == 429
    assert _login(_client("198.51.100.7"), username="alice").status_code == 200, "alice from her phone"
    assert _login(_client(office), username="bob").status_code == 200, "bob behind the same NAT"


@pytest.mark.django_db
def test_the_oauth2_flows_share_the_lockout(settings, two_users):
    settings.AUTH_MAX_FAILURES = 3
    for _ in range(3):
        assert _client().post("/api/auth/token", {"username": "alice", "password": "wrong"}).status_code == 401
    assert _login(username="alice").status_code == 429
    assert _client().post("/api/auth/token", {"username": "alice", "password": "sunny-Panels-42"}).status_code == 429


@pytest.mark.django_db
def test_an_address_guessing_many_usernames_is_locked(settings, two_users):
    settings.AUTH_MAX_FAILURES = 5
    settings.AUTH_MAX_FAILURES_PER_ADDRESS = 8
    sprayer = "192.0.2.66"
    for index in range(8):  # one guess per name never reaches the per-user threshold
        assert _login(_client(sprayer), username=f"user{index}", password="Summer2026!").status_code == 401
    refused = _login(_client(sprayer), username="alice")
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert _login(_client(sprayer), username="someone-new", password="x").status_code == 429
    assert _login(_client("192.0.2.67"), username="alice").status_code == 200


@pytest.mark.django_db
def test_a_success_does_not_clear_the_address_counter(settings, two_users):
    settings.AUTH_MAX_FAILURES = 5
    settings.AUTH_MAX_FAILURES_PER_ADDRESS = 4
    for name in ("x1", "x2", "x3"):
        assert _login(username=name, password="wrong").status_code == 401
    assert _login(username="alice").status_code == 200  # an attacker's own valid account
    assert _login(username="x4", password="wrong").status_code == 401
    assert _login(username="bob").status_code == 429


@pytest.mark.django_db
def test_a_correct_password_clears_that_users_counter_from_that_address(settings, two_users):
    settings.AUTH_MAX_FAILURES = 3
    assert _login(username="alice", password="wrong").status_code == 401
    assert _login(username="alice", password="wrong").status_code == 401
    assert _login(username="alice").status_code == 200
    assert _login(username="alice", password="wrong").status_code == 401
    assert _login(username="alice", password="wrong").status_code == 401
    assert _login(username="alice").status_code == 200, "two failures since the success: not locked"


@pytest.mark.django_db
def test_a_wrong_user_type_counts_like_a_wrong_password(settings, two_users):
    """Even with the right password: otherwise the lockout would tell which guesses were right."""
    settings.AUTH_MAX_FAILURES = 3
    body = {"username": "alice", "password": "sunny-Panels-42", "userType": "installer"}
    for _ in range(3):
        response = _client().post("/api/auth/login", body, format="json")
        assert response.status_code == 401 and response.json()["error_code"] == "INVALID_CREDENTIALS"
    assert _login(username="alice").status_code == 429


@pytest.mark.django_db
def test_a_spoofed_forwarded_for_does_not_escape_the_lockout(settings, two_users):
    """NUM_PROXIES is 0 unless configured: the address is REMOTE_ADDR, whatever the client says."""
    settings.AUTH_MAX_FAILURES = 3
    for index in range(3):
        client = _client(HTTP_X_FORWARDED_FOR=f"10.0.0.{index}")
        assert _login(client, username="alice", password="wrong").status_code == 401
    assert _login(_client(HTTP_X_FORWARDED_FOR="10.0.0.99"), username="alice").status_code == 429


@pytest.mark.django_db
def test_behind_one_proxy_the_forwarded_client_address_is_used(settings, two_users):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    settings.AUTH_MAX_FAILURES = 3
    proxy = "10.0.0.2"
    for index in range(3):  # the client sends a made-up address; the proxy appends the real one
        client = _client(proxy, HTTP_X_FORWARDED_FOR=f"1.2.3.{index}, 203.0.113.10")
        assert _login(client, username="alice", password="wrong").status_code == 401
    assert _login(_client(proxy, HTTP_X_FORWARDED_FOR="203.0.113.10"), username="alice").status_code == 429
    assert _login(_client(proxy, HTTP_X_FORWARDED_FOR="203.0.113.11"), username="alice").status_code == 200


@pytest.mark.django_db
def test_refused_refresh_tokens_never_count_towards_the_lockout(settings, two_users):
    settings.AUTH_MAX_FAILURES = 2
    settings.AUTH_MAX_FAILURES_PER_ADDRESS = 2
    settings.JWT_REFRESH_REUSE_SECONDS = 0
    spent = _login(username="alice").json()["refresh"]
    assert _refresh(spent).status_code == 200
    for token in [spent] * 5 + ["garbage", "a.b.c"]:
        assert _refresh(token).status_code in (400, 401)
    assert _login(username="alice").status_code == 200
    assert _login(username="bob").status_code == 200


@pytest.mark.django_db
def test_a_locked_address_still_refreshes(settings, two_users):
    settings.AUTH_MAX_FAILURES_PER_ADDRESS = 2
    refresh = _login(username="alice").json()["refresh"]
    for name in ("x1", "x2"):
        assert _login(username=name, password="wrong").status_code == 401
    assert _login(username="alice").status_code == 429
    assert _refresh(refresh).status_code == 200, "refreshing is not signing in with a password"


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


@pytest.mark.django_db
def test_guesses_by_username_and_by_e_mail_add_up_for_one_account(settings, two_users):
    """Issue 15: 5 by username plus 5 by e-mail were 10 guesses; the counter is the account's."""
    settings.AUTH_MAX_FAILURES = 4
    office = "203.0.113.20"
    for username in ("alice", "ALICE@example.com", " Alice ", "alice@EXAMPLE.com"):
        assert _login(_client(office), username=username, password="wrong").status_code == 401
    for username in ("alice", "alice@example.com"):
        assert _login(_client(office), username=username).status_code == 429, username
    by_email_field = _client(office).post(
        "/api/auth/login", {"email": "alice@example.com", "password": "sunny-Panels-42"}, format="json"
    )
    assert by_email_field.status_code == 429
    assert _login(_client(office), username="bob").status_code == 200


@pytest.mark.django_db
def test_probing_unknown_names_is_throttled_per_typed_name(settings, two_users):
    settings.AUTH_MAX_FAILURES = 3
    office = "203.0.113.30"
    for _ in range(3):
        assert _login(_client(office), username="nobody", password="x").status_code == 401
    assert _login(_client(office), username="nobody", password="x").status_code == 429
    assert _login(_client(office), username="alice").status_code == 200


@pytest.mark.django_db
def test_a_rotated_forwarded_for_does_not_escape_the_auth_rate(two_users):
    """With the default NUM_PROXIES=0 the address is REMOTE_ADDR: a fresh X-Forwarded-For per
    request (70 refreshes in 10 s went unthrottled) does not make a fresh client."""
    from accounts.throttling import AuthRateThrottle

    rate = AuthRateThrottle().num_requests
    statuses = [
        _refresh("not-a-token", _client("203.0.113.40", HTTP_X_FORWARDED_FOR=f"10.0.{i // 250}.{i % 250}")).status_code
        for i in range(rate + 1)
    ]
    assert statuses[:rate] == [401] * rate and statuses[-1] == 429
