"""Report schedules: a cron expression (or ``daily``/``weekly``/``monthly``) in the plant's time
zone becomes a django-celery-beat ``PeriodicTask`` whose ``CrontabSchedule`` carries that zone;
beat (``DatabaseScheduler``) sends ``reports.run_schedule`` with the schedule's id at each tick,
and the task makes the report of the previous complete period (:func:`previous_period`)."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError as DjangoValidationError
from django_celery_beat.validators import crontab_validator

from .choices import ReportType

SCHEDULE_TASK = "reports.run_schedule"
# 06:00 plant-local: the previous day's data is in (late readings, the night's rollup fold).
SHORTHANDS = {"daily": "0 6 * * *", "weekly": "0 6 * * 1", "monthly": "0 6 1 * *"}


def cron_of(schedule: str) -> str:
    """The 5-field cron expression of ``schedule``; raises ValueError with the reason."""
    text = " ".join(str(schedule).split()).lower()
    text = SHORTHANDS.get(text, text)
    if len(text.split(" ")) != 5:
        raise ValueError(
            "A cron expression has 5 fields (minute hour day-of-month month day-of-week), "
            "or use daily, weekly or monthly."
        )
    try:
        crontab_validator(text)
    except DjangoValidationError as exc:
        raise ValueError(f"Not a valid cron expression: {' '.join(exc.messages)}") from None
    return text


def previous_period(report_type: str, *, now: datetime, tz: ZoneInfo) -> tuple[date, date]:
    """The last complete plant-local day, Monday-Sunday week or calendar month before ``now``."""
    today = now.astimezone(tz).date()
    if report_type == ReportType.DAILY:
        day = today - timedelta(days=1)
        return day, day
    if report_type == ReportType.WEEKLY:
        monday = today - timedelta(days=today.weekday() + 7)
        return monday, monday + timedelta(days=6)
    if report_type == ReportType.MONTHLY:
        last = today.replace(day=1) - timedelta(days=1)
        return last.replace(day=1), last
    raise ValueError(f"No previous period for a {report_type} report.")


def periodic_task_sync(*, report) -> None:
    """Create or update the report's beat entry (``PeriodicTask`` + ``CrontabSchedule`` in the
    plant's zone); remove it when the report has no schedule."""
    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    if not report.schedule:
        if report.periodic_task_id:
            PeriodicTask.objects.filter(pk=report.periodic_task_id).delete()
        return
    minute, hour, day_of_month, month_of_year, day_of_week = cron_of(report.schedule).split(" ")
    crontab, _ = CrontabSchedule.objects.get_or_create(
        minute=minute, hour=hour, day_of_month=day_of_month, month_of_year=month_of_year,
        day_of_week=day_of_week, timezone=report.plant.timezone,
    )  # fmt: skip
    task, _ = PeriodicTask.objects.update_or_create(
        name=f"report-schedule-{report.pk}",
        defaults={"task": SCHEDULE_TASK, "crontab": crontab, "args": json.dumps([report.pk]), "enabled": True},
    )
    if report.periodic_task_id != task.pk:
        report.periodic_task = task
        report.save(update_fields=["periodic_task"])
