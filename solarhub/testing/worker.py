"""Start a real Celery worker process for tests (``celery -A solarhub worker``), optionally with
an embedded beat (``-B``, the django-celery-beat ``DatabaseScheduler`` of the settings)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path

from django.conf import settings

from .server import ROOT


def session_database_url() -> str:
    """The URL of the database this test session uses (the test database, already created), for
    the processes a test starts."""
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{user}{password}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"


def worker_env(redis_url: str, **extra: str) -> dict[str, str]:
    """The environment of a worker (and web process) on the test database and ``redis_url``,
    consuming a queue of its own."""
    return {
        "DATABASE_URL": session_database_url(),
        "REDIS_URL": redis_url,
        "CELERY_DEFAULT_QUEUE": f"test-{uuid.uuid4().hex[:10]}",
        "SECRET_KEY": settings.SECRET_KEY,
        "DEBUG": "false",
        **extra,
    }


@contextlib.contextmanager
def celery_worker(
    env: dict[str, str],
    settings_module: str = "solarhub.settings.local",
    *,
    pool: str = "solo",
    include: Sequence[str] = (),
    beat: bool = False,
) -> Iterator[subprocess.Popen]:
    """A one-process worker (``pool`` solo, or prefork with one child) consuming
    ``env['CELERY_DEFAULT_QUEUE']``, in its own process group; on exit the group gets TERM, then
    KILL. ``include``: extra task modules; ``beat``: run beat inside the worker, with its schedule
    file in a temporary directory."""
    full_env = {**os.environ, **env, "DJANGO_SETTINGS_MODULE": settings_module}
    celery = str(Path(sys.executable).with_name("celery"))
    log = open(ROOT / ".data" / f"worker-{uuid.uuid4().hex[:8]}.log", "w+")  # noqa: SIM115
    scratch = tempfile.TemporaryDirectory(prefix="solarhub-worker-")
    command = [
        celery, "-A", "solarhub", "worker", "--pool", pool, "--concurrency", "1",
        "--queues", env["CELERY_DEFAULT_QUEUE"], "--hostname", f"test-{uuid.uuid4().hex[:8]}@%h",
        "--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel", "INFO",
    ]  # fmt: skip
    for module in include:
        command += ["--include", module]
    if beat:
        command += ["--beat", "--schedule", str(Path(scratch.name) / "beat-schedule")]
    process = subprocess.Popen(
        command, cwd=ROOT, env=full_env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
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
        _stop_group(process)
        log.close()
        scratch.cleanup()


def _stop_group(process: subprocess.Popen) -> None:
    """TERM the worker's process group (parent, pool children, embedded beat), KILL after 15 s."""
    for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, 15)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            process.wait(timeout=wait)
            break
        except subprocess.TimeoutExpired:
            continue
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)  # children the parent left behind


def worker_log(process: subprocess.Popen) -> str:
    process.log.seek(0)  # type: ignore[attr-defined]
    return process.log.read()  # type: ignore[attr-defined]
