"""Serializers of the reports API."""

from __future__ import annotations

from datetime import date, timedelta

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from reports.choices import Granularity, ReportFormat, ReportSection, ReportStatus, ReportType
from reports.kpis import MAX_DAYS
from reports.models import ReportJob
from reports.scheduling import cron_of
from reports.services import report_download_url
from solarhub.api.scoping import VisiblePlantField

MAX_RECIPIENTS = 20


KPI_MAX_DAYS = 366  # the synchronous KPI endpoint: a year per request (reports, on workers: two)


def period_check(start: date, end: date, *, end_field: str = "end", max_days: int = MAX_DAYS) -> None:
    if end < start:
        raise serializers.ValidationError({end_field: ["end must not be before start."]})
    if (end - start).days + 1 > max_days:
        raise serializers.ValidationError({end_field: [f"At most {max_days} days per period."]})


class ReportParamsSerializer(serializers.Serializer):
    start = serializers.DateField(required=False, help_text="First plant-local day (custom reports).")
    end = serializers.DateField(required=False, help_text="Last plant-local day, inclusive.")
    formats = serializers.ListField(
        child=serializers.ChoiceField(choices=ReportFormat.choices), required=False, min_length=1, max_length=3
    )
    sections = serializers.ListField(
        child=serializers.ChoiceField(choices=ReportSection.choices), required=False, max_length=len(ReportSection)
    )
    recipients = serializers.ListField(child=serializers.EmailField(), required=False, max_length=MAX_RECIPIENTS)

    def validate(self, attrs):
        if ("start" in attrs) != ("end" in attrs):
            missing = "end" if "start" in attrs else "start"
            raise serializers.ValidationError({missing: ["start and end go together."]})
        if "start" in attrs:
            period_check(attrs["start"], attrs["end"])
        return attrs


class ReportCreateSerializer(serializers.Serializer):
    plant_id = VisiblePlantField(help_text="A plant you see; a foreign id is as unknown as a missing one (400).")
    name = serializers.CharField(max_length=128)
    description = serializers.CharField(required=False, allow_blank=True, default="", max_length=4000)
    report_type = serializers.ChoiceField(choices=ReportType.choices)
    params = ReportParamsSerializer(required=False, default=dict)
    schedule = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=128,
        help_text="A cron expression (minute hour day-of-month month day-of-week) or daily/weekly/monthly, in the "
        "plant's time zone. A scheduled report produces one report per period for the previous complete period.",
    )

    def validate_schedule(self, value: str) -> str:
        if not value.strip():
            return ""
        try:
            cron_of(value)
        except ValueError as exc:
            raise serializers.ValidationError(str(exc)) from None
        return value.strip()

    def validate(self, attrs):
        params = attrs.get("params") or {}
        if attrs["schedule"]:
            if attrs["report_type"] == ReportType.CUSTOM:
                message = "A schedule reports the previous complete day, week or month: daily, weekly or monthly."
                raise serializers.ValidationError({"report_type": [message]})
            if "start" in params:
                raise serializers.ValidationError({"params": {"start": ["A schedule picks its own periods."]}})
        elif attrs["report_type"] == ReportType.CUSTOM and "start" not in params:
            raise serializers.ValidationError({"params": {"start": ["A custom report needs start and end."]}})
        return attrs


def default_period(report_type: str, *, tz) -> tuple[date, date]:
    """Without ``params.start/end``: the last complete day, week or month (plant-local)."""
    from reports.scheduling import previous_period

    return previous_period(report_type, now=timezone.now(), tz=tz)


class ReportSerializer(serializers.ModelSerializer):
    plant_id = serializers.IntegerField(read_only=True)
    requested_by = serializers.IntegerField(source="requested_by_id", read_only=True, allow_null=True)
    job_id = serializers.UUIDField(read_only=True, allow_null=True)
    scheduled_from_id = serializers.IntegerField(read_only=True, allow_null=True)
    status = serializers.SerializerMethodField()
    error = serializers.SerializerMethodField()
    formats = serializers.SerializerMethodField()
    downloads = serializers.SerializerMethodField()

    class Meta:
        model = ReportJob
        fields = [
            "id", "plant_id", "name", "description", "report_type", "schedule", "status", "error", "requested_by",
            "params", "period_start", "period_end", "formats", "artifact_url", "downloads", "summary", "job_id",
            "scheduled_from_id", "emailed_to", "created_at", "started_at", "completed_at",
        ]  # fmt: skip
        read_only_fields = fields

    def _job_lost(self, report: ReportJob) -> bool:
        # The job failed without the report knowing (its worker died on every attempt).
        job = report.job
        return (
            report.status in (ReportStatus.PENDING, ReportStatus.RUNNING) and job is not None and job.status == "failed"
        )

    @extend_schema_field(serializers.ChoiceField(choices=ReportStatus.choices))
    def get_status(self, report: ReportJob) -> str:
        return ReportStatus.FAILED if self._job_lost(report) else report.status

    def get_error(self, report: ReportJob) -> str:
        return report.job.error if self._job_lost(report) else report.error

    def get_formats(self, report: ReportJob) -> list[str]:
        return list(report.artifacts)

    def get_downloads(self, report: ReportJob) -> dict[str, str]:
        return {fmt: report_download_url(report, fmt) for fmt in report.artifacts}


class ReportCompleteSerializer(serializers.Serializer):
    artifact_url = serializers.URLField(max_length=512)
    summary = serializers.DictField(required=False)


class DownloadQuerySerializer(serializers.Serializer):
    format = serializers.ChoiceField(choices=ReportFormat.choices, default=ReportFormat.PDF)


class KpiQuerySerializer(serializers.Serializer):
    start = serializers.DateField(help_text="First plant-local day.")
    end = serializers.DateField(help_text="Last plant-local day (inclusive); at most 366 days from start.")
    granularity = serializers.ChoiceField(choices=Granularity.choices, default=Granularity.DAY)

    def validate(self, attrs):
        period_check(attrs["start"], attrs["end"], max_days=KPI_MAX_DAYS)
        if attrs["start"] > timezone.now().date() + timedelta(days=1):
            raise serializers.ValidationError({"start": ["start lies in the future."]})
        return attrs
