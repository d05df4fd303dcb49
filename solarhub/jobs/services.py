"""Enqueue and run jobs. Views, admin actions, commands and tasks all call these."""

from __future__ import annotations

import logging
from typing import Any

from django.db import IntegrityError, InterfaceError, OperationalError, transaction
from django.db.models import F
from django.utils import timezone

from solarhub.models import ACTIVE_JOB_STATUSES, Job, JobStatus

from .registry import job_handler_for

logger = logging.getLogger("solarhub.jobs")

TRANSIENT_ERRORS = (OperationalError, InterfaceError)


def job_enqueue(
    *,
    kind: str,
    requested_by=None,
    plant=None,
    params: dict[str, Any] | None = None,
    unique_key: str | None = None,
) -> tuple[Job, bool]:
    """Create a queued job and send it to the workers once the surrounding transaction commits
    (a job created in a rolled-back transaction never runs). With ``unique_key``, an active job
    with the same key is returned instead of a second one: ``(job, created)``."""
    job_handler_for(kind)  # fail fast on an unknown kind
    for attempt in range(2):
        try:
            with transaction.atomic():
                job = Job.objects.create(
                    kind=kind, requested_by=requested_by, plant=plant, params=params or {}, unique_key=unique_key
                )
            break
        except IntegrityError:
            if unique_key is None:
                raise
            existing = Job.objects.filter(unique_key=unique_key, status__in=ACTIVE_JOB_STATUSES).first()
            if existing is not None:
                return existing, False
            if attempt:  # the active twin finished between our insert and this read, twice: give up
                raise

    from solarhub.tasks import run_job

    job_id = str(job.id)
    transaction.on_commit(lambda: run_job.delay(job_id))
    return job, True


def job_claim(*, job_id) -> Job | None:
    """Claim a job for this worker with one conditional UPDATE. A job still ``running`` is
    claimable again: that is a redelivery after a worker died mid-job (acks_late), and the job is
    redone. Finished or missing jobs are not."""
    claimed = Job.objects.filter(id=job_id, status__in=ACTIVE_JOB_STATUSES).update(
        status=JobStatus.RUNNING, started_at=timezone.now(), attempts=F("attempts") + 1, error=""
    )
    if not claimed:
        return None
    return Job.objects.select_related("plant", "requested_by").get(id=job_id)


def job_run(*, job_id) -> Job | None:
    """Run a claimed job's handler and record the outcome. Transient database errors propagate so
    the Celery task retries with backoff; any other error fails the job with its message."""
    job = job_claim(job_id=job_id)
    if job is None:
        logger.info("Job %s is finished or missing; nothing to do", job_id)
        return None
    try:
        handler = job_handler_for(job.kind)
        result = handler(job=job)
    except TRANSIENT_ERRORS:
        raise
    except Exception as exc:
        logger.exception("Job %s (%s) failed", job.id, job.kind)
        job_fail(job_id=job.id, error=f"{type(exc).__name__}: {exc}")
        job.refresh_from_db()
        return job
    Job.objects.filter(id=job.id, status=JobStatus.RUNNING).update(
        status=JobStatus.COMPLETED, result=result, finished_at=timezone.now()
    )
    job.refresh_from_db()
    return job


def job_fail(*, job_id, error: str) -> None:
    Job.objects.filter(id=job_id, status__in=ACTIVE_JOB_STATUSES).update(
        status=JobStatus.FAILED, error=error[:4000], finished_at=timezone.now()
    )
