"""Helpers shared by ``bench_ingest.py`` and ``bench_query.py``: a scratch PostgreSQL database,
Django configured against it, a gunicorn server on loopback, percentiles.

Nothing here measures anything; the scripts print their own figures and ratios.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DEFAULT_SERVER = "postgres://postgres@127.0.0.1:5432/postgres"
SETTINGS = "solarhub.settings.local"
# A logger (or the SPA) is one principal sending as fast as it can: the user throttle would answer 429.
THROTTLE_RATE = "1000000/min"


def scratch_database(tag: str) -> tuple[str, str, str]:
    """(admin URL for CREATE/DROP, scratch DATABASE_URL, scratch name) on ``DATABASE_URL``'s server
    (only its host, port and credentials are used)."""
    base = os.environ.get("DATABASE_URL", "")
    if urlsplit(base).scheme not in {"postgres", "postgresql", "pgsql", "psql"}:
        base = DEFAULT_SERVER
    parts = urlsplit(base)
    host = parts.hostname or ""
    if host not in {"127.0.0.1", "localhost", "::1"}:
        raise SystemExit(f"benchmarks only talk to loopback; DATABASE_URL points at {host!r}")
    # BENCH_DB_SUFFIX keeps concurrent benchmark runs of different people apart (e.g. "_tm").
    name = f"solarhub_bench_{tag}_{os.getpid()}{os.environ.get('BENCH_DB_SUFFIX', '')}"
    admin = urlunsplit(("postgresql", parts.netloc, "/postgres", parts.query, ""))
    scratch = urlunsplit(("postgres", parts.netloc, f"/{name}", parts.query, ""))
    return admin, scratch, name


def kept_database(tag: str) -> tuple[str, str, str] | None:
    """With ``BENCH_KEEP=1``: (admin URL, DATABASE_URL, name) of a scratch database that is kept
    after the run and reused by the next one (for profiling a change without rebuilding a large
    store; a reused store is not a fresh measurement and the scripts say so). Else None."""
    if os.environ.get("BENCH_KEEP", "") in {"", "0", "false", "no"}:
        return None
    admin, scratch, _ = scratch_database(tag)
    name = f"solarhub_bench_{tag}_kept"
    parts = urlsplit(scratch)
    return admin, urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, "")), name


def database_exists(admin_url: str, name: str) -> bool:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is not None


def admin_sql(admin_url: str, statement: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(statement)


def libpq_url(database_url: str) -> str:
    """psycopg wants ``postgresql://``; Django's ``DATABASE_URL`` may say ``postgres://``."""
    parts = urlsplit(database_url)
    return urlunsplit(("postgresql", parts.netloc, parts.path, parts.query, ""))


def configure_environment(database_url: str) -> None:
    """Environment for this process (before ``django.setup()``) and inherited by gunicorn:
    the developer settings against the scratch database, no DEBUG, locmem cache, eager Celery,
    throttles out of the way."""
    os.environ.update(
        DJANGO_SETTINGS_MODULE=SETTINGS,
        DATABASE_URL=database_url,
        SECRET_KEY=f"bench-{secrets.token_urlsafe(40)}",
        DEBUG="false",
        THROTTLE_USER_RATE=THROTTLE_RATE,
        THROTTLE_ANON_RATE=THROTTLE_RATE,
    )
    for name in ("REDIS_URL", "CELERY_BROKER_URL"):
        os.environ.pop(name, None)


@contextlib.contextmanager
def scratch_django(tag: str) -> Iterator[str]:
    """Create the scratch database, point Django at it, migrate; always drop it afterwards.
    Yields the scratch DATABASE_URL."""
    admin_url, database_url, name = scratch_database(tag)
    keep = kept_database(tag)
    if keep:  # BENCH_KEEP: a fixed name, created once, reused and never dropped
        admin_url, database_url, name = keep
    configure_environment(database_url)
    if not keep or not database_exists(admin_url, name):
        admin_sql(admin_url, f'CREATE DATABASE "{name}"')
    try:
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        yield database_url
    finally:
        try:
            from django.db import connections

            connections.close_all()
        except Exception:  # noqa: BLE001, S110 -- Django may not be set up; the drop below still runs
            pass
        if not keep:
            admin_sql(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get_status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 -- loopback only
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


@contextlib.contextmanager
def gunicorn(
    *, workers: int = 2, timeout: int = 120, env: dict[str, str | None] | None = None
) -> Iterator[tuple[str, int]]:
    """gunicorn (sync workers, as in the Dockerfile) on 127.0.0.1 with this process's environment
    changed by ``env`` (a None value unsets the variable); yields (host, port) once
    ``/health/live`` answers; always stops it."""
    environment = dict(os.environ)
    for name, value in (env or {}).items():
        if value is None:
            environment.pop(name, None)
        else:
            environment[name] = value
    port = free_port()
    executable = str(Path(sys.executable).with_name("gunicorn"))
    command = [executable, "solarhub.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", str(workers)]
    command += ["--worker-class", "sync", "--timeout", str(timeout), "--log-level", "warning"]
    with tempfile.TemporaryDirectory(prefix="bench_gunicorn_") as tmp:
        log_path = Path(tmp) / "gunicorn.log"
        with log_path.open("w+b") as log:
            process = subprocess.Popen(command, cwd=ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT)
            try:
                deadline = time.monotonic() + 60
                while True:
                    if process.poll() is not None:
                        raise SystemExit(f"gunicorn exited with {process.returncode}:\n{log_path.read_text()}")
                    try:
                        if _get_status(f"http://127.0.0.1:{port}/health/live") == 200:
                            break
                    except OSError:
                        pass
                    if time.monotonic() > deadline:
                        raise SystemExit(f"gunicorn did not answer /health/live within 60 s:\n{log_path.read_text()}")
                    time.sleep(0.2)
                yield "127.0.0.1", port
            finally:
                if process.poll() is None:
                    process.terminate()
                    try:
                        process.wait(timeout=15)
                    except subprocess.TimeoutExpired:
                        process.kill()
                        process.wait()


def json_or_text(body: bytes) -> object:
    try:
        return json.loads(body)
    except ValueError:
        return body[:500]


def median(values: list[float]) -> float:
    return statistics.median(values)


def percentile(values: list[float], pct: int) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    return statistics.quantiles(values, n=100, method="inclusive")[pct - 1]


_ROUTE_CHECK = """
import sys
import django
django.setup()
from django.urls import Resolver404, resolve
from solarhub.api.errors import NOT_FOUND_URL_NAME
try:
    found = resolve(sys.argv[1]).url_name != NOT_FOUND_URL_NAME
except Resolver404:
    found = False
sys.exit(0 if found else 3)
"""


def route_exists(path: str) -> bool:
    """Whether ``path`` resolves to a real view (not the JSON 404 catch-all), asked of a fresh
    process: this one imported the URL map at migrate time, and a route may have been added
    since (other engineers work in the same tree while a long build runs)."""
    result = subprocess.run([sys.executable, "-c", _ROUTE_CHECK, path], cwd=ROOT, env=dict(os.environ), check=False)
    if result.returncode not in (0, 3):
        raise SystemExit(f"could not check the URL map for {path} (exit {result.returncode})")
    return result.returncode == 0
