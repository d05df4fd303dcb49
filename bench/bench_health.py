"""Overhead of SolarHub's API stack (middleware, DRF, camelCase rendering) on a probe endpoint.

Baseline, in the same run: a bare Django view returning the same JSON through the same
middleware stack. Prints requests/s for both and the ratio. Not a test: asserts nothing.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "solarhub.settings.local")

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.http import JsonResponse  # noqa: E402
from django.test import Client, RequestFactory  # noqa: E402
from django.urls import clear_url_caches, path  # noqa: E402

from solarhub import urls  # noqa: E402

N = int(os.environ.get("BENCH_N", "2000"))


def bare_view(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return JsonResponse({"status": "ready", "checks": {"database": {"status": "healthy"}}})


def rate(fn) -> float:
    for _ in range(50):  # warm-up
        fn()
    started = time.perf_counter()
    for _ in range(N):
        fn()
    return N / (time.perf_counter() - started)


def main() -> None:
    call_command("migrate", verbosity=0)
    client = Client(HTTP_HOST="localhost")
    factory = RequestFactory()
    # Mount the bare view in front of the real URL map so it passes the same middleware stack.
    urls.urlpatterns.insert(0, path("bench/bare", bare_view))
    clear_url_caches()
    direct = rate(lambda: bare_view(factory.get("/bare")))
    baseline = rate(lambda: client.get("/bench/bare"))
    full = rate(lambda: client.get("/health/ready"))
    print(f"database: {connection.vendor}, {N} requests each, in-process test client")
    print(f"bare view, called directly        : {direct:8.0f} req/s")
    print(f"bare Django view, same middleware : {baseline:8.0f} req/s  (baseline)")
    print(f"/health/ready (DRF + SolarHub API) : {full:8.0f} req/s = {full / baseline:.2f} x baseline")


if __name__ == "__main__":
    main()
