"""Celery tasks of the reports app: thin, take ids, call a service."""

from __future__ import annotations

from celery import shared_task

from solarhub.celery import BaseTask

WARM_BUDGET_SECONDS = 45 * 60  # ends well before the next hourly run


@shared_task(base=BaseTask, name="reports.run_schedule")
def run_schedule(report_id: int) -> int | None:
    """Beat, at each tick of a report schedule: queue the previous period's report."""
    from .services import report_schedule_run

    report = report_schedule_run(schedule_id=report_id)
    return report.pk if report else None


@shared_task(base=BaseTask, name="reports.warm_kpi_days")
def warm_kpi_days() -> int:
    """Beat, hourly: keep every plant's recent KPI days computed (``reports.kpis.cache``)."""
    from .kpis.cache import kpi_days_warm

    return kpi_days_warm(budget_seconds=WARM_BUDGET_SECONDS)
