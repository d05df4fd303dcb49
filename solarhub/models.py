"""The generic job-status model every long-running job (reports, forecasts, shadow analyses,
imports) reuses, so the SPA polls one endpoint shape: ``GET /api/jobs/{id}``."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q


class JobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"


ACTIVE_JOB_STATUSES = (JobStatus.QUEUED, JobStatus.RUNNING)


class JobStatusMixin(models.Model):
    """Status columns for any job-like row (a report run, a forecast run...)."""

    status = models.CharField(max_length=16, choices=JobStatus.choices, default=JobStatus.QUEUED, db_index=True)
    error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True

    @property
    def is_finished(self) -> bool:
        return self.status in (JobStatus.COMPLETED, JobStatus.FAILED)


class Job(JobStatusMixin):
    """One run of a registered job ``kind``. ``unique_key`` is unique among *active* jobs only
    (a partial unique index): the same job cannot be queued twice at once, yet can run again
    once finished. ``result`` names what the job produced (e.g. ``{"forecastId": 12}``).

    A running job holds a lease: ``lease_owner`` names the delivery (Celery task id) that
    claimed it, ``lease_expires_at`` is pushed forward by that run's heartbeat. A lease that
    expired means the worker is gone: beat requeues or fails the job, and a re-run request no
    longer answers it. Only the lease owner may record the outcome."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=64, db_index=True)
    plant = models.ForeignKey("plants.Plant", null=True, blank=True, on_delete=models.CASCADE, related_name="jobs")
    params = models.JSONField(default=dict, blank=True)
    result = models.JSONField(null=True, blank=True)
    unique_key = models.CharField(max_length=200, null=True, blank=True)
    lease_owner = models.CharField(max_length=64, blank=True, default="")
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["unique_key"],
                condition=Q(status__in=["queued", "running"]),
                name="solarhub_job_active_unique_key",
            )
        ]
        indexes = [
            models.Index(fields=["plant", "-created_at"]),
            # The beat sweep's lookup: running jobs by lease expiry.
            models.Index(fields=["lease_expires_at"], condition=Q(status="running"), name="solarhub_job_running_lease"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.id} ({self.status})"
