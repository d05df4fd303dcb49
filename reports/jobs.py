"""Job kinds of the reports app (the generic job-status model, ``GET /api/jobs/{id}``)."""

from __future__ import annotations

from solarhub.jobs import register_job

REPORT_GENERATE = "reports.generate"


@register_job(REPORT_GENERATE)
def report_generate_job(*, job) -> dict:
    """Produce the report named by ``job.params``. A redelivery after a dead worker renders it
    again from scratch (files are replaced atomically), so the outcome appears once."""
    from .services import report_generate

    return report_generate(report_id=job.params["reportId"])
