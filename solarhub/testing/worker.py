"""Start a real Celery worker process for tests (``celery -A solarhub worker``)."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

from .server import ROOT


@contextlib.contextmanager
def celery_worker(env: dict[str, str], settings_module: str = "solarhub.settings.local") -> Iterator[subprocess.Popen]:
    """A solo-pool worker consuming ``env['CELERY_DEFAULT_QUEUE']``; stopped (TERM, then KILL) on exit."""
    full_env = {**os.environ, **env, "DJANGO_SETTINGS_MODULE": settings_module}
    celery = str(Path(sys.executable).with_name("celery"))
    log = open(ROOT / ".data" / f"worker-{uuid.uuid4().hex[:8]}.log", "w+")  # noqa: SIM115
    process = subprocess.Popen(
        [
            celery, "-A", "solarhub", "worker", "--pool", "solo", "--concurrency", "1",
            "--queues", env["CELERY_DEFAULT_QUEUE"], "--hostname", f"test-{uuid.uuid4().hex[:8]}@%h",
            "--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel", "INFO",
        ],
        cwd=ROOT,
        env=full_env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    process.log = log  # type: ignore[attr-defined]
    try:
        deadline = time.monotonic() + 60
        while True:
            log.seek(0)
            if "ready." in log.read():
                break
            if process.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                raise RuntimeError(f"Celery worker did not start (exit {process.poll()}):\n{log.read()}")
            time.sleep(0.2)
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        log.close()


def worker_log(process: subprocess.Popen) -> str:
    process.log.seek(0)  # type: ignore[attr-defined]
    return process.log.read()  # type: ignore[attr-defined]
