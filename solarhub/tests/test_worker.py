"""A real Celery worker process, against real Redis, runs a job to completion.

Everything is a separate process, as in production: gunicorn takes the HTTP request and
enqueues on Redis, the worker takes it from Redis and writes the outcome to the (test) database,
and the test polls the status URL over HTTP.
"""

from __future__ import annotations

import json
import os
import time
import urllib.request
import uuid

import pytest
from django.conf import settings
from rest_framework_simplejwt.tokens import RefreshToken

from solarhub.models import Job, JobStatus
from solarhub.testing.server import gunicorn_server
from solarhub.testing.services import redis_url_for_tests, services_required
from solarhub.testing.worker import celery_worker, worker_log

from .test_health import _current_database_url

pytestmark = [pytest.mark.worker, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def redis_url():
    url = redis_url_for_tests()
    if not url:
        if services_required():
            pytest.fail("Redis is required (SOLARHUB_REQUIRE_SERVICES) but does not answer")
        pytest.skip("no Redis on this machine")
    return url


def _request(method: str, url: str, token: str) -> tuple[int, dict]:
    req = urllib.request.Request(url, method=method, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(req, timeout=15) as response:
        return response.status, json.loads(response.read())


def test_real_worker_runs_a_job_to_completion(plant_admin, redis_url):
    env = {
        "DATABASE_URL": _current_database_url(settings),
        "REDIS_URL": redis_url,
        "CELERY_DEFAULT_QUEUE": f"test-{uuid.uuid4().hex[:10]}",
        "SECRET_KEY": settings.SECRET_KEY,
        "DEBUG": "false",
    }
    token = str(RefreshToken.for_user(plant_admin).access_token)
    with celery_worker(env) as worker, gunicorn_server(env, settings_module="solarhub.settings.local") as base:
        status, accepted = _request("POST", f"{base}/api/jobs/selfcheck", token)
        assert status == 202
        assert accepted["status"] == "queued"
        deadline = time.monotonic() + 60
        while True:
            status, job = _request("GET", f"{base}{accepted['statusUrl']}", token)
            if job["status"] in ("completed", "failed") or time.monotonic() > deadline:
                break
            time.sleep(0.25)
        log = worker_log(worker)

    assert job["status"] == "completed", (job, log)
    # It ran in the worker process, not in the web process or this one.
    assert job["result"]["worker"].split(":")[-1] == str(worker.pid)
    assert job["result"]["worker"].split(":")[-1] != str(os.getpid())
    assert job["result"]["cacheOk"] is True
    assert "solarhub.run_job" in log and "succeeded" in log
    stored = Job.objects.get(id=accepted["id"])
    assert stored.status == JobStatus.COMPLETED and stored.attempts == 1
