"""Forecast speed: the forecasting service against pvlib's ``ModelChain.run_model`` alone on the
same inputs, in the same run (quality.md: day-ahead <= 2 x baseline; a full year hourly <= 1 s).

* Day-ahead, 15 minutes (96 points), clear sky, for two plants shaped like the demo ones: a
  fixed-tilt rooftop with 2 inverters and a single-axis tracker farm with 4 central inverters.
  Service: ``forecasting.services.forecast_compute`` — reads the plant record (3 queries),
  builds the pvlib model, computes the clear-sky weather (solar position, Linke turbidity,
  Ineichen), runs the ModelChain, buckets the points and the summary. Also
  ``forecast_generate`` (the same plus the INSERT of the forecast row).
  Baseline: a plain ``ModelChain.with_pvwatts`` on the same arrays (built once, outside the
  timing) and ``run_model`` on the very weather frame the service used — one array per
  inverter (the plant as described), and one shared array (what the service runs: the arrays
  share a mount, so it is equivalent; the ratio against it is the stricter figure).
* Year, hourly (8,760 points, TMY source, monthly points): the service, and the same baseline.

Median of ``BENCH_ROUNDS`` (default 30; year: a third of that) after a warm-up, baseline and
service interleaved. Needs PostgreSQL (``DATABASE_URL`` on loopback; a scratch database is
created and dropped). Not a test: asserts nothing.
"""

from __future__ import annotations

import os
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import median, scratch_django

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "30"))
DAY = date(2026, 6, 21)


def make_plants():
    from plants.choices import DeviceType, Tracking
    from plants.models import Device, InverterDatasheet, PanelSpec, Plant

    panel = {
        "manufacturer_name": "Bench", "panel_type": "B-540", "p_max_w": 540.0, "efficiency_pct": 21.0,
        "max_system_voltage_v": 1500, "max_series_fuse_rating_a": 30, "coefficient_pmax_pct": -0.35,
    }  # fmt: skip
    shapes = [
        ("BENCH-ROOF", 2, 50.0, 6, 20, {"tracking": Tracking.FIXED, "surface_tilt": 20.0, "surface_azimuth": 180.0}),
        (
            "BENCH-FARM", 4, 1150.0, 90, 26,
            {"tracking": Tracking.SINGLE_AXIS, "axis_tilt": 0.0, "axis_azimuth": 180.0, "max_angle": 60.0,
             "backtrack": True, "gcr": 0.35},
        ),
    ]  # fmt: skip
    plants = []
    for code, inverters, ac_kw, strings, per_string, mount in shapes:
        modules = inverters * strings * per_string
        plant = Plant.objects.create(
            name=code, plant_code=code, latitude=34.747, longitude=-118.332, elevation_m=715.0,
            timezone="America/Los_Angeles", total_power_output_kw=modules * 0.54, no_of_panels=modules,
            panel_per_string=per_string, string_per_inverter=strings, no_of_inverters=inverters, **mount,
        )  # fmt: skip
        PanelSpec.objects.create(plant=plant, **panel)
        for i in range(inverters):
            device = Device.objects.create(
                plant=plant, type=DeviceType.INVERTER, name=f"Inv {i}", serial_number=f"{code}-{i}"
            )
            InverterDatasheet.objects.create(device=device, nominal_output_power_kw=ac_kw, european_efficiency_pct=98.4)
        plants.append(plant)
    return plants


def baseline_chain(model, *, shared: bool = False):
    """Plain pvlib: ModelChain.with_pvwatts on the same arrays (one per inverter, or the one
    shared array the service runs), one PVWatts inverter of the plant's total rating, built
    outside the timing."""
    import pvlib

    system = model.system(shared=shared)
    eta = model.inverters[0].eta_nom
    system.inverter_parameters = {"pdc0": model.capacity_ac_kw * 1000.0 / eta, "eta_inv_nom": eta}
    return pvlib.modelchain.ModelChain.with_pvwatts(system, model.location)


def timed(func) -> float:
    started = time.perf_counter()
    func()
    return time.perf_counter() - started


def compare(label: str, plant, *, horizon: str, source: str, start: date | None, rounds: int) -> None:
    from forecasting.pvmodel import plant_model_build
    from forecasting.services import forecast_compute, forecast_generate, model_weather
    from forecasting.windows import forecast_window

    model = plant_model_build(plant=plant)
    from zoneinfo import ZoneInfo

    from django.utils import timezone

    window = forecast_window(horizon=horizon, tz=ZoneInfo(plant.timezone), start=start, now=timezone.now())
    weather = model_weather(model=model, window=window, source=source).frame
    chain = baseline_chain(model)
    chain_shared = baseline_chain(model, shared=True)

    def service():
        forecast_compute(plant=plant, horizon=horizon, source=source, start=start)

    def stored():
        forecast_generate(plant=plant, horizon=horizon, source=source, start=start)

    def baseline():
        chain.run_model(weather)

    def baseline_shared():
        chain_shared.run_model(weather)

    for func in (service, stored, baseline, baseline_shared):  # warm-up: imports, the Linke file, caches
        func()
    base, base1, ours, ours_stored = [], [], [], []
    for _ in range(rounds):
        base.append(timed(baseline))
        base1.append(timed(baseline_shared))
        ours.append(timed(service))
        ours_stored.append(timed(stored))
    b, b1, s, g = median(base), median(base1), median(ours), median(ours_stored)
    print(f"{label} ({len(weather):,} model steps, {len(model.inverters)} inverters, {plant.tracking}):")
    print(f"  baseline run_model, array per inverter: {b * 1000:8.1f} ms")
    print(f"  baseline run_model, one shared array:   {b1 * 1000:8.1f} ms")
    print(
        f"  forecast_compute (service):             {s * 1000:8.1f} ms = {s / b:4.2f} x baseline "
        f"({s / b1:4.2f} x the one-array baseline)"
    )
    print(f"  forecast_generate (+ stored row):       {g * 1000:8.1f} ms = {g / b:4.2f} x ({g / b1:4.2f} x)")


def main() -> None:
    with scratch_django("fc"):
        plants = make_plants()
        print(f"rounds: {ROUNDS} (year: {max(3, ROUNDS // 3)}), medians\n")
        for plant in plants:
            compare(
                "day-ahead 15 min, clear sky", plant, horizon="day_ahead", source="clearsky", start=DAY, rounds=ROUNDS
            )
        for plant in plants:
            compare(
                "year hourly, TMY",
                plant,
                horizon="year",
                source="tmy",
                start=date(2026, 1, 1),
                rounds=max(3, ROUNDS // 3),
            )
        print("\ntargets: day-ahead <= 2 x baseline; a full year hourly <= 1 s (quality.md)")


if __name__ == "__main__":
    main()
