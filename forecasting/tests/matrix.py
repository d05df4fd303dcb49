"""Matrix entries of the forecasting routes. Reading is open to everyone who sees the plant;
running or posting a forecast needs ``operate`` (owner, installer, engineer, operator). An
invisible plant or forecast is 404, never 403."""

from __future__ import annotations

from datetime import date

from forecasting.models import GenerationForecast
from plants.models import InverterDatasheet, PanelSpec
from solarhub.testing.matrix import Route, everyone, expect, ids_of

_read_own = expect(customer=200, installer=200, plant_admin=200, outsider=404)
_read_other = expect(customer=404, installer=404, plant_admin=200, outsider=200)


def _configured(w, t):
    """Give the matrix plant what the plant model needs (inside the request's savepoint, so it
    is rolled back with it): a panel spec and the inverter's AC rating."""
    plant = w.plants[t]
    PanelSpec.objects.get_or_create(
        plant=plant,
        manufacturer_name="M",
        panel_type="P-400",
        defaults={
            "p_max_w": 400.0,
            "efficiency_pct": 20.0,
            "max_system_voltage_v": 1000,
            "max_series_fuse_rating_a": 20,
            "coefficient_pmax_pct": -0.35,
        },
    )
    InverterDatasheet.objects.get_or_create(device=w.devices[t], defaults={"nominal_output_power_kw": 400.0})
    return plant


def _forecast(w, t) -> GenerationForecast:
    return GenerationForecast.objects.create(
        plant=w.plants[t],
        forecast_date=date(2026, 6, 1),
        horizon="day_ahead",
        data_points=[{"timestamp": "2026-06-01T19:00:00Z", "kw": 10.0}],
        summary={"energy_kwh": 2.5},
    )


MATRIX = [
    Route(
        "api:predicted-generation-list",
        "GET",
        # a forecast on each plant (in the request's savepoint): each caller lists only theirs
        lambda w, t: (_forecast(w, "own"), _forecast(w, "other"), "/api/predicted-generation")[-1],
        everyone(200) | {"anonymous": 401},
        visible=ids_of("plantId", "plants"),
    ),
    Route(
        "api:predicted-generation-list",
        "POST",
        lambda w, t: "/api/predicted-generation",
        expect(customer=201, installer=201, plant_admin=201, outsider=404),
        expect(customer=404, installer=404, plant_admin=201, outsider=201),
        body=lambda w, t: {
            "plantId": w.plants[t].id,
            "forecastDate": "2026-06-01",
            "horizon": "day_ahead",
            "dataPoints": [{"timestamp": "2026-06-01T19:00:00Z", "kw": 12.5}],
        },
    ),
    Route(
        "api:predicted-generation-detail",
        "GET",
        lambda w, t: f"/api/predicted-generation/{_forecast(w, t).id}",
        _read_own,
        _read_other,
    ),
    Route(
        "api:predicted-generation-run",
        "POST",
        lambda w, t: "/api/predicted-generation/run",
        expect(customer=202, installer=202, plant_admin=202, outsider=404),
        expect(customer=404, installer=404, plant_admin=202, outsider=202),
        body=lambda w, t: {"plantId": _configured(w, t).id, "horizon": "day_ahead", "source": "clearsky"},
    ),
    Route(
        "api:predicted-generation-accuracy",
        "GET",
        lambda w, t: f"/api/predicted-generation/accuracy?plantId={w.plants[t].id}",
        _read_own,
        _read_other,
    ),
    Route(
        "api:plant-expected-power",
        "GET",
        lambda w,
        t: f"/api/plants/{_configured(w, t).id}/expected-power?start=2026-06-01T00:00:00Z&end=2026-06-01T06:00:00Z",
        _read_own,
        _read_other,
    ),
    Route(
        "api:plant-forecast-calibrations",
        "GET",
        lambda w, t: f"/api/plants/{w.plants[t].id}/forecast-calibrations",
        _read_own,
        _read_other,
    ),
]
