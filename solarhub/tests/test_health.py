"""Health endpoints, in-process and in a real server whose dependencies are down. The detailed
view shows its internals to plant_admins and the health token only; everybody else gets the
overall status."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

import pytest
from rest_framework_simplejwt.tokens import RefreshToken

from solarhub.testing.personas import api_client_for
from solarhub.testing.server import free_port, gunicorn_server, http_get
from solarhub.testing.worker import session_database_url

pytestmark = pytest.mark.django_db

HEALTH_TOKEN = "health-token-for-tests-0123456789"


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def test_root_and_basic_probes_need_no_auth(client):
    root = client.get("/").json()
    assert root["service"] == "SolarHub API" and root["docs"] == "/api/docs/"
    assert client.get("/health").json()["status"] == "healthy"
    assert client.get("/health/live").json()["status"] == "alive"
    ready = client.get("/health/ready")
    assert ready.status_code == 200
    assert ready.json()["checks"]["database"]["status"] == "healthy"


def test_detailed_reports_each_dependency_with_latency(plant_admin):
    response = api_client_for(plant_admin).get("/health/detailed")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "healthy", body
    assert set(body["infrastructure"]) == {"database", "cache", "broker", "workers"}
    database = body["infrastructure"]["database"]
    assert database["status"] == "healthy" and database["latencyMs"] >= 0
    # In-process (eager) Celery is reported as such, not as a missing worker.
    assert body["infrastructure"]["workers"]["mode"] == "eager"


@pytest.mark.parametrize("persona", ["anonymous", "customer", "installer", "outsider"])
def test_detailed_tells_others_the_overall_status_only(request, persona):
    response = api_client_for(request.getfixturevalue(persona)).get("/health/detailed")
    assert response.status_code == 200
    assert response.json() == {"status": "healthy", "service": "SolarHub API", "version": "0.1.0"}
    assert b'"status":"healthy"' in response.content  # what .ci/run's smoke test greps for


def test_detailed_with_the_health_token(client, settings):
    settings.HEALTH_TOKEN = HEALTH_TOKEN
    for headers in (
        {"HTTP_X_HEALTH_TOKEN": HEALTH_TOKEN},
        {"HTTP_AUTHORIZATION": f"Bearer {HEALTH_TOKEN}"},
    ):
        body = client.get("/health/detailed", **headers).json()
        assert set(body["infrastructure"]) == {"database", "cache", "broker", "workers"}, headers
    for wrong in (
        {"HTTP_X_HEALTH_TOKEN": HEALTH_TOKEN + "x"},
        {"HTTP_X_HEALTH_TOKEN": ""},
        {"HTTP_AUTHORIZATION": "Bearer not-a-jwt-nor-the-token"},
        {"HTTP_AUTHORIZATION": f"Basic {HEALTH_TOKEN}"},
    ):
        response = client.get("/health/detailed", **wrong)
        assert response.status_code == 200, wrong  # a probe never fails on its credentials
        assert "infrastructure" not in response.json(), wrong
    settings.HEALTH_TOKEN = ""  # unset: no token opens the details
    assert "infrastructure" not in client.get("/health/detailed", HTTP_X_HEALTH_TOKEN="").json()


def test_detailed_for_a_plant_admin_signed_in_to_the_admin(client, plant_admin):
    client.force_login(plant_admin, backend="django.contrib.auth.backends.ModelBackend")
    assert "infrastructure" in client.get("/health/detailed").json()


def test_detailed_for_a_deactivated_plant_admins_token_is_the_summary(client, plant_admin):
    token = str(RefreshToken.for_user(plant_admin).access_token)
    assert "infrastructure" in client.get("/health/detailed", HTTP_AUTHORIZATION=f"Bearer {token}").json()
    plant_admin.is_active = False
    plant_admin.save(update_fields=["is_active"])
    response = client.get("/health/detailed", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200 and "infrastructure" not in response.json()


@pytest.mark.slow
def test_ready_is_503_and_live_200_when_the_database_is_down():
    dead = f"postgres://postgres@127.0.0.1:{free_port()}/solarhub"
    with gunicorn_server({"DATABASE_URL": dead, "HEALTH_TOKEN": HEALTH_TOKEN}) as base:
        status, body = http_get(f"{base}/health/ready")
        assert status == 503
        payload = json.loads(body)
        assert payload["error_code"] == "DATABASE_UNAVAILABLE"
        assert payload["status_code"] == 503
        assert payload["checks"]["database"]["status"] == "unhealthy"
        assert http_get(f"{base}/health/live")[0] == 200
        status, body = http_get(f"{base}/health/detailed")
        assert status == 503
        assert json.loads(body) == {"status": "unhealthy", "service": "SolarHub API", "version": "0.1.0"}
        status, body = _get(f"{base}/health/detailed", {"X-Health-Token": HEALTH_TOKEN})
        assert status == 503
        detailed = json.loads(body)
        assert detailed["status"] == "unhealthy" and detailed["infrastructure"]["database"]["status"] == "unhealthy"
        # a JWT needs the database to find its user: with it down, a token-less admin gets the summary
        status, body = _get(f"{base}/health/detailed", {"Authorization": "Bearer x.y.z"})
        assert status == 503 and "infrastructure" not in json.loads(body)


@pytest.mark.slow
def test_detailed_is_degraded_and_fast_when_redis_and_workers_are_down():
    from django.conf import settings

    db_url = _current_database_url(settings)
    dead_redis = f"redis://127.0.0.1:{free_port()}/0"
    with gunicorn_server(
        {"DATABASE_URL": db_url, "REDIS_URL": dead_redis, "HEALTH_TOKEN": HEALTH_TOKEN},
        settings_module="solarhub.settings.local",
    ) as base:
        started = time.monotonic()
        status, body = _get(f"{base}/health/detailed", {"Authorization": f"Bearer {HEALTH_TOKEN}"})
        elapsed = time.monotonic() - started
        summary = json.loads(http_get(f"{base}/health/detailed")[1])
    assert summary == {"status": "degraded", "service": "SolarHub API", "version": "0.1.0"}
    payload = json.loads(body)
    assert status == 200, payload
    assert payload["status"] == "degraded"
    infra = payload["infrastructure"]
    assert infra["database"]["status"] == "healthy"
    assert infra["cache"]["status"] == "unhealthy" and infra["cache"]["error"]
    assert infra["broker"]["status"] == "unhealthy"
    assert elapsed < 20  # bounded by per-check timeouts, never hangs


@pytest.mark.slow
def test_detailed_sees_a_live_redis_and_reports_missing_workers(redis_url):
    from django.conf import settings

    env = {
        "DATABASE_URL": _current_database_url(settings),
        "REDIS_URL": redis_url,
        "CELERY_DEFAULT_QUEUE": f"health-{free_port()}",
        "HEALTH_TOKEN": HEALTH_TOKEN,
    }
    with gunicorn_server(env, settings_module="solarhub.settings.local") as base:
        _status, body = _get(f"{base}/health/detailed", {"X-Health-Token": HEALTH_TOKEN})
    infra = json.loads(body)["infrastructure"]
    assert infra["cache"]["status"] == "healthy" and infra["cache"]["backend"] == "RedisCache"
    assert infra["broker"]["status"] == "healthy"
    assert infra["database"]["status"] == "healthy"
    assert "status" in infra["workers"]


def _current_database_url(settings) -> str:
    """The URL of the database this test session uses (solarhub.testing.worker.session_database_url)."""
    return session_database_url()


@pytest.mark.slow
def test_api_answers_503_with_retry_after_when_the_database_is_down():
    """Durability: a request during a database outage is a retryable 503, never a 500."""
    import urllib.error
    import urllib.request

    from django.conf import settings
    from rest_framework_simplejwt.tokens import AccessToken

    dead = f"postgres://postgres@127.0.0.1:{free_port()}/solarhub"
    token = AccessToken()
    token["user_id"] = "1"
    with gunicorn_server({"DATABASE_URL": dead, "SECRET_KEY": settings.SECRET_KEY}) as base:
        request = urllib.request.Request(
            f"{base}/api/telemetry/ingest",
            data=b'{"readings": []}',
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
            method="POST",
        )
        with pytest.raises(urllib.error.HTTPError) as failed:
            urllib.request.urlopen(request, timeout=15)
    assert failed.value.code == 503
    assert failed.value.headers["Retry-After"] == "5"
    assert json.loads(failed.value.read())["error_code"] == "DATABASE_UNAVAILABLE"
