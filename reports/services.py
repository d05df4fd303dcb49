"""Writes of the reports app: keyword-only, typed functions named <entity>_<action>.

A report is produced by a job (``reports.generate`` on the generic job runner, so it has a
lease, a heartbeat and is redone once if its worker dies: ``JOB_MAX_ATTEMPTS``); the job's
handler calls :func:`report_generate`, which renders every asked format, stores the files
under ``MEDIA_ROOT/reports/<plant>/<report>/`` and e-mails the report (:func:`report_email`).
"""

from __future__ import annotations

import logging
import shutil
from datetime import date, datetime
from pathlib import Path

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone

from plants.models import Plant
from plants.selectors import plant_ids_visible_to
from solarhub.jobs.services import job_enqueue
from telemetry.rollups.buckets import zone

from .artifacts import RENDERERS, report_data_collect
from .choices import CONTENT_TYPES, ReportFormat, ReportStatus
from .jobs import REPORT_GENERATE
from .models import ReportJob
from .scheduling import periodic_task_sync, previous_period

logger = logging.getLogger("solarhub.reports")

DEFAULT_FORMATS = [ReportFormat.PDF.value]


def report_dir(report: ReportJob) -> Path:
    return Path(settings.MEDIA_ROOT) / "reports" / str(report.plant_id) / str(report.pk)


def report_download_url(report: ReportJob, fmt: str) -> str:
    return f"{reverse('api:report-download', kwargs={'pk': report.pk})}?format={fmt}"


def _enqueue(report: ReportJob) -> None:
    job, _ = job_enqueue(
        kind=REPORT_GENERATE,
        requested_by=report.requested_by,
        plant=report.plant,
        params={"reportId": report.pk},
        unique_key=f"{REPORT_GENERATE}:{report.pk}",
    )
    ReportJob.objects.filter(pk=report.pk).update(job=job)
    report.job = job


@transaction.atomic
def report_create(
    *,
    plant: Plant,
    by,
    name: str,
    report_type: str,
    params: dict,
    period: tuple[date, date] | None,
    description: str = "",
    schedule: str = "",
) -> ReportJob:
    """A report to produce now (``period`` given: a job is queued after commit) or a schedule
    (``schedule`` given: a beat entry in the plant's zone makes one report per period)."""
    report = ReportJob.objects.create(
        plant=plant,
        requested_by=by,
        name=name,
        description=description,
        report_type=report_type,
        params=params,
        schedule=schedule,
        status=ReportStatus.SCHEDULED if schedule else ReportStatus.PENDING,
        period_start=period[0] if period else None,
        period_end=period[1] if period else None,
    )
    if schedule:
        periodic_task_sync(report=report)
    else:
        _enqueue(report)
    return report


def report_schedule_run(*, schedule_id: int, now: datetime | None = None) -> ReportJob | None:
    """Beat's tick of a schedule: the report of the previous complete period, once (a second
    tick for the same period answers the existing report)."""
    schedule = ReportJob.objects.select_related("plant", "requested_by").filter(pk=schedule_id).first()
    if schedule is None or not schedule.schedule:
        logger.info("Report schedule %s is gone; nothing to do", schedule_id)
        return None
    start, end = previous_period(schedule.report_type, now=now or timezone.now(), tz=zone(schedule.plant.timezone))
    try:
        with transaction.atomic():
            report = ReportJob.objects.create(
                plant=schedule.plant,
                requested_by=schedule.requested_by,
                name=f"{schedule.name} {start.isoformat()}" + ("" if start == end else f"..{end.isoformat()}"),
                description=schedule.description,
                report_type=schedule.report_type,
                params=schedule.params,
                status=ReportStatus.PENDING,
                period_start=start,
                period_end=end,
                scheduled_from=schedule,
            )
            _enqueue(report)
    except IntegrityError:
        return ReportJob.objects.filter(scheduled_from=schedule, period_start=start, period_end=end).first()
    return report


def report_generate(*, report_id: int) -> dict:
    """Render the report's formats, store them, mark it completed and e-mail it. Any error marks
    it failed with the reason and propagates (the job fails with it)."""
    report = ReportJob.objects.select_related("plant", "requested_by").get(pk=report_id)
    now = timezone.now()
    ReportJob.objects.filter(pk=report.pk).update(status=ReportStatus.RUNNING, started_at=now, error="")
    try:
        formats = report.params.get("formats") or DEFAULT_FORMATS
        data = report_data_collect(
            plant=report.plant,
            start=report.period_start,
            end=report.period_end,
            title=report.name,
            sections=report.params.get("sections"),
        )
        folder = report_dir(report)
        folder.mkdir(parents=True, exist_ok=True)
        artifacts = {}
        for fmt in formats:
            path = folder / f"report-{report.pk}.{fmt}"
            tmp = path.with_suffix(f".{fmt}.part")
            tmp.write_bytes(RENDERERS[fmt](data))
            tmp.replace(path)  # a reader never sees half a file
            artifacts[fmt] = str(path.relative_to(settings.MEDIA_ROOT))
        total = data.kpis["total"]
        summary = {
            key: total[key]
            for key in (
                "energy_kwh", "export_kwh", "expected_energy_kwh", "irradiation_kwh_m2", "specific_yield_kwh_kwp",
                "performance_ratio", "temperature_corrected_pr", "availability_time", "availability_energy",
                "lost_energy_kwh", "flagged",
            )
        }  # fmt: skip
    except Exception as exc:
        ReportJob.objects.filter(pk=report.pk).update(
            status=ReportStatus.FAILED, error=f"{type(exc).__name__}: {exc}"[:4000], completed_at=timezone.now()
        )
        raise
    ReportJob.objects.filter(pk=report.pk).update(
        status=ReportStatus.COMPLETED,
        artifacts=artifacts,
        artifact_url=report_download_url(report, formats[0]),
        summary=summary,
        completed_at=timezone.now(),
    )
    report.refresh_from_db()
    sent = report_email(report=report)
    return {"reportId": report.pk, "formats": list(artifacts), "emailedTo": sent}


def report_recipients(*, report: ReportJob) -> list[str]:
    """The requester, ``params.recipients`` and plant members whose notification settings ask
    for reports — each only while they can see the plant (checked now, not at creation)."""
    from accounts.models import User, UserSetting

    visible = User.objects.filter(is_active=True).exclude(email="").annotate(email_lower=Lower("email"))
    wanted = [email.lower() for email in report.params.get("recipients") or []]
    opted_in = UserSetting.objects.filter(notifications__reports=True).values("user_id")
    condition = Q(email_lower__in=wanted) | Q(pk__in=opted_in)
    if report.requested_by_id:
        condition |= Q(pk=report.requested_by_id)
    emails: list[str] = []
    for user in visible.filter(condition).order_by("id"):
        if plant_ids_visible_to(user).filter(id=report.plant_id).exists() and user.email not in emails:
            emails.append(user.email)
    return emails


def report_email(*, report: ReportJob) -> list[str]:
    """E-mail the finished report with its files attached; records who got it."""
    recipients = report_recipients(report=report)
    if not recipients:
        return []
    summary = report.summary or {}
    lines = [
        f'The report "{report.name}" of {report.plant.name} for {report.period_start} to {report.period_end} is ready.',
        "",
        f"AC energy: {summary.get('energy_kwh')} kWh",
        f"Performance ratio: {summary.get('performance_ratio')}",
        f"Availability (time): {summary.get('availability_time')}",
        f"Lost energy (alarms): {summary.get('lost_energy_kwh')} kWh",
        "",
        "The files are attached; they can also be downloaded from SolarHub by anyone who sees the plant.",
    ]
    message = EmailMessage(
        subject=f"[SolarHub] Report ready: {report.name} — {report.plant.name}",
        body="\n".join(lines),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=recipients,
    )
    for fmt, relative in report.artifacts.items():
        path = Path(settings.MEDIA_ROOT) / relative
        message.attach(path.name, path.read_bytes(), CONTENT_TYPES[fmt].split(";")[0])
    message.send(fail_silently=False)
    ReportJob.objects.filter(pk=report.pk).update(emailed_to=recipients)
    return recipients


def report_complete(*, report: ReportJob, artifact_url: str, summary: dict | None = None) -> ReportJob:
    """Seed 000's completion step for an externally produced report."""
    report.status = ReportStatus.COMPLETED
    report.artifact_url = artifact_url
    report.completed_at = timezone.now()
    report.error = ""
    if summary is not None:
        report.summary = summary
    report.save(update_fields=["status", "artifact_url", "completed_at", "error", "summary"])
    return report


def report_delete(*, report: ReportJob) -> None:
    """The report, its beat entry and its files (after commit: a rolled-back delete keeps them)."""
    from django_celery_beat.models import PeriodicTask

    folder = report_dir(report)
    if report.periodic_task_id:
        PeriodicTask.objects.filter(pk=report.periodic_task_id).delete()
    report.delete()
    transaction.on_commit(lambda: shutil.rmtree(folder, ignore_errors=True))
