"""The generic job pipeline: enqueue after commit, claim, run, record; visibility by plant."""

from __future__ import annotations

import pytest
from django.db import transaction

from solarhub.jobs.handlers import SELFCHECK
from solarhub.jobs.registry import _HANDLERS, register_job
from solarhub.jobs.services import job_claim, job_enqueue, job_run
from solarhub.models import Job, JobStatus
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
    assert job_claim(job_id=job.id) is not None  # worker 1 claims, then dies
    rerun = job_run(job_id=job.id)  # the redelivered message
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
