"""Throughput of ``GET /api/plants`` with permission scoping, over HTTP: gunicorn (2 sync workers)
loaded with wrk.

Baseline, in the same server and the same run: a bare Django view (``bench/urls_bench.py``: no
DRF, one ``SELECT 1``, a fixed JSON list of the same shape and about the same size) mounted in
the same URL map, behind the same middleware. Prints requests/s and wrk's latency p50/p99 for
both, and the ratio. Not a test: asserts nothing.

Data, in a scratch PostgreSQL database created and dropped here: 500 plants of 100 customers
(2-6 devices each, owner/installer/viewer memberships); the measured request is one customer's
list: 20 owned plants + 5 as a viewer = 25 of 500 visible.

Environment: ``DATABASE_URL`` (a postgres:// URL; only its server and credentials are used,
default postgres://postgres@127.0.0.1:5432/postgres), ``BENCH_SECONDS`` (default 10). Needs
``wrk`` on PATH (``apt-get install -y wrk``); exits 2 without it.
"""

from __future__ import annotations

import json
import os
import random
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))
WARMUP_SECONDS = 2
WORKERS = 2
THREADS, CONNECTIONS = 2, 8
N_PLANTS, N_OWNERS, N_INSTALLERS = 500, 100, 10
OWN, VIEWER_OF = 20, 5
SETTINGS = "bench.settings_bench"


def scratch_database_url() -> tuple[str, str, str]:
    """(admin URL for CREATE/DROP, scratch DATABASE_URL, scratch name) on DATABASE_URL's server."""
    base = os.environ.get("DATABASE_URL", "")
    if urlsplit(base).scheme not in {"postgres", "postgresql", "pgsql", "psql"}:
        base = "postgres://postgres@127.0.0.1:5432/postgres"
    parts = urlsplit(base)
    name = f"solarhub_bench_{os.getpid()}"
    admin = urlunsplit(("postgresql", parts.netloc, "/postgres", parts.query, ""))
    scratch = urlunsplit(("postgres", parts.netloc, f"/{name}", parts.query, ""))
    return admin, scratch, name


def admin_sql(admin_url: str, statement: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(statement)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http_get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers or {})  # noqa: S310 -- loopback only
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 -- loopback only
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def build_data() -> str:
    """Plants, devices and memberships through the ORM and plants.services; returns the Bearer
    access token of the measured customer."""
    from rest_framework_simplejwt.tokens import RefreshToken

    from accounts.choices import UserType
    from accounts.services import user_create
    from plants.choices import DeviceType, PlantRole, PlantStatus
    from plants.hooks import plant_created_send
    from plants.models import Device, Plant
    from plants.services import membership_grant, plant_memberships_sync

    rng = random.Random(20240601)
    customer = user_create(email="bench-customer@example.com", password=None, username="bench-customer")
    others = [
        user_create(email=f"owner{i}@example.com", password=None, username=f"owner{i}") for i in range(N_OWNERS - 1)
    ]
    installers = [
        user_create(
            email=f"installer{i}@example.com", password=None, username=f"installer{i}", user_type=UserType.INSTALLER
        )
        for i in range(N_INSTALLERS)
    ]
    # The customer's own plants are spread through the id range, not one block at the start.
    owner_slots = [customer] * OWN + [others[i % len(others)] for i in range(N_PLANTS - OWN)]
    rng.shuffle(owner_slots)
    plants = []
    for i, owner in enumerate(owner_slots):
        plant = Plant.objects.create(
            name=f"Bench plant {i:04d}",
            plant_code=f"BENCH-{i:04d}",
            location=rng.choice(["California, USA", "Andalusia, Spain", "Rajasthan, India", "Bavaria, Germany"]),
            status=rng.choice(list(PlantStatus.values)),
            owner=owner,
            installer=installers[i % N_INSTALLERS],
            latitude=rng.uniform(-50, 60),
            longitude=rng.uniform(-120, 120),
            timezone="UTC",
            total_power_output_kw=round(rng.uniform(50, 5000), 1),
            surface_tilt=20.0,
            surface_azimuth=180.0,
        )
        plant_created_send(plant=plant)  # as plant_create does (the default alarm rules)
        plant_memberships_sync(plant=plant)
        plants.append(plant)
    device_types = [DeviceType.INVERTER, DeviceType.METER, DeviceType.WEATHER_STATION, DeviceType.LOGGER]
    Device.objects.bulk_create(
        Device(
            plant=plant,
            type=device_types[n % len(device_types)],
            name=f"Device {n + 1}",
            serial_number=f"SN-{plant.pk}-{n}",
            capacity_kw=100.0,
        )
        for plant in plants
        for n in range(rng.randint(2, 6))
    )
    # Viewers: the customer on 5 foreign plants; other customers on other plants, so the
    # membership table is not just owners and installers.
    foreign = [plant for plant in plants if plant.owner_id != customer.pk]
    for plant in rng.sample(foreign, VIEWER_OF):
        membership_grant(by=plant.installer, plant_id=plant.pk, user=customer, role=PlantRole.VIEWER)
    for plant in plants:
        viewer = rng.choice(others)
        if viewer.pk != plant.owner_id:
            membership_grant(by=plant.installer, plant_id=plant.pk, user=viewer, role=PlantRole.VIEWER)
    token = RefreshToken.for_user(customer).access_token
    token.set_exp(lifetime=timedelta(hours=2))  # outlives any BENCH_SECONDS; lifetime costs nothing per request
    return str(token)


def start_gunicorn(env: dict[str, str], port: int, log) -> subprocess.Popen:
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    command = [gunicorn, "solarhub.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", str(WORKERS)]
    command += ["--worker-class", "sync", "--timeout", "60", "--log-level", "warning"]
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)


def wait_ready(process: subprocess.Popen, base: str, log_path: Path) -> None:
    deadline = time.monotonic() + 60
    while True:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn exited with {process.returncode}:\n{log_path.read_text(errors='replace')}")
        try:
            if http_get(f"{base}/health/live")[0] == 200:
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise SystemExit(f"gunicorn did not answer /health/live within 60 s:\n{log_path.read_text()}")
        time.sleep(0.2)


def stop(process: subprocess.Popen | None) -> None:
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(value: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value)
    if not match:
        raise ValueError(f"unexpected wrk latency {value!r}")
    return float(match.group(1)) * _UNITS_MS[match.group(2)]


def wrk(url: str, seconds: int, headers: dict[str, str]) -> dict:
    command = ["wrk", f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{seconds}s", "--latency"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    rps = re.search(r"^Requests/sec:\s*([\d.]+)", output, re.MULTILINE)
    p50 = re.search(r"^\s*50%\s+(\S+)", output, re.MULTILINE)
    p99 = re.search(r"^\s*99%\s+(\S+)", output, re.MULTILINE)
    total = re.search(r"^\s*(\d+) requests in", output, re.MULTILINE)
    if not (rps and p50 and p99 and total):
        raise SystemExit(f"could not parse wrk's output:\n{output}")
    non2xx = re.search(r"Non-2xx or 3xx responses:\s*(\d+)", output)
    errors = re.search(r"Socket errors:.*", output)
    return {
        "rps": float(rps.group(1)),
        "p50": _ms(p50.group(1)),
        "p99": _ms(p99.group(1)),
        "requests": int(total.group(1)),
        "non2xx": int(non2xx.group(1)) if non2xx else 0,
        "socket_errors": errors.group(0) if errors else "",
    }


def measure(label: str, url: str, headers: dict[str, str]) -> dict:
    wrk(url, WARMUP_SECONDS, headers)
    result = wrk(url, SECONDS, headers)
    if result["non2xx"]:
        # Error answers are cheaper than real ones: the figure would be meaningless.
        raise SystemExit(f"{label}: {result['non2xx']} of {result['requests']} answers were not 2xx")
    return result


def check_responses(bare_url: str, plants_url: str, auth: dict[str, str]) -> tuple[int, int]:
    """The plant list must really be the customer's 25 plants, and the baseline a 200."""
    status, headers, body = http_get(plants_url, auth)
    if status != 200:
        raise SystemExit(f"GET /api/plants answered {status}, expected 200:\n{body[:500]!r}")
    items = json.loads(body)
    if not isinstance(items, list) or len(items) != OWN + VIEWER_OF:
        count = len(items) if isinstance(items, list) else type(items).__name__
        raise SystemExit(f"GET /api/plants returned {count} items, expected {OWN + VIEWER_OF}")
    if headers.get("X-Total-Count") != str(OWN + VIEWER_OF):
        raise SystemExit(f"GET /api/plants X-Total-Count is {headers.get('X-Total-Count')!r}")
    status, _, bare_body = http_get(bare_url)
    if status != 200:
        raise SystemExit(f"bare view answered {status}:\n{bare_body[:500]!r}")
    if http_get(plants_url)[0] != 401:
        raise SystemExit("GET /api/plants without a token did not answer 401")
    return len(body), len(bare_body)


def run(admin_url: str, db_name: str) -> tuple[dict, dict, int, int]:
    """Create the scratch database, fill it, serve it, load both URLs; always stop the server and
    drop the database. Returns (baseline, plant list, plant list bytes, baseline bytes)."""
    server = None
    with tempfile.TemporaryDirectory(prefix="bench_plant_list_") as tmp:
        log_path = Path(tmp) / "gunicorn.log"
        with log_path.open("w+b") as log_file:
            admin_sql(admin_url, f'CREATE DATABASE "{db_name}"')
            try:
                import django

                django.setup()
                from django.core.management import call_command
                from django.db import connections

                call_command("migrate", verbosity=0)
                token = build_data()
                connections.close_all()

                port = free_port()
                base = f"http://127.0.0.1:{port}"
                server = start_gunicorn(dict(os.environ), port, log_file)
                wait_ready(server, base, log_path)

                from bench.urls_bench import BARE_PATH

                bare_url, plants_url = f"{base}/{BARE_PATH}", f"{base}/api/plants"
                auth = {"Authorization": f"Bearer {token}"}
                plants_bytes, bare_bytes = check_responses(bare_url, plants_url, auth)

                baseline = measure("bare view", bare_url, {})
                plants = measure("plant list", plants_url, auth)
                return baseline, plants, plants_bytes, bare_bytes
            finally:
                stop(server)
                try:
                    from django.db import connections

                    connections.close_all()
                except Exception:  # noqa: BLE001, S110 -- Django may not be set up; the drop below still runs
                    pass
                admin_sql(admin_url, f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')


def main() -> int:
    if shutil.which("wrk") is None:
        print("wrk is not installed (apt-get install -y wrk); bench_plant_list.py needs it.", file=sys.stderr)
        return 2

    admin_url, database_url, db_name = scratch_database_url()
    os.environ.update(
        DJANGO_SETTINGS_MODULE=SETTINGS,
        DATABASE_URL=database_url,
        SECRET_KEY=f"bench-{secrets.token_urlsafe(40)}",
        DEBUG="false",
    )
    for name in ("REDIS_URL", "CELERY_BROKER_URL"):  # locmem cache, eager Celery
        os.environ.pop(name, None)

    baseline, plants, plants_bytes, bare_bytes = run(admin_url, db_name)
    ratio = plants["rps"] / baseline["rps"]
    visible = OWN + VIEWER_OF
    print(
        f"gunicorn {WORKERS} sync workers, wrk -t{THREADS} -c{CONNECTIONS} -d{SECONDS}s "
        f"(after {WARMUP_SECONDS} s warm-up each), PostgreSQL, locmem cache, no throttling"
    )
    rows = (
        (f"bare Django view (no DRF, one SELECT 1, fixed list, {bare_bytes} B)", baseline, "  (baseline)"),
        (f"GET /api/plants (JWT, plant-scoped, DRF, {plants_bytes} B)", plants, ""),
    )
    for label, result, note in rows:
        print(f"{label:<58} {result['rps']:7.0f} req/s  p50 {result['p50']:6.2f} ms  p99 {result['p99']:6.2f} ms{note}")
    for label, result in (("bare view", baseline), ("plant list", plants)):
        if result["socket_errors"]:
            print(f"note: {label}: {result['socket_errors'].strip()}")
    print(
        f"plant list (customer, {visible} of {N_PLANTS} plants visible): {plants['rps']:.0f} req/s"
        f" = {ratio:.2f} x bare Django view ({baseline['rps']:.0f} req/s); target >= 0.5 x"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
