"""A schedule becomes a django-celery-beat periodic task in the plant's zone; each tick (what beat
sends: the task by name with the entry's arguments) makes the previous complete period's report,
once, and e-mails it — PDF attached — to ``params.recipients`` who see the plant and to members
who asked for reports in their notification settings."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from django.core import mail
from django_celery_beat.models import PeriodicTask

from accounts.models import UserSetting
from reports import tasks as _tasks  # noqa: F401 -- registers reports.run_schedule (workers autodiscover it)
from reports.models import ReportJob
from reports.services import report_schedule_run
from solarhub.celery import app
from solarhub.testing.personas import api_client_for

from .helpers import constructed_day, kpi_plant

pytestmark = pytest.mark.django_db


def test_a_weekly_schedule_makes_last_weeks_report_and_mails_it(
    customer, installer, outsider, django_capture_on_commit_callbacks
):
    from datetime import date, timedelta

    plant = kpi_plant(code="SCH-1", owner=customer, installer=installer)
    monday = date(2026, 6, 8)
    for n in range(7):
        constructed_day(plant, monday + timedelta(days=n))
    UserSetting.objects.create(user=installer, notifications={"reports": True})
    response = api_client_for(customer).post(
        "/api/reports",
        {
            "plantId": plant.pk,
            "name": "Weekly",
            "reportType": "weekly",
            "schedule": "weekly",
            "params": {"formats": ["pdf"], "recipients": [outsider.email, "nobody@example.com"]},
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    schedule = ReportJob.objects.get(pk=response.json()["id"])
    task = PeriodicTask.objects.get(pk=schedule.periodic_task_id)
    assert task.task == "reports.run_schedule" and json.loads(task.args) == [schedule.pk]
    assert task.crontab.timezone.key == plant.timezone
    assert (task.crontab.minute, task.crontab.hour, task.crontab.day_of_week) == ("0", "6", "1")

    # Beat's tick on Monday 2026-06-15 06:00 local: the report of the week 8..14 June.
    with django_capture_on_commit_callbacks(execute=True):
        app.tasks[task.task].apply(args=json.loads(task.args)).get()
    # (the eager tick uses now(); pin the period for the assertion through the service too)
    with django_capture_on_commit_callbacks(execute=True):
        report = report_schedule_run(schedule_id=schedule.pk, now=datetime(2026, 6, 15, 13, 0, tzinfo=UTC))
    report.refresh_from_db()
    assert (report.period_start, report.period_end) == (monday, monday + timedelta(days=6))
    assert report.status == "completed" and report.scheduled_from_id == schedule.pk
    assert report.summary["energy_kwh"] == pytest.approx(7 * 320, abs=1e-2)
    # A second tick for the same period makes nothing new.
    again = report_schedule_run(schedule_id=schedule.pk, now=datetime(2026, 6, 15, 13, 5, tzinfo=UTC))
    assert again.pk == report.pk
    message = next(m for m in mail.outbox if report.name in m.subject)
    # The requester and the opted-in installer; the outsider does not see the plant, the unknown
    # address is nobody's.
    assert sorted(message.to) == sorted([customer.email, installer.email])
    assert message.attachments[0][2] == "application/pdf" and message.attachments[0][1].startswith(b"%PDF")

    # Deleting the schedule removes its beat entry.
    with django_capture_on_commit_callbacks(execute=True):
        assert api_client_for(customer).delete(f"/api/reports/{schedule.pk}").status_code == 204
    assert not PeriodicTask.objects.filter(pk=task.pk).exists()
