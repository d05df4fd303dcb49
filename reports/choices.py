"""Enumerations (TextChoices) of the reports app."""

from django.db import models


class ReportType(models.TextChoices):
    DAILY = "daily", "Daily"
    WEEKLY = "weekly", "Weekly"
    MONTHLY = "monthly", "Monthly"
    CUSTOM = "custom", "Custom period"


class ReportStatus(models.TextChoices):
    """Seed 000's four states, plus ``scheduled`` for a schedule (a template that produces one
    report per period; it never runs itself)."""

    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"
    SCHEDULED = "scheduled", "Scheduled"


class ReportFormat(models.TextChoices):
    PDF = "pdf", "PDF"
    XLSX = "xlsx", "Excel workbook"
    CSV = "csv", "CSV (daily KPIs)"


class ReportSection(models.TextChoices):
    """What a report may contain (``params.sections``; all by default)."""

    KPIS = "kpis", "KPI table"
    ENERGY = "energy", "Daily energy vs expected"
    PERFORMANCE_RATIO = "performance_ratio", "Performance ratio per day"
    SCATTER = "scatter", "Irradiance-power scatter"
    AVAILABILITY = "availability", "Availability per inverter"
    ALARMS = "alarms", "Alarms with lost energy"
    LOSSES = "losses", "Loss waterfall"


CONTENT_TYPES = {
    ReportFormat.PDF: "application/pdf",
    ReportFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ReportFormat.CSV: "text/csv; charset=utf-8",
}


class Granularity(models.TextChoices):
    DAY = "day", "Plant-local day"
    MONTH = "month", "Plant-local month"
