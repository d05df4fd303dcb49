"""Celery tasks of the project package: the generic job runner."""

from __future__ import annotations

from celery import shared_task

from solarhub.celery import BaseTask


class JobTask(BaseTask):
    def on_failure(self, exc, task_id, args, kwargs, einfo):
        # Retries exhausted (or a non-retried crash): the job must not stay "running" forever.
        from solarhub.jobs.services import job_fail

        job_id = args[0] if args else kwargs.get("job_id")
        if job_id:
            job_fail(job_id=job_id, error=f"{type(exc).__name__}: {exc}")


@shared_task(base=JobTask, name="solarhub.run_job")
def run_job(job_id: str) -> None:
    """Thin: take the id, tolerate a missing row, call the service."""
    from solarhub.jobs.services import job_run

    job_run(job_id=job_id)
