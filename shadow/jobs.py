"""Job kinds of the shadow app (the generic job-status model, ``GET /api/jobs/{id}``)."""

from __future__ import annotations

from solarhub.jobs import register_job

from .choices import SHADOW_RUN
from .services import shadow_run_execute


@register_job(SHADOW_RUN)
def shadow_run_job(*, job) -> dict:
    """Compute the shadow run named by ``job.params``. A redelivery after a dead worker computes
    it again from scratch (artifacts are replaced atomically, the summary written once at the end),
    so the outcome appears once; a finished or cancelled run is left alone."""
    return shadow_run_execute(run_id=job.params["runId"])
