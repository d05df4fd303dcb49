"""Enqueue and run jobs. Views, admin actions, commands and tasks all call these.

Leases
------
A claimed job holds a lease on its row: ``lease_owner`` is the delivery that claimed it (the
Celery task id; a redelivery of the same message after its worker died carries the same id),
``lease_expires_at`` is renewed every ``JOB_HEARTBEAT_SECONDS`` by a daemon thread of the run
(:class:`_Heartbeat`) for as long as the handler runs — a pvlib year needs no progress hooks.
A worker that dies stops renewing; once ``JOB_LEASE_SECONDS`` passed, the job is *lost*:

* beat's :func:`job_leases_sweep` (every minute) requeues it — a new message — while it has had
  fewer than ``JOB_MAX_ATTEMPTS`` attempts, and fails it with the reason otherwise;
* :func:`job_enqueue`'s "same request answers the active job" guard fails it as superseded and
  creates a new job instead of answering the dead one;
* :func:`job_claim` lets a delivery take it over (as it does a redelivery of the claiming
  message), again only below ``JOB_MAX_ATTEMPTS``.

Every write of an outcome is conditional on ``lease_owner``: a run that lost its lease (its
worker was presumed dead and the job went to another) cannot overwrite the newer run's outcome.
"""

from __future__ import annotations

import logging
import threading
import uuid
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, InterfaceError, OperationalError, connection, connections, transaction
from django.db.models import F, Q
from django.utils import timezone

from solarhub.models import ACTIVE_JOB_STATUSES, Job, JobStatus

from .registry import job_handler_for

logger = logging.getLogger("solarhub.jobs")

TRANSIENT_ERRORS = (OperationalError, InterfaceError)
SWEEP_BATCH = 500


def _lease() -> timedelta:
    return timedelta(seconds=settings.JOB_LEASE_SECONDS)


def _lost(now: datetime) -> Q:
    """Running jobs whose worker is gone: the lease expired, or there is none — nobody holds
    the job (every claim takes a lease with the status; rows running from before leases existed
    have none, and no heartbeat keeps them either)."""
    return Q(status=JobStatus.RUNNING) & (Q(lease_expires_at__lt=now) | Q(lease_expires_at__isnull=True))


def job_lease_expired(job: Job, *, now: datetime | None = None) -> bool:
    if job.status != JobStatus.RUNNING:
        return False
    return job.lease_expires_at is None or job.lease_expires_at < (now or timezone.now())


def _iso(value: datetime | None) -> str:
    return value.isoformat().replace("+00:00", "Z") if value else "never"


def _lost_reason(job: Job) -> str:
    last = job.heartbeat_at or job.started_at
    lease = f"lease expired at {_iso(job.lease_expires_at)}" if job.lease_expires_at else "no lease"
    return f"Worker lost: no heartbeat since {_iso(last)} ({lease})"


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
    with the same key is returned instead of a second one: ``(job, created)`` — unless its lease
    expired (its worker is gone): that job is failed as superseded and a new one created."""
    job_handler_for(kind)  # fail fast on an unknown kind
    for attempt in range(3):
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
            if existing is not None and not job_lease_expired(existing):
                return existing, False
            if existing is not None:  # its worker is gone: never answer a dead job, replace it
                _fail_lost(existing, reason=f"{_lost_reason(existing)}; superseded by a new request.")
            elif attempt:  # the active twin finished between our insert and this read, twice: give up
                raise
    else:
        raise IntegrityError(f"Could not enqueue job {unique_key!r}: its active twin keeps coming back.")

    from solarhub.tasks import run_job

    job_id = str(job.id)
    transaction.on_commit(lambda: run_job.delay(job_id))
    return job, True


def _fail_lost(job: Job, *, reason: str) -> bool:
    """Fail one lost job (conditionally: a heartbeat that just renewed its lease wins)."""
    now = timezone.now()
    failed = Job.objects.filter(Q(id=job.id) & _lost(now)).update(
        status=JobStatus.FAILED, error=reason[:4000], finished_at=now, lease_expires_at=None
    )
    if failed:
        logger.warning("Job %s (%s) failed: %s", job.id, job.kind, reason)
    return bool(failed)


def job_claim(*, job_id, owner: str | None = None) -> Job | None:
    """Claim a job for the delivery ``owner`` (the Celery task id) with one conditional UPDATE
    and take its lease. Claimable: a queued job; a running one whose lease expired (its worker
    is gone); a running one held by ``owner`` itself — the same message redelivered because the
    worker running it died (acks_late + reject on worker lost). The latter two only while the job
    has had fewer than ``JOB_MAX_ATTEMPTS`` attempts; beyond, the lost job is failed. Finished or
    missing jobs, and jobs another live run holds, are not claimed (``None``)."""
    owner = owner or uuid.uuid4().hex
    now = timezone.now()
    held_or_lost = _lost(now) | Q(status=JobStatus.RUNNING, lease_owner=owner)
    claimable = Q(status=JobStatus.QUEUED) | (held_or_lost & Q(attempts__lt=settings.JOB_MAX_ATTEMPTS))
    claimed = Job.objects.filter(Q(id=job_id) & claimable).update(
        status=JobStatus.RUNNING,
        started_at=now,
        attempts=F("attempts") + 1,
        error="",
        lease_owner=owner,
        lease_expires_at=now + _lease(),
        heartbeat_at=now,
    )
    if not claimed:
        spent = Job.objects.filter(Q(id=job_id) & held_or_lost).first()
        if spent is not None:  # a lost run out of attempts (claimable otherwise)
            lost = (
                "The worker running it died (its message was redelivered)"
                if spent.lease_owner == owner
                else _lost_reason(spent)
            )
            Job.objects.filter(Q(id=job_id) & held_or_lost).update(
                status=JobStatus.FAILED,
                error=f"{lost} during attempt {spent.attempts} of {settings.JOB_MAX_ATTEMPTS}; gave up.",
                finished_at=now,
                lease_expires_at=None,
            )
            logger.warning("Job %s (%s) lost its worker %s times; failed", spent.id, spent.kind, spent.attempts)
        return None
    return Job.objects.select_related("plant", "requested_by").get(id=job_id)


class _Heartbeat(threading.Thread):
    """Renews a running job's lease every ``interval`` seconds from its own database connection
    until stopped. Stops by itself when the lease is gone (the job was failed, requeued or
    finished elsewhere): the run's outcome will then be discarded by the owner check."""

    def __init__(self, *, job_id, owner: str, interval: float, lease: timedelta) -> None:
        super().__init__(name=f"job-heartbeat-{job_id}", daemon=True)
        self.job_id, self.owner, self.interval, self.lease = job_id, owner, interval, lease
        self.beats = 0
        self.lost = False
        self._stopped = threading.Event()

    def run(self) -> None:
        try:
            while not self._stopped.wait(self.interval):
                try:
                    now = timezone.now()
                    renewed = Job.objects.filter(
                        id=self.job_id, status=JobStatus.RUNNING, lease_owner=self.owner
                    ).update(lease_expires_at=now + self.lease, heartbeat_at=now)
                except Exception:  # noqa: BLE001 -- a missed beat is retried; the lease has slack
                    logger.warning("Heartbeat of job %s failed; retrying", self.job_id, exc_info=True)
                    connection.close()
                    continue
                if not renewed:
                    self.lost = True
                    logger.warning("Job %s lost its lease (requeued or failed elsewhere)", self.job_id)
                    return
                self.beats += 1
        finally:
            connections.close_all()  # this thread's connections only

    def stop(self) -> None:
        self._stopped.set()
        self.join(timeout=10)


def _heartbeat_start(job: Job, owner: str) -> _Heartbeat | None:
    # Inside a transaction (tests, a caller's atomic block) the claim is not visible to other
    # connections, and renewing it from one would wait on our own row lock: no heartbeat.
    if connection.in_atomic_block:
        return None
    heartbeat = _Heartbeat(job_id=job.id, owner=owner, interval=float(settings.JOB_HEARTBEAT_SECONDS), lease=_lease())
    heartbeat.start()
    return heartbeat


def job_run(*, job_id, owner: str | None = None) -> Job | None:
    """Claim a job, run its handler under a renewed lease and record the outcome. Transient
    database errors propagate so the Celery task retries with backoff (the retry carries the same
    task id, so it reclaims its own job); any other error fails the job with its message."""
    owner = owner or uuid.uuid4().hex
    job = job_claim(job_id=job_id, owner=owner)
    if job is None:
        logger.info("Job %s is finished, missing or held by a live run; nothing to do", job_id)
        return None
    heartbeat = _heartbeat_start(job, owner)
    try:
        handler = job_handler_for(job.kind)
        result = handler(job=job)
    except TRANSIENT_ERRORS:
        raise
    except Exception as exc:
        logger.exception("Job %s (%s) failed", job.id, job.kind)
        job_fail(job_id=job.id, error=f"{type(exc).__name__}: {exc}", owner=owner)
        job.refresh_from_db()
        return job
    finally:
        if heartbeat is not None:
            heartbeat.stop()
    completed = Job.objects.filter(id=job.id, status=JobStatus.RUNNING, lease_owner=owner).update(
        status=JobStatus.COMPLETED, result=result, finished_at=timezone.now(), lease_expires_at=None
    )
    if not completed:
        logger.warning("Job %s finished after losing its lease; this run's result is discarded", job.id)
    job.refresh_from_db()
    return job


def job_fail(*, job_id, error: str, owner: str | None = None) -> None:
    """Fail a queued job, or a running one — with ``owner``, only while that delivery holds it."""
    active = Q(status__in=ACTIVE_JOB_STATUSES)
    if owner is not None:
        active = Q(status=JobStatus.QUEUED) | Q(status=JobStatus.RUNNING, lease_owner=owner)
    Job.objects.filter(Q(id=job_id) & active).update(
        status=JobStatus.FAILED, error=error[:4000], finished_at=timezone.now(), lease_expires_at=None
    )


def job_leases_sweep(*, now: datetime | None = None) -> dict[str, list[str]]:
    """Beat, every minute: requeue each lost job (lease expired: its worker is gone) that has had
    fewer than ``JOB_MAX_ATTEMPTS`` attempts — a fresh message after commit — and fail the rest
    with the reason. Conditional UPDATEs: a heartbeat renewing meanwhile, or a second sweep, wins
    the row. Returns the ids ``{"requeued": [...], "failed": [...]}``."""
    from solarhub.tasks import run_job

    now = now or timezone.now()
    outcome: dict[str, list[str]] = {"requeued": [], "failed": []}
    lost = list(Job.objects.filter(_lost(now)).order_by("lease_expires_at")[:SWEEP_BATCH])
    for job in lost:
        reason = _lost_reason(job)
        if job.attempts < settings.JOB_MAX_ATTEMPTS:
            with transaction.atomic():
                requeued = Job.objects.filter(Q(id=job.id) & _lost(now)).update(
                    status=JobStatus.QUEUED,
                    lease_owner="",
                    lease_expires_at=None,
                    error=f"{reason}; requeued after attempt {job.attempts} of {settings.JOB_MAX_ATTEMPTS}.",
                )
                if requeued:
                    job_id = str(job.id)
                    transaction.on_commit(lambda job_id=job_id: run_job.delay(job_id))
            if requeued:
                logger.warning("Job %s (%s) requeued: %s", job.id, job.kind, reason)
                outcome["requeued"].append(str(job.id))
        elif _fail_lost(job, reason=f"{reason}; gave up after {job.attempts} attempt(s)."):
            outcome["failed"].append(str(job.id))
    return outcome
