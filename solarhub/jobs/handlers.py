"""Built-in job kinds."""

from __future__ import annotations

import os
import socket
import time

from django.core.cache import cache
from django.db import connection
from django.utils import timezone

from .registry import register_job

SELFCHECK = "platform.selfcheck"


@register_job(SELFCHECK)
def platform_selfcheck(*, job) -> dict:
    """Proves the pipeline end to end for operators: a worker took the job from the broker and
    can reach the database and the cache. The result says which process ran it."""
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    db_ms = (time.perf_counter() - started) * 1000
    key = f"selfcheck:{job.id}"
    cache.set(key, "ok", 30)
    cache_ok = cache.get(key) == "ok"
    cache.delete(key)
    return {
        "worker": f"{socket.gethostname()}:{os.getpid()}",
        "database": {"vendor": connection.vendor, "latencyMs": round(db_ms, 2)},
        "cacheOk": cache_ok,
        "ranAt": timezone.now().isoformat().replace("+00:00", "Z"),
    }
