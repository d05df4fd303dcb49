"""Demo reports for ``seed_demo``: one weekly performance report (PDF) of the simulated week per
demo plant — the last 7 complete plant-local days before the seeding. Idempotent: a plant that
has its demo report keeps it (a failed one is made again). The report has no requester and the
demo users do not ask for reports, so it e-mails nobody (seeding notifies nobody)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

from plants.models import Plant
from telemetry.rollups.buckets import zone

from .choices import ReportFormat, ReportStatus, ReportType
from .models import ReportJob
from .services import report_create

DEMO_REPORT_NAME = "Demo weekly report"


def demo_reports_seed(*, plants: list[Plant], now: datetime | None = None) -> list[ReportJob]:
    """The demo report of each plant in ``plants``, created (and queued) where missing."""
    now = now or timezone.now()
    reports = []
    for plant in plants:
        existing = (
            ReportJob.objects.filter(plant=plant, name=DEMO_REPORT_NAME).exclude(status=ReportStatus.FAILED).first()
        )
        if existing is not None:
            reports.append(existing)
            continue
        today = now.astimezone(zone(plant.timezone)).date()
        reports.append(
            report_create(
                plant=plant,
                by=None,
                name=DEMO_REPORT_NAME,
                description="The simulated week of the demo data (seed_demo).",
                report_type=ReportType.WEEKLY,
                params={"formats": [ReportFormat.PDF]},
                period=(today - timedelta(days=7), today - timedelta(days=1)),
            )
        )
    return reports
