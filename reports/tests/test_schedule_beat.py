"""A report schedule really runs under beat: a worker process with its embedded beat
(django-celery-beat's DatabaseScheduler, as ``make beat`` runs it) picks up the periodic task the
API created, makes the previous complete day's report on the worker and e-mails the PDF. Every
part is a separate process on the real broker; the e-mail goes to files (``EMAIL_URL=filemail://``)
because the worker's outbox is not this process's."""

from __future__ import annotations

import email
import time
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.utils import timezone

from accounts.models import UserSetting
from reports.models import ReportJob
from solarhub.testing.personas import api_client_for
from solarhub.testing.worker import celery_worker, worker_env, worker_log

from .helpers import constructed_day, kpi_plant

pytestmark = [pytest.mark.worker, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _wait_for(predicate, seconds: float, what: str, log=lambda: ""):
    deadline = time.monotonic() + seconds
    while not (value := predicate()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {seconds:.0f} s waiting for {what}\n{log()}")
        time.sleep(0.5)
    return value


def _report_messages(mailbox) -> list:
    """The report e-mails in the file backend's mailbox (each file holds messages separated by
    a line of 79 dashes)."""
    found = []
    for path in sorted(mailbox.glob("*.log")) if mailbox.exists() else []:
        for raw in path.read_bytes().split(b"\n" + b"-" * 79 + b"\n"):
            if raw.strip():
                message = email.message_from_bytes(raw)
                if message.get_content_type() == "multipart/mixed":
                    found.append(message)
    return found


def test_beat_runs_a_schedule_on_the_worker_and_mails_the_pdf(customer, installer, redis_url, tmp_path):
    plant = kpi_plant(code="BEAT-1", owner=customer, installer=installer)
    yesterday = timezone.now().astimezone(ZoneInfo(plant.timezone)).date() - timedelta(days=1)
    constructed_day(plant, yesterday)
    UserSetting.objects.create(user=installer, notifications={"reports": True})
    # Every minute: the first tick comes within a minute of beat starting.
    response = api_client_for(customer).post(
        "/api/reports",
        {
            "plantId": str(plant.pk),
            "name": "Daily by beat",
            "reportType": "daily",
            "schedule": "* * * * *",
            "params": {"formats": ["pdf", "csv"]},
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    schedule_id = response.json()["id"]

    mailbox = tmp_path / "mail"
    env = worker_env(
        redis_url,
        MEDIA_ROOT=str(settings.MEDIA_ROOT),  # this test's (reports/tests/conftest.py)
        EMAIL_URL=f"filemail://{mailbox}",
    )
    with celery_worker(env, beat=True) as worker:
        report = _wait_for(
            lambda: ReportJob.objects.filter(scheduled_from_id=schedule_id, status__in=["completed", "failed"]).first(),
            150,
            "beat's tick to produce a finished report",
            lambda: worker_log(worker),
        )
        # Beat's other entries run too: the constructed devices went silent, so communication-loss
        # alarm e-mails may land in the same mailbox first. The report's is the one with a PDF.
        messages = _wait_for(lambda: _report_messages(mailbox), 30, "the report e-mail")
        log = worker_log(worker)

    assert report.status == "completed", (report.error, log)
    assert (report.period_start, report.period_end) == (yesterday, yesterday)
    assert report.summary["energy_kwh"] == pytest.approx(320, abs=1e-2)  # the constructed day's energy
    assert "reports.run_schedule" in log and "succeeded" in log
    # The worker wrote the artifacts where the web process serves them from.
    pdf = api_client_for(customer).get(f"/api/reports/{report.pk}/download", {"format": "pdf"})
    assert pdf.status_code == 200 and b"".join(pdf.streaming_content).startswith(b"%PDF")
    # One e-mail to the requester and the opted-in installer, with the PDF attached.
    assert len(messages) == 1, [m["Subject"] for m in messages]
    message = messages[0]
    assert sorted(a.strip() for a in message["To"].split(",")) == sorted([customer.email, installer.email])
    attachments = [part for part in message.walk() if part.get_content_type() == "application/pdf"]
    assert attachments and attachments[0].get_payload(decode=True).startswith(b"%PDF")
