"""Database models of the reports app: facts about one row only."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from .choices import ReportStatus, ReportType


class ReportJob(models.Model):
    """A performance report (seed 000 ``ReportJob``). Three kinds of rows:

    * a one-off report: ``schedule`` blank; produced by a job (``job``) on a worker;
    * a schedule: ``schedule`` set, status ``scheduled``; a django-celery-beat periodic task
      (``periodic_task``) produces one report per period from it;
    * a report made by a schedule: ``scheduled_from`` points at the schedule.

    ``artifacts`` maps format → file path relative to ``MEDIA_ROOT`` (never served publicly:
    ``GET /api/reports/{id}/download`` streams them to people who see the plant). An externally
    produced report (seed 000's ``/complete``) has an ``artifact_url`` and no artifacts.
    """

    plant = models.ForeignKey("plants.Plant", on_delete=models.CASCADE, related_name="report_jobs")
    name = models.CharField(max_length=128)
    description = models.TextField(blank=True)
    report_type = models.CharField(max_length=16, choices=ReportType.choices)
    schedule = models.CharField(max_length=128, blank=True, help_text="Cron expression or daily/weekly/monthly.")
    status = models.CharField(max_length=16, choices=ReportStatus.choices, default=ReportStatus.PENDING)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    params = models.JSONField(default=dict, blank=True)
    period_start = models.DateField(null=True, blank=True, help_text="First plant-local day of the report.")
    period_end = models.DateField(null=True, blank=True, help_text="Last plant-local day (inclusive).")
    artifacts = models.JSONField(default=dict, blank=True)
    artifact_url = models.CharField(max_length=512, blank=True)
    summary = models.JSONField(null=True, blank=True, help_text="Headline KPIs of the period.")
    error = models.TextField(blank=True)
    job = models.ForeignKey("solarhub.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    scheduled_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="produced"
    )
    periodic_task = models.OneToOneField(
        "django_celery_beat.PeriodicTask", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    emailed_to = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["plant", "-created_at"]), models.Index(fields=["status"])]
        constraints = [
            # One report per schedule and period: a beat tick delivered twice makes one report.
            models.UniqueConstraint(
                fields=["scheduled_from", "period_start", "period_end"],
                condition=models.Q(scheduled_from__isnull=False),
                name="reports_one_report_per_schedule_period",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.report_type}, {self.status})"


class KpiDay(models.Model):
    """The additive KPI figures of one plant-local day, kept so a month's KPIs are read, not
    recomputed (``reports.kpis.cache``). Served only while still true: ``config_key`` matches
    the plant's configuration now, no dirty telemetry mark touches the day, and the day's data
    did not change after ``computed_at`` (``changed_at``: stamped by the rollup fold when it
    consumes the day's marks). Alarms' lost energy is never kept here: it is read fresh."""

    plant = models.ForeignKey("plants.Plant", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    config_key = models.CharField(max_length=64, blank=True)
    figures = models.JSONField(null=True, blank=True)
    computed_at = models.DateTimeField(null=True, blank=True, help_text="Database clock before the reads.")
    changed_at = models.DateTimeField(null=True, blank=True, help_text="Last fold of the day's data.")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["plant", "day"], name="reports_kpiday_plant_day")]

    def __str__(self) -> str:
        return f"KPIs of plant {self.plant_id} on {self.day}"
