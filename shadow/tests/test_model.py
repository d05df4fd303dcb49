"""Accuracy of the shading model against answers computed independently here: pvlib's own
``shaded_fraction1d`` for interior panels of long rows (fixed and tracker), zero under
backtracking, the analytic elevation threshold of a wall, nothing without obstacles at GCR -> 0,
and a tracker's rotation changing which panels an obstacle shades."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pvlib
import pytest
from pvlib import shading, tracking

from shadow.model import NearShadingTable, shading_compute, sun_times
from shadow.scenes import box, rows_scene

LOCATION = pvlib.location.Location(37.77, -122.42, tz="America/Los_Angeles")
MODULE = (1.722, 1.134, 0.03)
SAMPLES = 100


def _days(*days: str, step: float = 10) -> pd.DatetimeIndex:
    parts = [
        sun_times(start=pd.Timestamp(d, tz=LOCATION.tz), end=pd.Timestamp(d, tz=LOCATION.tz) + pd.Timedelta(days=1),
                  step_minutes=step)
        for d in days
    ]  # fmt: skip
    return parts[0].append(parts[1:]) if len(parts) > 1 else parts[0]


def _sun(times):
    position = LOCATION.get_solarposition(times)
    up = position["apparent_elevation"] > 0
    return position.loc[up]


def _middle(rows: int, per_row: int) -> int:
    return (rows // 2) * per_row + per_row // 2


def _aoi_lit(tilt, azimuth, position) -> np.ndarray:
    aoi = pvlib.irradiance.aoi(tilt, azimuth, position["apparent_zenith"], position["azimuth"])
    return np.cos(np.radians(np.asarray(aoi))) > 0


def test_fixed_rows_ray_cast_equals_pvlib_shaded_fraction1d():
    rows, per_row, gcr, tilt = 3, 41, 0.5, 20.0
    scene = rows_scene(rows=rows, per_row=per_row, gcr=gcr, tilt=tilt, module=MODULE)
    times = _days("2026-12-21", "2026-02-01", "2026-03-20")
    panel = _middle(rows, per_row)
    result = shading_compute(
        twin_data=scene, location=LOCATION, times=times, grid=(SAMPLES, 1), row_model="raycast", raycast_panels=[panel]
    )
    position = _sun(times)
    assert len(result.times) == len(position)
    expected = shading.shaded_fraction1d(
        position["apparent_zenith"], position["azimuth"], 90.0, tilt, collector_width=MODULE[0], pitch=MODULE[0] / gcr
    ).to_numpy()
    expected = np.where(_aoi_lit(tilt, 180.0, position), expected, 0.0)
    # "long rows": the ray to the row in front lands inside that row (not past its end)
    reach = MODULE[0] / gcr * np.abs(np.tan(np.radians(position["azimuth"].to_numpy() - 180.0)))
    inside = reach < 20.0
    got = result.shaded_fraction[:, panel]
    assert inside.sum() > 100 and (expected[inside] > 0.05).sum() >= 6
    error = np.abs(got[inside] - expected[inside])
    assert error.mean() <= 0.001
    assert error.max() <= 1 / SAMPLES
    # the analytic path gives pvlib's figure for the same panel (the forecasting app's solar
    # position refracts with its own air temperature: a few thousandths at the lowest sun)
    analytic = shading_compute(twin_data=scene, location=LOCATION, times=times, grid=(4, 2))
    assert np.abs(analytic.shaded_fraction[:, panel] - expected).max() <= 0.005
    assert np.abs(analytic.shaded_fraction[:, panel] - expected).mean() <= 0.001
    assert analytic.shaded_fraction[:, per_row // 2].max() == 0.0  # the front row is never row-shaded


@pytest.mark.parametrize("backtrack", [False, True])
def test_tracker_rows_ray_cast_equals_pvlib_and_zero_when_backtracking(backtrack):
    rows, per_row, gcr = 3, 41, 0.35
    tracker = {"axis_azimuth": 180.0, "max_angle": 60.0, "backtrack": backtrack}
    scene = rows_scene(rows=rows, per_row=per_row, gcr=gcr, tracker=tracker, module=MODULE, latitude=35.0)
    location = pvlib.location.Location(35.0, -118.0, tz="America/Los_Angeles")
    times = _days("2026-06-21", "2026-12-21", step=10)
    panel = _middle(rows, per_row)
    result = shading_compute(
        twin_data=scene, location=location, times=times, grid=(SAMPLES, 1), row_model="raycast", raycast_panels=[panel]
    )
    position = location.get_solarposition(times)
    position = position.loc[position["apparent_elevation"] > 0]
    angles = tracking.singleaxis(
        position["apparent_zenith"], position["azimuth"], axis_azimuth=180.0, max_angle=60.0, backtrack=backtrack,
        gcr=gcr,
    )  # fmt: skip
    theta = angles["tracker_theta"].fillna(0.0).to_numpy()
    expected = shading.shaded_fraction1d(
        position["apparent_zenith"], position["azimuth"], 180.0, theta, collector_width=MODULE[0], pitch=MODULE[0] / gcr
    ).to_numpy()
    got = result.shaded_fraction[:, panel]
    reach = MODULE[0] / gcr * np.abs(np.tan(np.radians(position["azimuth"].to_numpy() - 90.0)))
    inside = reach < 20.0
    lit = np.cos(np.radians(angles["aoi"].fillna(90.0).to_numpy())) > 0
    inside &= lit
    error = np.abs(got[inside] - expected[inside])
    if not backtrack:  # the analytic path: the same figure, on the rows with a neighbour sunward
        analytic = shading_compute(twin_data=scene, location=location, times=times, grid=(4, 2))
        assert np.abs(analytic.shaded_fraction[:, panel] - expected).max() <= 0.005
        # rows follow each other toward axis_azimuth + 90 (west): row 1 is the east-most
        east, west = per_row // 2, (rows - 1) * per_row + per_row // 2
        morning = position["azimuth"].to_numpy() < 180
        assert analytic.shaded_fraction[morning, east].max() == 0.0  # nobody east of the east row
        assert analytic.shaded_fraction[~morning, west].max() == 0.0
        assert analytic.shaded_fraction[morning, west].max() > 0.1
        assert analytic.shaded_fraction[~morning, east].max() > 0.1
    if backtrack:
        assert np.allclose(expected, 0.0, atol=1e-9)
        assert got.max() <= 1 / SAMPLES and got.mean() <= 0.001
    else:
        assert (expected[inside] > 0.05).sum() >= 6
    assert error.mean() <= 0.001
    assert error.max() <= 1 / SAMPLES


def test_wall_shades_a_panel_exactly_below_its_elevation_angle():
    """A wall of height h above the sample point, d metres south of it: shaded exactly when the
    sun stands below atan(h / distance along the ray) inside the wall's azimuth window."""
    height, depth = 1.0, 0.03
    y_sample = height + depth / 2  # flat module: one sample at its centre, on the front face
    d, top, half = 4.0, 4.0, 6.0  # wall's north face 4 m south, top 4 m up, 12 m long (x)
    wall = box(name="wall", centre=(0.0, top / 2, d + 0.1), size=(2 * half, top, 0.2))
    scene = rows_scene(rows=1, per_row=1, gcr=0.3, tilt=0.0, module=MODULE, obstacles=[wall], height=height)
    times = _days("2026-12-21", "2026-06-21", "2026-10-01", step=5)
    result = shading_compute(twin_data=scene, location=LOCATION, times=times, grid=(1, 1))
    position = _sun(times)
    az = np.radians(position["azimuth"].to_numpy() - 180.0)
    el = np.radians(position["apparent_elevation"].to_numpy())
    south = np.cos(az) > 0
    run = d / np.where(south, np.cos(az), 1.0)  # horizontal distance to the wall's face along the ray
    window = south & (np.abs(run * np.sin(az)) <= half)
    threshold = np.arctan((top - y_sample) / run)
    expected = window & (el < threshold)
    margin = np.abs(el - threshold) > 1e-6
    got = result.obstacle_fraction[:, 0] > 0.5
    assert expected.sum() > 20 and (~expected).sum() > 20
    assert np.array_equal(got[margin], expected[margin])
    # the horizon profile (2-degree steps): due south (sector 18, 180-190 deg) the wall's top at
    # atan(h / distance), and nothing north
    horizon = result.horizon_deg[0]
    south_distance = d / np.cos(np.radians(5.0))
    assert abs(horizon[18] - np.degrees(np.arctan((top - y_sample) / south_distance))) <= 2.0
    assert horizon[0] == 0.0 and horizon[35] == 0.0


def test_no_shading_without_obstacles_when_rows_are_far_apart():
    scene = rows_scene(rows=3, per_row=9, gcr=0.001, tilt=25.0, module=MODULE)
    times = _days("2026-12-21", "2026-06-21", step=15)
    analytic = shading_compute(twin_data=scene, location=LOCATION, times=times, grid=(4, 2))
    assert analytic.shaded_fraction.max() == 0.0
    assert analytic.module_loss_w.max() == pytest.approx(0.0, abs=1e-6)
    cast = shading_compute(
        twin_data=scene, location=LOCATION, times=times, grid=(8, 2), row_model="raycast", raycast_panels=[13]
    )
    assert cast.shaded_fraction.max() == 0.0


def test_tmy_weather_runs_and_loses_no_more_than_clear_sky():
    scene = rows_scene(
        rows=3, per_row=5, gcr=0.5, module=MODULE, obstacles=[box(name="b", centre=(0, 2, 6), size=(1, 4, 1))]
    )
    times = _days("2026-12-21", "2026-06-21", step=30)
    clear = shading_compute(twin_data=scene, location=LOCATION, times=times, weather="clearsky")
    typical = shading_compute(twin_data=scene, location=LOCATION, times=times, weather="tmy")
    assert np.array_equal(clear.shaded_fraction > 0, typical.shaded_fraction > 0)  # geometry, not weather
    assert 0 < typical.string_loss_w.sum() <= clear.string_loss_w.sum() * 1.05
    assert typical.choices["weather"] == "tmy"


def test_tracker_rotation_changes_the_shaded_panels():
    pole = box(name="pole", centre=(-6.0, 3.0, 0.0), size=(0.4, 6.0, 0.4))
    common = {"rows": 2, "per_row": 12, "gcr": 0.3, "module": MODULE, "obstacles": [pole], "latitude": 35.0}
    location = pvlib.location.Location(35.0, -118.0, tz="America/Los_Angeles")
    times = _days("2026-03-20", step=10)
    turning = shading_compute(
        twin_data=rows_scene(tracker={"axis_azimuth": 180.0, "max_angle": 60.0, "backtrack": True}, **common),
        location=location, times=times, grid=(4, 2),
    )  # fmt: skip
    flat = shading_compute(
        twin_data=rows_scene(tracker={"axis_azimuth": 180.0, "max_angle": 0.0, "backtrack": False}, **common),
        location=location, times=times, grid=(4, 2),
    )  # fmt: skip
    shaded_turning = turning.obstacle_fraction > 0
    shaded_flat = flat.obstacle_fraction > 0
    assert shaded_turning.any() and shaded_flat.any()
    assert not np.array_equal(shaded_turning, shaded_flat)
    # and within one run, the set moves through the day
    sets = {tuple(np.flatnonzero(row)) for row in shaded_turning if row.any()}
    assert len(sets) > 1


def test_the_near_shading_table_is_built_once_and_reused(tmp_path):
    obstacles = [box(name="mast", centre=(1.0, 3.0, 7.0), size=(0.5, 6.0, 0.5)),
                 box(name="shed", centre=(-6.0, 1.5, -9.0), size=(3.0, 3.0, 2.0))]  # fmt: skip
    scene = rows_scene(rows=3, per_row=10, gcr=0.5, module=MODULE, obstacles=obstacles)
    times = _days("2026-12-21", "2026-03-20", "2026-06-21", step=10)
    exact = shading_compute(twin_data=scene, location=LOCATION, times=times)
    table = NearShadingTable()
    first = shading_compute(twin_data=scene, location=LOCATION, times=times, table=table)
    assert first.rays > 0 and len(table.bins) > 50
    path = tmp_path / "table.npz"
    table.save(path)
    reloaded = NearShadingTable.load(path)
    again = shading_compute(twin_data=scene, location=LOCATION, times=times, table=reloaded)
    assert again.rays == 0  # every bin came from the table
    assert np.array_equal(again.obstacle_fraction, first.obstacle_fraction)
    # 1-degree bins: the shadow edges move a little, the shaded energy hardly
    assert (exact.obstacle_fraction > 0).any()
    differ = np.abs(first.obstacle_fraction - exact.obstacle_fraction) > 0
    assert differ.mean() < 0.01
    assert first.string_loss_w.sum() == pytest.approx(exact.string_loss_w.sum(), rel=0.05)
