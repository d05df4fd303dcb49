"""Weather sources: cloud cover → irradiance (Larson scaling + Erbs), posted irradiance closure,
validation of posted weather, TMY."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pvlib
import pytest
from rest_framework.exceptions import ValidationError

from forecasting.choices import Horizon, WeatherSource
from forecasting.services import forecast_compute
from forecasting.weather import cloud_cover_weather, irradiance_weather, larson_ghi, weather_frame

from .helpers import configured_plant

LOCATION = pvlib.location.Location(37.39, -122.03, tz="America/Los_Angeles", altitude=38.0)
DAY_START = datetime(2026, 6, 21, 7, 0, tzinfo=UTC)  # local midnight (PDT)
WINDOW = (DAY_START, DAY_START + timedelta(days=1))
TIMES = pd.date_range(DAY_START, DAY_START + timedelta(days=1), freq="15min", inclusive="left") + timedelta(minutes=7.5)


def hourly(cover: float, **extra) -> list[dict]:
    return [
        {"timestamp": (DAY_START + timedelta(hours=h)).isoformat(), "cloud_cover": cover, **extra} for h in range(25)
    ]


def test_larson_scaling_end_points():
    assert larson_ghi(0.0, 800.0) == pytest.approx(800.0)
    assert larson_ghi(100.0, 800.0) == pytest.approx(0.35 * 800.0)
    assert larson_ghi(50.0, 800.0) == pytest.approx((0.35 + 0.325) * 800.0)


@pytest.mark.parametrize("cover", [0.0, 40.0, 100.0])
def test_cloud_cover_becomes_scaled_clear_sky_ghi_decomposed_with_erbs(cover):
    weather = cloud_cover_weather(LOCATION, TIMES, hourly(cover, temp_air=25.0), window=WINDOW)
    frame = weather.frame
    clear = LOCATION.get_clearsky(TIMES, model="ineichen", solar_position=weather.solar_position)
    expected_ghi = (0.35 + 0.65 * (1 - cover / 100.0)) * clear["ghi"]
    np.testing.assert_allclose(frame["ghi"], expected_ghi, rtol=1e-6, atol=1e-6)
    # the decomposition is Erbs', independently computed
    erbs = pvlib.irradiance.erbs(expected_ghi, weather.solar_position["zenith"], TIMES)
    day = weather.solar_position["zenith"] < 85
    np.testing.assert_allclose(frame["dni"][day], erbs["dni"][day], rtol=1e-6, atol=1e-3)
    # closure: ghi = dni cos z + dhi
    cos_z = np.cos(np.radians(weather.solar_position["zenith"])).clip(lower=0)
    np.testing.assert_allclose(frame["dni"] * cos_z + frame["dhi"], frame["ghi"], atol=1e-6)
    assert (frame["temp_air"] == 25.0).all()
    assert (frame["wind_speed"] == 1.0).all()  # the default when not given


def test_more_cloud_means_less_energy(db):
    plant = configured_plant(code="CC")
    energies = [
        forecast_compute(
            plant=plant,
            horizon=Horizon.DAY_AHEAD,
            source=WeatherSource.CLOUD_COVER,
            start=date(2026, 6, 21),
            weather=hourly(cover),
        ).summary["energy_kwh"]
        for cover in (0, 50, 100)
    ]
    clear = forecast_compute(
        plant=plant, horizon=Horizon.DAY_AHEAD, source=WeatherSource.CLEARSKY, start=date(2026, 6, 21)
    ).summary["energy_kwh"]
    assert energies[0] > energies[1] > energies[2] > 0
    # overcast: about 35 % of the clear-sky irradiance (all diffuse) → well under half the energy
    assert energies[2] < 0.5 * clear


def test_irradiance_any_two_components_close_the_third():
    position = LOCATION.get_solarposition(TIMES)
    clear = LOCATION.get_clearsky(TIMES, solar_position=position)
    rows = [
        {"timestamp": t.isoformat(), "ghi": g, "dhi": d}
        for t, g, d in zip(TIMES, clear["ghi"], clear["dhi"], strict=True)
    ]
    weather = irradiance_weather(LOCATION, TIMES, rows, window=WINDOW)
    high_sun = position["zenith"] < 80
    np.testing.assert_allclose(weather.frame["dni"][high_sun], clear["dni"][high_sun], rtol=0.01)


def test_irradiance_as_csv_text():
    csv_text = "timestamp,ghi,dni,dhi,temp_air\n" + "\n".join(
        f"{(DAY_START + timedelta(hours=h)).isoformat()},100,200,50,18" for h in range(25)
    )
    weather = irradiance_weather(LOCATION, TIMES, csv_text, window=WINDOW)
    assert (weather.frame["ghi"] == 100).all()
    assert (weather.frame["temp_air"] == 18).all()


@pytest.mark.parametrize(
    "raw",
    [
        [],
        "no header\n1,2",
        [{"timestamp": "yesterday", "ghi": 1, "dhi": 1}],
        [{"timestamp": "2026-06-21T07:00:00Z", "ghi": "lots", "dhi": 1}],
        [{"timestamp": "2026-06-21T07:00:00Z", "ghi": 5000, "dhi": 1}],
        [{"timestamp": "2026-06-21T07:00:00Z\x00", "ghi": 5, "dhi": 1}],
        42,
    ],
)
def test_bad_posted_weather_is_a_validation_error(raw):
    with pytest.raises(ValidationError) as caught:
        weather_frame(raw, columns=["ghi", "dni", "dhi"])
    assert "weather" in caught.value.detail


def test_weather_must_cover_the_window():
    short = hourly(10.0)[:10]
    with pytest.raises(ValidationError) as caught:
        cloud_cover_weather(LOCATION, TIMES, short, window=WINDOW)
    assert "covers" in str(caught.value.detail["weather"][0])


def test_tmy_year_estimate_is_monthly_and_plausible(db):
    plant = configured_plant(code="TMY")
    result = forecast_compute(plant=plant, horizon=Horizon.YEAR, source=WeatherSource.TMY, start=date(2026, 1, 1))
    assert len(result.points) == 12
    assert all("kwh" in p for p in result.points)
    specific_yield = result.summary["energy_kwh"] / 56.0  # kWh/kWp
    assert 1000 < specific_yield < 2000
    june, december = result.points[5]["kwh"], result.points[11]["kwh"]
    assert june > december
    assert sum(p["kwh"] for p in result.points) == pytest.approx(result.summary["energy_kwh"], rel=1e-3)


def test_week_ahead_is_hourly_in_local_time(db):
    plant = configured_plant(code="WEEK")
    result = forecast_compute(
        plant=plant, horizon=Horizon.WEEK_AHEAD, source=WeatherSource.CLEARSKY, start=date(2026, 3, 7)
    )
    # 7 local days across the DST change (8 March 2026): 167 hours
    assert len(result.points) == 167
    assert result.points[0]["timestamp"] == "2026-03-07T08:00:00Z"


TMY3_FILE = Path(pvlib.__file__).parent / "data" / "723170TYA.CSV"


def test_uploaded_tmy3_year_agrees_with_pvlib_on_the_same_file(db):
    plant = configured_plant(
        code="GSO", latitude=36.1, longitude=-79.95, elevation_m=273.0, timezone="America/New_York"
    )
    text = TMY3_FILE.read_text()
    result = forecast_compute(
        plant=plant, horizon=Horizon.YEAR, source=WeatherSource.TMY, start=date(2026, 1, 1), weather={"data": text}
    )
    # pvlib by hand on the same file: values at the middle of each hour they describe
    data, _meta = pvlib.iotools.read_tmy3(str(TMY3_FILE), coerce_year=2026, map_variables=True)
    weather = data[["ghi", "dni", "dhi", "temp_air", "wind_speed"]].copy()
    weather.index = weather.index - pd.Timedelta(minutes=30)
    location = pvlib.location.Location(36.1, -79.95, altitude=273.0)
    array = pvlib.pvsystem.Array(
        mount=pvlib.pvsystem.FixedMount(20.0, 180.0),
        module_parameters={"pdc0": 56_000.0, "gamma_pdc": -0.0035},
        temperature_model_parameters=pvlib.temperature.TEMPERATURE_MODEL_PARAMETERS["sapm"]["open_rack_glass_polymer"],
        albedo=0.2,
    )
    losses = dict.fromkeys(
        ["soiling", "shading", "snow", "mismatch", "connections", "lid", "nameplate_rating", "age", "availability"], 0.0
    )
    system = pvlib.pvsystem.PVSystem(
        arrays=[array], inverter_parameters={"pdc0": 50_000 / 0.98, "eta_inv_nom": 0.98},
        losses_parameters={**losses, "wiring": 14.0},
    )  # fmt: skip
    chain = pvlib.modelchain.ModelChain.with_pvwatts(system, location)
    chain.run_model(weather)
    theirs = float(chain.results.ac.clip(lower=0).sum()) / 1000.0
    ours = result.summary["energy_kwh"]
    assert abs(ours - theirs) / theirs <= 0.005, (ours, theirs)


def test_uploaded_tmy_must_be_for_the_site_and_readable(db):
    far = configured_plant(code="FAR")  # Sunnyvale, the file is Greensboro's
    with pytest.raises(ValidationError) as caught:
        forecast_compute(plant=far, horizon=Horizon.YEAR, source=WeatherSource.TMY, weather=TMY3_FILE.read_text())
    assert "km from the plant" in str(caught.value.detail["weather"][0])
    with pytest.raises(ValidationError):
        forecast_compute(plant=far, horizon=Horizon.YEAR, source=WeatherSource.TMY, weather="LOCATION,nowhere\n1,2,3")
    with pytest.raises(ValidationError):
        forecast_compute(plant=far, horizon=Horizon.YEAR, source=WeatherSource.TMY, weather={"data": 42})


def test_month_ahead_is_daily_in_local_days(db):
    plant = configured_plant(code="MONTH")
    result = forecast_compute(
        plant=plant, horizon=Horizon.MONTH_AHEAD, source=WeatherSource.CLEARSKY, start=date(2026, 3, 1)
    )
    assert len(result.points) == 31
    assert result.points[0]["timestamp"] == "2026-03-01T08:00:00Z"  # PST midnight
    assert result.points[-1]["timestamp"] == "2026-03-31T07:00:00Z"  # PDT midnight after the change
    assert sum(p["kwh"] for p in result.points) == pytest.approx(result.summary["energy_kwh"], rel=1e-4)


def test_intraday_is_the_next_six_hours_from_the_quarter_hour(db):
    plant = configured_plant(code="INTRA")
    now = datetime(2026, 6, 21, 18, 7, 12, tzinfo=UTC)
    result = forecast_compute(plant=plant, horizon=Horizon.INTRADAY, source=WeatherSource.CLEARSKY, now=now)
    assert len(result.points) == 24
    assert result.points[0]["timestamp"] == "2026-06-21T18:15:00Z"
    assert result.window.forecast_date == date(2026, 6, 21)


def test_cloud_cover_with_disc_decomposition():
    weather = cloud_cover_weather(LOCATION, TIMES, hourly(30.0), window=WINDOW, decomposition="disc")
    disc = pvlib.irradiance.disc(weather.frame["ghi"], weather.solar_position["zenith"], TIMES)["dni"]
    day = weather.solar_position["zenith"] < 85
    np.testing.assert_allclose(weather.frame["dni"][day], disc[day], rtol=1e-6, atol=1e-3)


def _epw_from_tmy3() -> str:
    """The bundled TMY3 rewritten as an EPW file (same site, same hours and values)."""
    data, meta = pvlib.iotools.read_tmy3(str(TMY3_FILE), map_variables=True)
    header = [
        f"LOCATION,Greensboro,NC,USA,TMY3,723170,{meta['latitude']},{meta['longitude']},{meta['TZ']},{meta['altitude']}",
        "DESIGN CONDITIONS,0", "TYPICAL/EXTREME PERIODS,0", "GROUND TEMPERATURES,0",
        "HOLIDAYS/DAYLIGHT SAVINGS,No,0,0,0", "COMMENTS 1,test", "COMMENTS 2,test",
        "DATA PERIODS,1,1,Data,Sunday, 1/ 1,12/31",
    ]  # fmt: skip
    rows = []
    for (_, row), stamp, clock in zip(data.iterrows(), data["Date (MM/DD/YYYY)"], data["Time (HH:MM)"], strict=True):
        month, day, hour = int(stamp[:2]), int(stamp[3:5]), int(clock[:2])
        fields = [2001, month, day, hour, 0, "?", row["temp_air"], 0, 50, 101325, 0, 0, 0, row["ghi"], row["dni"],
                  row["dhi"], 0, 0, 0, 0, 0, row["wind_speed"], 0, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0]  # fmt: skip
        rows.append(",".join(str(f) for f in fields))
    return "\n".join(header + rows) + "\n"


def test_uploaded_epw_gives_the_same_year_as_the_same_data_in_tmy3(db):
    plant = configured_plant(
        code="EPW", latitude=36.1, longitude=-79.95, elevation_m=273.0, timezone="America/New_York"
    )
    kwargs = {"plant": plant, "horizon": Horizon.YEAR, "source": WeatherSource.TMY, "start": date(2026, 1, 1)}
    from_epw = forecast_compute(**kwargs, weather=_epw_from_tmy3()).summary["energy_kwh"]
    from_tmy3 = forecast_compute(**kwargs, weather=TMY3_FILE.read_text()).summary["energy_kwh"]
    assert from_epw == pytest.approx(from_tmy3, rel=1e-6)


@pytest.mark.parametrize(("day", "points"), [(date(2026, 3, 8), 92), (date(2026, 11, 1), 100), (date(2026, 6, 1), 96)])
def test_day_ahead_follows_the_plant_local_day_across_dst(db, day, points):
    plant = configured_plant(code=f"DST-{day.month}")
    result = forecast_compute(plant=plant, horizon=Horizon.DAY_AHEAD, source=WeatherSource.CLEARSKY, start=day)
    assert len(result.points) == points
    assert result.window.forecast_date == day
