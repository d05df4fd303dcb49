"""The generic job pipeline: enqueue after commit, claim, run, record; visibility by plant; leases
(a job whose worker is gone is requeued or failed, and never answers a re-run)."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from celery.schedules import crontab
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from solarhub.jobs.handlers import SELFCHECK
from solarhub.jobs.registry import _HANDLERS, register_job
from solarhub.jobs.services import job_claim, job_enqueue, job_fail, job_run
from solarhub.models import Job, JobStatus
from solarhub.tasks import sweep_job_leases
from solarhub.testing.personas import api_client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def boom_kind():
    @register_job("test.boom")
    def boom(*, job):
        raise ValueError(f"cannot process {job.params['what']}")

    yield "test.boom"
    _HANDLERS.pop("test.boom", None)


def test_selfcheck_answers_202_and_completes(plant_admin, django_capture_on_commit_callbacks):
    client = api_client_for(plant_admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/api/jobs/selfcheck")
    assert response.status_code == 202
    body = response.json()
    assert set(body) == {"id", "status", "statusUrl"}
    assert body["status"] == "queued"
    job = client.get(body["statusUrl"]).json()
    assert job["status"] == "completed", job
    assert job["result"]["cacheOk"] is True
    assert job["result"]["database"]["vendor"] in {"postgresql", "sqlite"}
    assert job["attempts"] == 1 and job["startedAt"] and job["finishedAt"]
    assert job["requestedBy"] == plant_admin.id


def test_the_same_unique_job_is_not_queued_twice_at_once(plant_admin):
    first, created = job_enqueue(kind=SELFCHECK, requested_by=plant_admin, unique_key="same")
    second, created_again = job_enqueue(kind=SELFCHECK, requested_by=plant_admin, unique_key="same")
    assert created and not created_again
    assert first.id == second.id
    assert Job.objects.filter(unique_key="same").count() == 1
    # once it has finished, the same key may run again
    job_run(job_id=first.id)
    third, created_third = job_enqueue(kind=SELFCHECK, requested_by=plant_admin, unique_key="same")
    assert created_third and third.id != first.id


@pytest.mark.django_db(transaction=True)
def test_a_job_enqueued_in_a_rolled_back_transaction_never_runs_or_exists(plant_admin):
    def enqueue_then_fail():
        with transaction.atomic():
            job_enqueue(kind=SELFCHECK, requested_by=plant_admin)
            raise RuntimeError("abort")

    with pytest.raises(RuntimeError):
        enqueue_then_fail()
    assert not Job.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_committed_job_runs_after_commit(plant_admin):
    with transaction.atomic():
        job, _ = job_enqueue(kind=SELFCHECK, requested_by=plant_admin)
        assert Job.objects.get(id=job.id).status == JobStatus.QUEUED  # not run inside the transaction
    assert Job.objects.get(id=job.id).status == JobStatus.COMPLETED


def test_a_failing_handler_fails_the_job_with_its_message(plant_admin, boom_kind):
    job, _ = job_enqueue(kind=boom_kind, requested_by=plant_admin, params={"what": "the moon"})
    job_run(job_id=job.id)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert "cannot process the moon" in job.error
    assert job.finished_at is not None
    # a finished job is never claimed again (a duplicate delivery is a no-op)
    assert job_claim(job_id=job.id) is None


def test_a_running_job_is_reclaimed_after_a_lost_worker(plant_admin):
    job, _ = job_enqueue(kind=SELFCHECK, requested_by=plant_admin)
    assert job_claim(job_id=job.id, owner="message-1") is not None  # worker 1 claims, then dies
    rerun = job_run(job_id=job.id, owner="message-1")  # the same message, redelivered
    assert rerun.status == JobStatus.COMPLETED and rerun.attempts == 2


def test_unknown_kind_is_refused_before_anything_is_stored(plant_admin):
    with pytest.raises(LookupError):
        job_enqueue(kind="no.such.kind", requested_by=plant_admin)
    assert not Job.objects.exists()


@pytest.mark.parametrize(
    ("persona", "sees_own_plant_job", "sees_other_plant_job", "sees_admin_job"),
    [
        ("plant_admin", True, True, True),
        ("customer", True, False, False),
        ("installer", True, False, False),
        ("outsider", False, True, False),
    ],
)
def test_job_visibility_follows_plant_visibility(
    request, persona, sees_own_plant_job, sees_other_plant_job, sees_admin_job, own_plant, other_plant, plant_admin
):
    own_job = Job.objects.create(kind=SELFCHECK, plant=own_plant)
    other_job = Job.objects.create(kind=SELFCHECK, plant=other_plant)
    admin_job = Job.objects.create(kind=SELFCHECK, requested_by=plant_admin)
    user = request.getfixturevalue(persona)
    client = api_client_for(user)

    expected = {
        str(job.id)
        for job, visible in (
            (own_job, sees_own_plant_job),
            (other_job, sees_other_plant_job),
            (admin_job, sees_admin_job),
        )
        if visible
    }
    listed = {item["id"] for item in client.get("/api/jobs").json()}
    assert listed == expected
    for job in (own_job, other_job, admin_job):
        status = client.get(f"/api/jobs/{job.id}").status_code
        assert status == (200 if str(job.id) in expected else 404)


@pytest.mark.parametrize(
    ("persona", "list_status", "selfcheck_status"),
    [
        ("anonymous", 401, 401),
        ("customer", 200, 403),
        ("installer", 200, 403),
        ("outsider", 200, 403),
        ("plant_admin", 200, 202),
    ],
)
def test_jobs_permission_matrix(request, persona, list_status, selfcheck_status):
    user = request.getfixturevalue(persona)
    client = api_client_for(user)
    assert client.get("/api/jobs").status_code == list_status
    before = Job.objects.count()
    assert client.post("/api/jobs/selfcheck").status_code == selfcheck_status
    assert Job.objects.count() == before + (1 if selfcheck_status == 202 else 0)
    assert client.delete("/api/jobs").status_code == (401 if persona == "anonymous" else 405)


# --- leases: a job whose worker is gone -----------------------------------------------------------


def _claimed_then_abandoned(job_id, *, owner="dead-worker", ago=timedelta(minutes=5)) -> Job:
    """A worker claimed the job and died: no heartbeat since ``ago``, its lease long expired."""
    assert job_claim(job_id=job_id, owner=owner) is not None
    past = timezone.now() - ago
    Job.objects.filter(id=job_id).update(
        started_at=past, heartbeat_at=past, lease_expires_at=past + timedelta(seconds=settings.JOB_LEASE_SECONDS)
    )
    return Job.objects.get(id=job_id)


def test_a_claim_takes_a_lease_and_only_its_owner_may_finish(plant_admin):
    job, _ = job_enqueue(kind=SELFCHECK, requested_by=plant_admin)
    claimed = job_claim(job_id=job.id, owner="message-1")
    assert claimed.lease_owner == "message-1"
    assert claimed.lease_expires_at > timezone.now() + timedelta(seconds=settings.JOB_LEASE_SECONDS - 5)
    # another delivery (e.g. the original message after a requeue) leaves a live run alone
    assert job_run(job_id=job.id, owner="message-2") is None
    job_fail(job_id=job.id, error="not yours", owner="message-2")
    job.refresh_from_db()
    assert (job.status, job.lease_owner, job.attempts) == (JobStatus.RUNNING, "message-1", 1)


def test_the_beat_sweep_is_scheduled_every_minute():
    from solarhub.celery import app

    entry = settings.CELERY_BEAT_SCHEDULE["jobs-sweep-expired-leases"]
    assert entry["task"] == "solarhub.sweep_job_leases" and entry["task"] in app.tasks
    assert str(entry["schedule"]) == str(crontab(minute="*"))


def test_a_lost_job_is_requeued_by_the_sweep_and_runs_once_more(plant_admin, django_capture_on_commit_callbacks):
    client = api_client_for(plant_admin)
    accepted = client.post("/api/jobs/selfcheck").json()  # queued; its message goes to a worker that dies
    _claimed_then_abandoned(accepted["id"])
    assert client.get(accepted["statusUrl"]).json()["status"] == "running"  # stuck: nobody runs it

    with django_capture_on_commit_callbacks(execute=True):
        outcome = sweep_job_leases.apply().get()  # what beat runs every minute
    assert outcome == {"requeued": 1, "failed": 0}
    job = client.get(accepted["statusUrl"]).json()
    assert job["status"] == "completed", job  # requeued, taken by a (here: eager) worker, done
    assert job["attempts"] == 2 and job["error"] == "" and job["leaseExpiresAt"] is None
    # nothing left to sweep
    assert sweep_job_leases.apply().get() == {"requeued": 0, "failed": 0}


def test_a_lost_job_out_of_attempts_is_failed_and_a_rerun_gets_a_new_job(plant_admin, settings):
    settings.JOB_MAX_ATTEMPTS = 1
    client = api_client_for(plant_admin)
    accepted = client.post("/api/jobs/selfcheck").json()
    _claimed_then_abandoned(accepted["id"])

    assert sweep_job_leases.apply().get() == {"requeued": 0, "failed": 1}
    job = client.get(accepted["statusUrl"]).json()
    assert job["status"] == "failed" and job["finishedAt"]
    assert job["error"].startswith("Worker lost: no heartbeat since ")
    assert "gave up after 1 attempt(s)" in job["error"]

    again = client.post("/api/jobs/selfcheck")
    assert again.status_code == 202
    assert again.json()["id"] != accepted["id"] and again.json()["status"] == "queued"


def test_a_rerun_never_answers_a_job_whose_lease_expired(plant_admin):
    """Before beat got to it: the same request replaces the dead job instead of returning it."""
    client = api_client_for(plant_admin)
    first = client.post("/api/jobs/selfcheck").json()
    job_claim(job_id=first["id"], owner="live-worker")
    assert client.post("/api/jobs/selfcheck").json()["id"] == first["id"]  # a live run is answered

    _claimed_then_abandoned(first["id"], owner="live-worker")  # ... then its worker died
    second = client.post("/api/jobs/selfcheck").json()
    assert second["id"] != first["id"] and second["status"] == "queued"
    dead = client.get(first["statusUrl"]).json()
    assert dead["status"] == "failed" and "superseded by a new request" in dead["error"]
    assert Job.objects.filter(unique_key=SELFCHECK, status__in=["queued", "running"]).count() == 1


def test_a_job_whose_worker_keeps_dying_fails_after_max_attempts(plant_admin, settings):
    settings.JOB_MAX_ATTEMPTS = 2
    job, _ = job_enqueue(kind=SELFCHECK, requested_by=plant_admin)
    assert job_claim(job_id=job.id, owner="message-1") is not None  # attempt 1: the child dies
    assert job_claim(job_id=job.id, owner="message-1") is not None  # attempt 2 (redelivery): dies too
    assert job_claim(job_id=job.id, owner="message-1") is None  # no third attempt
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and job.attempts == 2
    assert "during attempt 2 of 2; gave up" in job.error


def test_jobs_running_before_leases_existed_are_swept(plant_admin, settings):
    settings.JOB_MAX_ATTEMPTS = 1
    job, _ = job_enqueue(kind=SELFCHECK, requested_by=plant_admin)
    Job.objects.filter(id=job.id).update(
        status=JobStatus.RUNNING, attempts=1, started_at=timezone.now() - timedelta(hours=1)
    )  # lease_expires_at NULL, as the migration leaves such rows
    assert sweep_job_leases.apply().get() == {"requeued": 0, "failed": 1}


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_heartbeat_keeps_a_long_jobs_lease(plant_admin, settings):
    """A job that runs far longer than its lease is never swept while its heartbeat beats."""
    settings.JOB_LEASE_SECONDS = 2
    settings.JOB_HEARTBEAT_SECONDS = 1
    started, release = threading.Event(), threading.Event()

    @register_job("test.long")
    def long_job(*, job):
        started.set()
        assert release.wait(30), "the test never released the job"
        return {"done": True}

    try:
        job = Job.objects.create(kind="test.long", requested_by=plant_admin)  # a worker takes it:
        runner = threading.Thread(target=_run_in_thread, args=(job.id,), daemon=True)
        runner.start()
        assert started.wait(10)
        claimed = Job.objects.get(id=job.id)
        time.sleep(3.5)  # well beyond the 2 s lease
        assert sweep_job_leases.apply().get() == {"requeued": 0, "failed": 0}
        alive = Job.objects.get(id=job.id)
        assert alive.status == JobStatus.RUNNING
        assert alive.lease_expires_at > timezone.now()
        assert alive.heartbeat_at > claimed.heartbeat_at and alive.lease_expires_at > claimed.lease_expires_at
        client = api_client_for(plant_admin)
        assert client.get(f"/api/jobs/{job.id}").json()["heartbeatAt"]
    finally:
        release.set()
        _HANDLERS.pop("test.long", None)
    runner.join(15)
    done = Job.objects.get(id=job.id)
    assert (done.status, done.result, done.attempts) == (JobStatus.COMPLETED, {"done": True}, 1)
    assert done.lease_expires_at is None


def _run_in_thread(job_id) -> None:
    from django.db import connections

    try:
        job_run(job_id=job_id, owner="thread-worker")
    finally:
        connections.close_all()
