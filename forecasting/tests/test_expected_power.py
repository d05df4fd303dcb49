"""Expected power from measured weather-station telemetry, checked against the PVWatts
equations written out by hand, and the endpoint that sets it beside actual power."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pvlib
import pytest

from forecasting.choices import Horizon, WeatherSource
from forecasting.models import ExpectedPower
from forecasting.services import expected_power_kw, expected_power_store, forecast_compute
from solarhub.testing.personas import api_client_for

from .helpers import configured_plant, ingest

START = datetime(2026, 6, 21, 7, 0, tzinfo=UTC)  # local midnight, Sunnyvale (PDT)
END = START + timedelta(days=1)
STEP = timedelta(minutes=5)
TIMES = pd.date_range(START, END, freq="5min", inclusive="left")


def clear_poa() -> tuple[pd.Series, pd.Series]:
    """Plane-of-array irradiance of the 20°/180° plant under a clear sky, and GHI."""
    location = pvlib.location.Location(37.39, -122.03, altitude=38.0)
    mids = TIMES + STEP / 2
    position = location.get_solarposition(mids)
    clear = location.get_clearsky(mids, solar_position=position)
    poa = pvlib.irradiance.get_total_irradiance(
        20, 180, position["apparent_zenith"], position["azimuth"], clear["dni"], clear["ghi"], clear["dhi"]
    )["poa_global"]
    return pd.Series(poa.to_numpy(), index=TIMES).fillna(0.0), pd.Series(clear["ghi"].to_numpy(), index=TIMES)


def by_hand_ac_kw(poa: np.ndarray, module_temp: np.ndarray) -> np.ndarray:
    """PVWatts, equation by equation: SAPM cell from module temperature (ΔT 3 °C), PVWatts DC,
    14 % losses, PVWatts inverter (50 kW, 98 %)."""
    cell = module_temp + poa / 1000.0 * 3.0
    dc = poa / 1000.0 * 56_000.0 * (1 + (-0.0035) * (cell - 25.0)) * (1 - 0.14)
    ac = pvlib.inverter.pvwatts(pd.Series(dc), 50_000.0 / 0.98, eta_inv_nom=0.98).fillna(0).clip(lower=0)
    return ac.to_numpy() / 1000.0


@pytest.fixture
def measured_plant(db, customer, installer):
    plant = configured_plant(code="MEAS", owner=customer, installer=installer)
    poa, ghi = clear_poa()
    module_temp = 20.0 + poa.to_numpy() / 1000.0 * 25.0
    expected = by_hand_ac_kw(poa.to_numpy(), module_temp)
    ingest(
        plant,
        {
            "MEAS-WMS": [
                (ts, {"irradiance_poa": p, "irradiance_ghi": g, "module_temp": m})
                for ts, p, g, m in zip(TIMES, poa, ghi, module_temp, strict=True)
            ],
            # the plant delivers 90 % of what it should, all day
            "MEAS-INV-1": [(ts, {"ac_power": 0.9 * e}) for ts, e in zip(TIMES, expected, strict=True)],
        },
    )
    return plant, expected


def test_expected_power_from_measured_poa_matches_the_equations(measured_plant):
    plant, by_hand = measured_plant
    series = expected_power_kw(plant=plant, start=START, end=END)
    assert series is not None
    assert len(series) == len(TIMES)
    assert series.index[0] == pd.Timestamp(START)
    assert str(series.index.tz) == "UTC"
    np.testing.assert_allclose(series.to_numpy(), by_hand, rtol=1e-6, atol=1e-6)


def test_expected_power_of_a_plant_with_several_inverters(db):
    plant = configured_plant(code="TWO", inverters=2)
    poa, _ghi = clear_poa()
    module_temp = 20.0 + poa.to_numpy() / 1000.0 * 25.0
    ingest(
        plant,
        {
            "TWO-WMS": [
                (ts, {"irradiance_poa": p, "module_temp": m}) for ts, p, m in zip(TIMES, poa, module_temp, strict=True)
            ]
        },
    )
    series = expected_power_kw(plant=plant, start=START, end=END)
    np.testing.assert_allclose(series.to_numpy(), 2 * by_hand_ac_kw(poa.to_numpy(), module_temp), rtol=1e-6, atol=1e-6)


def test_expected_power_from_ghi_only_is_close_to_the_clear_sky_model(db):
    plant = configured_plant(code="GHI")
    _poa, ghi = clear_poa()
    ingest(plant, {"GHI-WMS": [(ts, {"irradiance_ghi": g, "ambient_temp": 20.0}) for ts, g in ghi.items()]})
    series = expected_power_kw(plant=plant, start=START, end=END)
    energy = series.sum() * 5 / 60
    forecast = forecast_compute(
        plant=plant, horizon=Horizon.DAY_AHEAD, source=WeatherSource.CLEARSKY, start=START.date()
    ).summary["energy_kwh"]
    # Erbs splits the clear GHI a little differently than Ineichen does: close, not identical.
    assert energy == pytest.approx(forecast, rel=0.06)


def test_no_weather_station_or_no_data_is_none(db):
    without = configured_plant(code="NOWMS", weather_station=False)
    assert expected_power_kw(plant=without, start=START, end=END) is None
    silent = configured_plant(code="SILENT")
    assert expected_power_kw(plant=silent, start=START, end=END) is None


def test_naive_times_are_refused(db):
    from solarhub.api.exceptions import ApiError

    plant = configured_plant(code="NAIVE")
    with pytest.raises(ApiError):
        expected_power_kw(plant=plant, start=START.replace(tzinfo=None), end=END)


def test_endpoint_sets_expected_beside_actual(measured_plant, customer):
    plant, _ = measured_plant
    response = api_client_for(customer).get(
        f"/api/plants/{plant.id}/expected-power?start=2026-06-21T07:00:00Z&end=2026-06-22T07:00:00Z"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["resolution"] == "5min"
    assert body["irradiance"] == "poa"
    assert len(body["data"]) == 288
    noon = next(row for row in body["data"] if row["timestamp"] == "2026-06-21T20:00:00Z")
    assert noon["ratio"] == pytest.approx(0.9, abs=0.002)
    assert body["summary"]["ratio"] == pytest.approx(0.9, abs=0.002)
    assert body["data"][0]["ratio"] is None  # night: no ratio of zeros


def test_endpoint_bad_input_is_400(measured_plant, customer):
    plant, _ = measured_plant
    client = api_client_for(customer)
    for query in (
        "start=tomorrow",
        "start=2026-06-21T00:00:00Z&end=2026-06-20T00:00:00Z",
        "start=2026-01-01T00:00:00Z&end=2026-06-01T00:00:00Z",
    ):
        response = client.get(f"/api/plants/{plant.id}/expected-power?{query}")
        assert response.status_code == 400, (query, response.content)
        assert response.json()["error_code"]


def test_endpoint_bad_plant_config_is_400_naming_fields(db, customer, installer):
    plant = configured_plant(
        code="NOCFG", owner=customer, installer=installer, inverters=0, total_power_output_kw=50.0, no_of_panels=None
    )
    plant.panel_specs.all().delete()
    response = api_client_for(customer).get(f"/api/plants/{plant.id}/expected-power")
    assert response.status_code == 400
    body = response.json()
    assert body["error_code"] == "PLANT_CONFIG_INVALID"
    assert set(body["errors"]) == {"panelSpecs", "powerOutputPerInverterKw"}


def test_store_upserts_quarter_hours(measured_plant):
    plant, by_hand = measured_plant
    written = expected_power_store(plant=plant, start=START, end=END)
    assert written == 96
    assert expected_power_store(plant=plant, start=START, end=END) == 96  # again: updated, not duplicated
    assert ExpectedPower.objects.filter(plant=plant).count() == 96
    noon = ExpectedPower.objects.get(plant=plant, ts=datetime(2026, 6, 21, 20, 0, tzinfo=UTC))
    assert noon.expected_kw == pytest.approx(by_hand[13 * 12 : 13 * 12 + 3].mean(), rel=1e-4)
    assert noon.actual_kw == pytest.approx(0.9 * noon.expected_kw, rel=1e-3)


def test_bad_configuration_with_weather_data_raises_api_error(measured_plant):
    from forecasting.pvmodel import PlantConfigError
    from solarhub.api.exceptions import ApiError

    plant, _ = measured_plant
    plant.surface_tilt = None
    plant.save(update_fields=["surface_tilt"])
    with pytest.raises(ApiError) as caught:
        expected_power_kw(plant=plant, start=START, end=END)
    assert isinstance(caught.value, PlantConfigError)
    assert "surface_tilt" in caught.value.errors
