"""Celery tasks of the project package: the generic job runner and the lease sweep."""

from __future__ import annotations

from celery import shared_task

from solarhub.celery import BaseTask


class JobTask(BaseTask):
    def on_failure(self, exc, task_id, args, kwargs, einfo):
        # Retries exhausted (or a non-retried crash): the job must not stay "running" forever.
        from solarhub.jobs.services import job_fail

        job_id = args[0] if args else kwargs.get("job_id")
        if job_id:
            # Only while this delivery holds the job (or it never got claimed): a job requeued to
            # another worker in the meantime is not this task's to fail.
            job_fail(job_id=job_id, error=f"{type(exc).__name__}: {exc}", owner=task_id)


@shared_task(bind=True, base=JobTask, name="solarhub.run_job")
def run_job(self, job_id: str) -> None:
    """Thin: take the id, tolerate a missing row, call the service. The task id is the lease
    owner: a redelivery or retry of this message may take its own job back."""
    from solarhub.jobs.services import job_run

    job_run(job_id=job_id, owner=self.request.id)


@shared_task(base=BaseTask, name="solarhub.sweep_job_leases")
def sweep_job_leases() -> dict:
    """Beat, every minute: requeue or fail jobs whose worker is gone (expired lease)."""
    from solarhub.jobs.services import job_leases_sweep

    outcome = job_leases_sweep()
    return {key: len(ids) for key, ids in outcome.items()}
