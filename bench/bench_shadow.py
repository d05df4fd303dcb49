"""Shadow analysis speed: a year hourly x 2,000 panels with 10 obstacles (target <= 30 s on this
2-core machine), and the row-only case against pvlib's own ``shaded_fraction1d`` over the same
steps (the baseline in the same run; the printed ratio is ours / pvlib's).

No database: the model (``shadow.model.shading_compute``) runs on a synthetic twin scene of the
generator's shape (``shadow.scenes``). Run: ``.venv/bin/python bench/bench_shadow.py``.
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

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pvlib  # noqa: E402
from pvlib import shading  # noqa: E402

from shadow.model import NearShadingTable, shading_compute, sun_times  # noqa: E402
from shadow.raycast import EMBREE  # noqa: E402
from shadow.scenes import box, rows_scene  # noqa: E402

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
ROWS, PER_ROW, GCR, TILT = 20, 100, 0.5, 20.0
MODULE = (1.722, 1.134, 0.03)


def obstacles(rng: np.random.Generator) -> list[dict]:
    """10 boxes (chimneys, poles, a shed) inside and around the field."""
    pitch = MODULE[0] / GCR
    half_x, half_z = PER_ROW * (MODULE[1] + 0.02) / 2, ROWS * pitch / 2
    result = []
    for k in range(10):
        size = (float(rng.uniform(0.4, 3.0)), float(rng.uniform(2.0, 6.0)), float(rng.uniform(0.4, 3.0)))
        centre = (float(rng.uniform(-half_x, half_x)), size[1] / 2, float(rng.uniform(-half_z, half_z + 5.0)))
        result.append(box(name=f"obstacle-{k + 1}", centre=centre, size=size))
    return result


def timed(func, rounds: int = ROUNDS) -> tuple[float, object]:
    best, value = float("inf"), None
    for _ in range(rounds):
        started = time.perf_counter()
        value = func()
        best = min(best, time.perf_counter() - started)
    return best, value


def main() -> None:
    rng = np.random.default_rng(19)
    location = pvlib.location.Location(37.77, -122.42, tz="America/Los_Angeles")
    times = sun_times(start=pd.Timestamp("2026-01-01", tz=location.tz), end=pd.Timestamp("2027-01-01", tz=location.tz),
                      step_minutes=60)  # fmt: skip
    with_obstacles = rows_scene(rows=ROWS, per_row=PER_ROW, gcr=GCR, tilt=TILT, module=MODULE, obstacles=obstacles(rng))
    rows_only = rows_scene(rows=ROWS, per_row=PER_ROW, gcr=GCR, tilt=TILT, module=MODULE)
    panels = ROWS * PER_ROW
    print(f"Shadow analysis bench: {panels} panels, {len(times)} hourly steps (a year), 10 obstacles, "
          f"4x2 samples per panel, ray engine: {'embree' if EMBREE else 'numpy'}; best of {ROUNDS}")  # fmt: skip

    full_s, full = timed(lambda: shading_compute(twin_data=with_obstacles, location=location, times=times))
    sun_up = len(full.times)
    print(f"  full year, rows + 10 obstacles + electrical: {full_s:6.2f} s  ({sun_up} sun-up steps, "
          f"{full.rays:,} rays = {full.rays / full_s / 1e6:.2f} M rays/s overall; target <= 30 s)")  # fmt: skip
    print(f"    annual shading loss: {full.string_loss_w.sum() / 1000:.0f} kWh of "
          f"{full.unshaded_w.sum() * panels / 1000:.0f} kWh unshaded; panels ever obstacle-shaded: "
          f"{int((full.obstacle_fraction > 0).any(axis=0).sum())}")  # fmt: skip

    table = NearShadingTable()
    cold_s, _ = timed(lambda: shading_compute(twin_data=with_obstacles, location=location, times=times, table=table),
                      rounds=1)  # fmt: skip
    warm_s, warm = timed(lambda: shading_compute(twin_data=with_obstacles, location=location, times=times, table=table))
    drift = warm.string_loss_w.sum() / full.string_loss_w.sum() - 1
    print(f"  with the near-shading table: cold {cold_s:6.2f} s ({len(table.bins)} 1-degree bins), "
          f"warm {warm_s:6.2f} s ({warm.rays} rays); annual loss {drift:+.2%} vs exact")  # fmt: skip

    rows_s, _ = timed(lambda: shading_compute(twin_data=rows_only, location=location, times=times))
    position = location.get_solarposition(times)
    position = position.loc[position["apparent_elevation"] > 0]

    def pvlib_rows():
        return shading.shaded_fraction1d(
            position["apparent_zenith"], position["azimuth"], 90.0, TILT, collector_width=MODULE[0],
            pitch=MODULE[0] / GCR,
        )  # fmt: skip

    baseline_s, _ = timed(pvlib_rows, rounds=max(ROUNDS, 5))
    print(f"  row-only case, whole pipeline (weather, rows, POA, Martinez, strings): {rows_s:6.3f} s")
    print(f"  pvlib shaded_fraction1d alone, same {sun_up} steps (one row):        {baseline_s:6.4f} s")
    print(f"  ratio ours / pvlib: {rows_s / baseline_s:,.0f}x for {panels} panels "
          f"({rows_s / baseline_s / panels:.2f}x per panel)")  # fmt: skip


if __name__ == "__main__":
    main()
