"""Matrix entries of the telemetry routes."""

from solarhub.testing.matrix import Route, expect

_keys_own = expect(customer=200, installer=200, plant_admin=200, outsider=404)
_keys_other = expect(customer=404, installer=404, plant_admin=200, outsider=200)
_see_own = expect(customer=200, installer=200, plant_admin=200, outsider=404)
_see_other = expect(customer=404, installer=404, plant_admin=200, outsider=200)


def _ingest_body(w, t):
    return {
        "readings": [{"deviceId": w.devices[t].id, "timestamp": "2026-06-01T10:00:00Z", "metrics": {"ac_power": 1}}]
    }


MATRIX = [
    Route(
        "api:telemetry-ingest",
        "POST",
        lambda w, t: "/api/telemetry/ingest",
        # a device you may not write to is an unknown device: nothing stored → 400
        expect(customer=200, installer=200, plant_admin=200, outsider=400),
        expect(customer=400, installer=400, plant_admin=200, outsider=200),
        body=_ingest_body,
    ),
    # a device's events: reading needs only to see the plant; invisible is 404
    Route(
        "api:device-events",
        "GET",
        lambda w, t: f"/api/devices/{w.devices[t].id}/events?since=2026-01-01T00:00:00Z&severity=major,critical",
        _see_own,
        _see_other,
    ),
    Route(
        "api:plant-ingest-keys", "GET", lambda w, t: f"/api/plants/{w.plants[t].id}/ingest-keys", _keys_own, _keys_other
    ),
    Route(
        "api:plant-ingest-keys",
        "POST",
        lambda w, t: f"/api/plants/{w.plants[t].id}/ingest-keys",
        expect(customer=201, installer=201, plant_admin=201, outsider=404),
        expect(customer=404, installer=404, plant_admin=201, outsider=201),
        body=lambda w, t: {"name": "logger"},
    ),
    Route(
        "api:plant-ingest-key-detail",
        "DELETE",
        lambda w, t: f"/api/plants/{w.plants[t].id}/ingest-keys/{w.extra['keys'][t].id}",
        expect(customer=204, installer=204, plant_admin=204, outsider=404),
        expect(customer=404, installer=404, plant_admin=204, outsider=204),
    ),
]
