"""Report speed on the 100-device store of ``bench_query.py`` (96 inverters, 2 weather stations,
2 meters, 8 metrics each, 5-minute readings; ``BENCH_DAYS`` default 35 here so a whole month of
complete plant-local days is inside), built the same way in a scratch PostgreSQL database.

Measured, each beside its baseline in the same run:

* A monthly report (the last 30 complete plant-local days), PDF + XLSX + CSV, through
  ``reports.services.report_generate`` (what the worker runs: KPI reads, charts, files, e-mail
  step). Median of ``BENCH_REPORT_ROUNDS`` (default 3). Target <= 10 s. Baseline: the raw reads the
  KPIs cannot do without, by psycopg — the month's daily ``energy_produced`` rollups of the 96
  inverters and the month's 5-minute plant power rows.
* ``GET /api/plants/{id}/kpis?start=&end=`` for that month over HTTP (gunicorn, 2 sync workers,
  owner's JWT), ``BENCH_REQUESTS`` (default 40) after 5 warm-ups, interleaved with the same
  baseline; p50/p95 and the p50 ratio. Target p50 <= 200 ms. The days come from the KPI day
  cache (``reports.kpis.cache``), as they do for the SPA once a day was looked at or the hourly
  warm task ran. Also printed: the same request cold, ``BENCH_COLD_REQUESTS`` (default 5) times
  with the plant's kept days deleted (untimed) before each — every day recomputed; and with only
  the month's last day deleted before each (as when today's data keeps arriving: one day
  recomputed, the rest read).

The bench plant has no panel spec or inverter datasheets (as in bench_query), so the plant model
is not configured: expected energy is skipped (the KPIs say why) and temperature-corrected PR has
no gamma. Not a test: asserts nothing. Environment: ``DATABASE_URL`` (loopback PostgreSQL),
``BENCH_DAYS``, ``BENCH_REQUESTS``, ``BENCH_REPORT_ROUNDS``, ``BENCH_KEEP`` (as bench_query).
"""

from __future__ import annotations

import os
import sys
import time
from datetime import timedelta
from pathlib import Path

os.environ.setdefault("BENCH_DAYS", "35")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import gunicorn, libpq_url, median, percentile, scratch_django
from bench.bench_query import Client, build_plant, build_store, reuse_plant, reused_store

REQUESTS = int(os.environ.get("BENCH_REQUESTS", "40"))
COLD_REQUESTS = int(os.environ.get("BENCH_COLD_REQUESTS", "5"))
ROUNDS = int(os.environ.get("BENCH_REPORT_ROUNDS", "3"))
BASELINE_SQL = [
    "SELECT count(*), sum(sum) FROM telemetry_rollup WHERE resolution = 'day' AND metric_id = %(energy)s "
    "AND device_id = ANY(%(inverters)s) AND bucket >= %(lo)s AND bucket < %(hi)s",
    "SELECT count(*), max(power) FROM telemetry_plantpower WHERE plant_id = %(plant)s AND bucket >= %(lo)s "
    "AND bucket < %(hi)s",
]


def baseline(conn, params: dict) -> float:
    started = time.perf_counter()
    for sql in BASELINE_SQL:
        conn.execute(sql, params).fetchall()
    return (time.perf_counter() - started) * 1000


def main() -> int:
    with scratch_django("reports") as database_url:
        import psycopg
        from django.conf import settings

        from plants.models import Plant
        from reports.models import KpiDay, ReportJob
        from reports.services import report_generate
        from telemetry.rollups.buckets import local_day_start, zone

        reused = reuse_plant()
        if reused:
            plant_id, devices, metric_ids, token = reused
            store = reused_store(database_url)
        else:
            plant_id, devices, metric_ids, token = build_plant()
            started = time.perf_counter()
            store = build_store(database_url, devices, metric_ids)
            print(f"store: {store['readings']:,} readings, built in {time.perf_counter() - started:.0f} s")
        plant = Plant.objects.get(pk=plant_id)
        tz = zone(plant.timezone)
        last = store["end"].astimezone(tz).date() - timedelta(days=1)
        first = last - timedelta(days=29)
        params = {
            "energy": metric_ids["energy_produced"],
            "inverters": devices["inverter"],
            "plant": plant_id,
            "lo": local_day_start(first, tz),
            "hi": local_day_start(last + timedelta(days=1), tz),
        }
        settings.MEDIA_ROOT = str(Path(__file__).resolve().parent.parent / ".data" / "bench-media")
        with psycopg.connect(libpq_url(database_url), autocommit=True) as conn:
            base_runs, report_runs = [], []
            for _ in range(ROUNDS):
                base_runs.append(baseline(conn, params))
                report = ReportJob.objects.create(
                    plant=plant, name="Bench month", report_type="custom", period_start=first, period_end=last,
                    params={"formats": ["pdf", "xlsx", "csv"]},
                )  # fmt: skip
                started = time.perf_counter()
                result = report_generate(report_id=report.pk)
                report_runs.append((time.perf_counter() - started) * 1000)
            report.refresh_from_db()
            print(f"monthly report {first}..{last} (pdf, xlsx, csv: {result['formats']}), {ROUNDS} rounds:")
            print(f"  report_generate: median {median(report_runs) / 1000:.2f} s (target <= 10 s)")
            print(
                f"  baseline raw reads: median {median(base_runs):.1f} ms; "
                f"ratio {median(report_runs) / median(base_runs):.0f}x"
            )
            print(f"  PR {report.summary['performance_ratio']}, energy {report.summary['energy_kwh']} kWh")

            path = f"/api/plants/{plant_id}/kpis?start={first}&end={last}"
            samples, base, cold, one_day = [], [], [], []
            with gunicorn(workers=2) as address:
                client = Client(address, token)
                for kept_days, times in ((KpiDay.objects.filter(plant_id=plant_id), cold),
                                         (KpiDay.objects.filter(plant_id=plant_id, day=last), one_day)):  # fmt: skip
                    for _ in range(COLD_REQUESTS):
                        kept_days.delete()
                        status, body, ms = client.get(path)
                        if status != 200:
                            raise SystemExit(f"{path} answered {status}: {body[:300]!r}")
                        times.append(ms)
                for index in range(REQUESTS + 5):
                    status, body, ms = client.get(path)
                    if status != 200:
                        raise SystemExit(f"{path} answered {status}: {body[:300]!r}")
                    b = baseline(conn, params)
                    if index >= 5:
                        samples.append(ms)
                        base.append(b)
                client.close()
            p50, p95, b50 = median(samples), percentile(samples, 95), median(base)
            print(f"KPI JSON for the month over HTTP, {REQUESTS} requests:")
            print(
                f"  p50 {p50:.1f} ms  p95 {p95:.1f} ms (target p50 <= 200 ms); "
                f"baseline p50 {b50:.1f} ms; ratio {p50 / b50:.1f}x"
            )
            if cold:
                print(f"  cold (no kept day, {len(cold)} requests): p50 {median(cold):.1f} ms")
                print(f"  one day recomputed, 29 kept ({len(one_day)} requests): p50 {median(one_day):.1f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
