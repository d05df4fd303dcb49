"""A real Celery worker process, against real Redis, runs a job to completion; a job whose whole
worker was SIGKILLed is requeued by the lease sweep and done by another worker.

Everything is a separate process, as in production: gunicorn takes the HTTP request and
enqueues on Redis, the worker takes it from Redis and writes the outcome to the (test) database,
and the test polls the status URL over HTTP.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
import urllib.request
import uuid

import pytest
from django.db.models import F
from django.utils import timezone
from rest_framework_simplejwt.tokens import RefreshToken

from solarhub.models import Job, JobStatus
from solarhub.testing.server import gunicorn_server
from solarhub.testing.worker import celery_worker, worker_env, worker_log

pytestmark = [pytest.mark.worker, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _request(method: str, url: str, token: str) -> tuple[int, dict]:
    req = urllib.request.Request(url, method=method, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(req, timeout=15) as response:
        return response.status, json.loads(response.read())


def test_real_worker_runs_a_job_to_completion(plant_admin, redis_url):
    env = worker_env(redis_url)
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


# --- the whole worker dies mid-job ----------------------------------------------------------------


def _prefork_worker(env: dict[str, str]):
    """A production-shaped worker (prefork pool, one child) in its own process group, knowing
    the test job kinds."""
    return celery_worker(env, pool="prefork", include=["solarhub.tests.worker_jobs"])


def _wait_for(predicate, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {seconds:.0f} s waiting for {what}")
        time.sleep(0.2)


def _forget_orphaned_messages(redis_url: str, queue: str) -> None:
    """The killed worker's message stays unacknowledged in Redis (kombu's ``unacked`` hash) and
    would be restored to the test queue after the visibility timeout: drop it."""
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        for tag, raw in client.hgetall("unacked").items():
            with contextlib.suppress(ValueError, TypeError, IndexError):
                if json.loads(raw)[2] == queue:
                    client.hdel("unacked", tag)
                    client.zrem("unacked_index", tag)
        client.delete(queue)
    finally:
        client.close()


def test_a_job_whose_whole_worker_was_killed_is_requeued_and_done_elsewhere(plant_admin, redis_url):
    from celery import Celery

    from solarhub.tests.worker_jobs import SLEEP

    queue = f"test-{uuid.uuid4().hex[:10]}"
    env = worker_env(
        redis_url, CELERY_DEFAULT_QUEUE=queue, JOB_LEASE_SECONDS="3", JOB_HEARTBEAT_SECONDS="1", JOB_MAX_ATTEMPTS="2"
    )
    producer = Celery("test-producer", broker=redis_url, set_as_current=False)
    job = Job.objects.create(kind=SLEEP, requested_by=plant_admin, params={"seconds": 600})
    try:
        with _prefork_worker(env) as first:
            producer.send_task("solarhub.run_job", args=[str(job.id)], queue=queue)
            running = _wait_for(
                lambda: Job.objects.filter(
                    id=job.id, status=JobStatus.RUNNING, heartbeat_at__gt=F("started_at")
                ).first(),
                30,
                "the job to run and beat at least once",
            )
            assert running.attempts == 1
            os.killpg(first.pid, signal.SIGKILL)  # the parent and its pool child, at once
            first.wait(timeout=15)
            first_log = worker_log(first)
        killed_at = time.monotonic()

        # Nothing runs it now: the broker would redeliver only after its visibility timeout.
        stuck = _wait_for(
            lambda: (j := Job.objects.get(id=job.id)).lease_expires_at < timezone.now() and j, 10, "the lease to expire"
        )
        assert stuck.status == JobStatus.RUNNING and stuck.attempts == 1

        with _prefork_worker(env) as second:
            producer.send_task("solarhub.sweep_job_leases", queue=queue)  # what beat sends every minute
            done = _wait_for(
                lambda: Job.objects.filter(id=job.id, status__in=[JobStatus.COMPLETED, JobStatus.FAILED]).first(),
                60,
                "the requeued job to finish",
            )
            second_log = worker_log(second)
        assert done.status == JobStatus.COMPLETED, (done.error, first_log, second_log)
        assert done.attempts == 2 and done.result["attempt"] == 2
        assert done.lease_expires_at is None
        assert "requeued" in second_log
        assert time.monotonic() - killed_at < 60  # minutes at most with beat's one-minute tick, not 40
    finally:
        producer.close()
        _forget_orphaned_messages(redis_url, queue)
