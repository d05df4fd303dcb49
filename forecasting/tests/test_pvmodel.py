"""The plant model agrees with pvlib configured by hand, independently of the service code:
the test builds its own Location, mount, PVSystem and ModelChain.with_pvwatts from the numbers
of the plant record, runs it at 1-minute resolution and integrates the day's energy."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pvlib
import pytest
from pvlib.pvsystem import FixedMount, SingleAxisTrackerMount
from pvlib.temperature import TEMPERATURE_MODEL_PARAMETERS

from forecasting.choices import Horizon, WeatherSource
from forecasting.pvmodel import PlantConfigError, plant_model_build
from forecasting.services import forecast_compute
from plants.choices import Tracking

from .helpers import configured_plant

DAY = date(2026, 6, 21)
LOSSES = {
    "soiling": 0,
    "shading": 0,
    "snow": 0,
    "mismatch": 0,
    "wiring": 14.0,
    "connections": 0,
    "lid": 0,
    "nameplate_rating": 0,
    "age": 0,
    "availability": 0,
}


def independent_day_kwh(*, mount, pdc0_w: float, pac0_w: float, eta: float, inverters: int, day: date) -> float:
    """pvlib by hand: the textbook ModelChain.with_pvwatts, one inverter, times ``inverters``."""
    location = pvlib.location.Location(37.39, -122.03, tz="America/Los_Angeles", altitude=38.0)
    times = pd.date_range(
        pd.Timestamp(day, tz="America/Los_Angeles"),
        pd.Timestamp(day, tz="America/Los_Angeles") + pd.Timedelta(days=1),
        freq="1min",
        inclusive="left",
    )
    clear = location.get_clearsky(times, model="ineichen")  # pvlib's own Linke lookup, uncached
    weather = clear.assign(temp_air=20.0, wind_speed=1.0)
    array = pvlib.pvsystem.Array(
        mount=mount,
        module_parameters={"pdc0": pdc0_w, "gamma_pdc": -0.0035},
        temperature_model_parameters=TEMPERATURE_MODEL_PARAMETERS["sapm"]["open_rack_glass_polymer"],
        albedo=0.2,
    )
    system = pvlib.pvsystem.PVSystem(
        arrays=[array], inverter_parameters={"pdc0": pac0_w / eta, "eta_inv_nom": eta}, losses_parameters=LOSSES
    )
    chain = pvlib.modelchain.ModelChain.with_pvwatts(system, location)
    chain.run_model(weather)
    return float(chain.results.ac.clip(lower=0).sum()) / 60.0 / 1000.0 * inverters


@pytest.mark.parametrize(
    ("fields", "mount"),
    [
        ({}, FixedMount(surface_tilt=20.0, surface_azimuth=180.0)),
        (
            {"tracking": Tracking.SINGLE_AXIS, "axis_tilt": 0.0, "axis_azimuth": 180.0, "max_angle": 60.0,
             "backtrack": True, "gcr": 0.4, "surface_tilt": None, "surface_azimuth": None},
            SingleAxisTrackerMount(axis_tilt=0.0, axis_azimuth=180.0, max_angle=60.0, backtrack=True, gcr=0.4),
        ),
        (
            {"tracking": Tracking.SINGLE_AXIS, "axis_tilt": 0.0, "axis_azimuth": 180.0, "max_angle": 60.0,
             "backtrack": False, "gcr": 0.4, "surface_tilt": None, "surface_azimuth": None},
            SingleAxisTrackerMount(axis_tilt=0.0, axis_azimuth=180.0, max_angle=60.0, backtrack=False, gcr=0.4),
        ),
    ],
    ids=["fixed", "tracker-backtracking", "tracker-no-backtracking"],
)  # fmt: skip
@pytest.mark.parametrize("inverters", [1, 2])
@pytest.mark.parametrize("day", [DAY, date(2026, 12, 21)], ids=["june", "december"])
def test_day_ahead_clearsky_energy_agrees_with_pvlib(db, fields, mount, inverters, day):
    # 7 strings x 20 x 400 W = 56 kWp per 50 kW inverter: DC/AC 1.12, so clipping is exercised.
    plant = configured_plant(code=f"PV-{inverters}", inverters=inverters, **fields)
    result = forecast_compute(plant=plant, horizon=Horizon.DAY_AHEAD, source=WeatherSource.CLEARSKY, start=day)
    ours = result.summary["energy_kwh"]
    theirs = independent_day_kwh(mount=mount, pdc0_w=56_000.0, pac0_w=50_000.0, eta=0.98, inverters=inverters, day=day)
    assert theirs > 50 * inverters  # a real day, not two zeros agreeing
    assert abs(ours - theirs) / theirs <= 0.005, (ours, theirs)
    assert len(result.points) == 96
    assert result.points[0]["timestamp"] == pd.Timestamp(day, tz="America/Los_Angeles").tz_convert(
        "UTC"
    ).isoformat().replace("+00:00", "Z")
    assert max(p["kw"] for p in result.points) <= 50.0 * inverters + 1e-6  # clipped at the AC rating


def test_backtracking_changes_the_tracker_result(db):
    on = configured_plant(code="BT-ON", tracking=Tracking.SINGLE_AXIS, axis_tilt=0, axis_azimuth=180, max_angle=60,
                          backtrack=True, gcr=0.5)  # fmt: skip
    off = configured_plant(code="BT-OFF", tracking=Tracking.SINGLE_AXIS, axis_tilt=0, axis_azimuth=180, max_angle=60,
                           backtrack=False, gcr=0.5)  # fmt: skip
    kwargs = {"horizon": Horizon.DAY_AHEAD, "source": WeatherSource.CLEARSKY, "start": DAY}
    a = forecast_compute(plant=on, **kwargs).summary["energy_kwh"]
    b = forecast_compute(plant=off, **kwargs).summary["energy_kwh"]
    assert a != b


def test_snapshot_describes_the_model(db):
    plant = configured_plant(code="SNAP", inverters=2, european_efficiency_pct=None)
    snapshot = plant_model_build(plant=plant).snapshot()
    assert snapshot["capacityDcKw"] == pytest.approx(112.0)
    assert snapshot["capacityAcKw"] == pytest.approx(100.0)
    assert snapshot["gammaPdc"] == pytest.approx(-0.0035)
    assert snapshot["temperatureModel"] == "sapm/open_rack_glass_polymer"
    assert [inv["etaInvNom"] for inv in snapshot["inverters"]] == [0.96, 0.96]  # the 96 % fallback
    assert snapshot["mount"] == {"surface_tilt": 20.0, "surface_azimuth": 180.0}


def test_missing_configuration_names_every_field(db):
    plant = configured_plant(code="BAD", tracking=Tracking.SINGLE_AXIS, axis_azimuth=None, max_angle=None, gcr=None)
    plant.panel_specs.update(coefficient_pmax_pct=None)
    with pytest.raises(PlantConfigError) as caught:
        plant_model_build(plant=plant)
    assert set(caught.value.errors) == {
        "axis_tilt",
        "axis_azimuth",
        "max_angle",
        "gcr",
        "panel_specs[0].coefficient_pmax_pct",
    }
    assert caught.value.status_code == 400


def test_inconsistent_capacity_is_refused(db):
    plant = configured_plant(code="INC", total_power_output_kw=80.0)  # 140 x 400 W = 56 kW
    with pytest.raises(PlantConfigError) as caught:
        plant_model_build(plant=plant)
    assert list(caught.value.errors) == ["total_power_output_kw"]


@pytest.mark.parametrize("tracking", [Tracking.FIXED, Tracking.SINGLE_AXIS])
def test_shared_array_equals_one_array_per_inverter(db, tracking):
    from forecasting.weather import clearsky_weather

    fields = {"tracking": tracking, "axis_tilt": 0, "axis_azimuth": 180, "max_angle": 55, "gcr": 0.35}
    plant = configured_plant(code=f"SH-{tracking}", inverters=3, **fields)
    second = plant.devices.filter(type="inverter").order_by("id")[1]
    second.inverter_datasheet.nominal_output_power_kw = 40.0  # one inverter clips harder
    second.inverter_datasheet.save()
    model = plant_model_build(plant=plant)
    times = pd.date_range("2026-06-21T07:07:30Z", periods=96, freq="15min")
    weather = clearsky_weather(model.location, times)
    shared = model.run(weather.frame, solar_position=weather.solar_position)
    per_inverter = model.run(weather.frame, solar_position=weather.solar_position, shared=False)
    assert shared.max() > 100_000
    np.testing.assert_allclose(shared.to_numpy(), per_inverter.to_numpy(), rtol=1e-9, atol=1e-6)
