"""Generic background jobs: a registry of job kinds, services to enqueue and run them, a Celery
task that runs them on workers, and the API the SPA polls.

Add a job kind with::

    @register_job("reports.generate")
    def generate_report(*, job: Job) -> dict:
        ...
        return {"reportId": report.id}
"""

from . import handlers  # noqa: F401  -- built-in job kinds
from .registry import register_job

__all__ = ["register_job"]
