"""Matrix entries of the time-series routes: reading is open to everyone who sees the plant;
an invisible device or plant is 404, never 403."""

from solarhub.testing.matrix import Route, expect

_own = expect(customer=200, installer=200, plant_admin=200, outsider=404)
_other = expect(customer=404, installer=404, plant_admin=200, outsider=200)
_RANGE = "startTime=2026-06-01T00:00:00Z&endTime=2026-06-01T06:00:00Z"

MATRIX = [
    Route(
        "api:device-timeseries",
        "GET",
        lambda w, t: f"/api/devices/{w.devices[t].id}/timeseries?metric=panel_voltages&{_RANGE}",
        _own,
        _other,
    ),
    Route(
        "api:device-timeseries-batch",
        "POST",
        lambda w, t: f"/api/devices/{w.devices[t].id}/timeseries/batch",
        _own,
        _other,
        body=lambda w, t: {"metrics": ["panel_voltages", "power_generation"], "timeRange": "24h"},
    ),
    Route(
        "api:plant-timeseries",
        "GET",
        lambda w, t: f"/api/plants/{w.plants[t].id}/timeseries?metric=ac_power&{_RANGE}",
        _own,
        _other,
    ),
]
