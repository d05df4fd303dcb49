"""Job kinds for the real-worker tests only: a worker started with ``--include
solarhub.tests.worker_jobs`` knows them (test_worker.py). Never imported by the application."""

from __future__ import annotations

import os
import socket
import time

from solarhub.jobs import register_job

SLEEP = "test.sleep"


@register_job(SLEEP)
def sleep_job(*, job) -> dict:
    """Stands in for a long pvlib run: the first attempt takes ``seconds``, later ones return at once."""
    if job.attempts == 1:
        time.sleep(float(job.params.get("seconds", 60)))
    return {"worker": f"{socket.gethostname()}:{os.getpid()}", "attempt": job.attempts}
