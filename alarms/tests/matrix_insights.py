"""Matrix entries of the alarms insights routes (summary, analytics, seed 003 header and alert
words). Seeing a plant is enough to read them; an invisible plant answers 404. The PCS and rack
routes create their device inside the request's rolled-back savepoint, so they answer 200 where
the plant is visible rather than the plant-has-no-PCS 404."""

from solarhub.testing.matrix import Route, expect

_see_own = expect(customer=200, installer=200, plant_admin=200, outsider=404)
_see_other = expect(customer=404, installer=404, plant_admin=200, outsider=200)


def _with_device(w, t, device_type, serial):
    from plants.models import Device

    plant = w.plants[t]
    Device.objects.get_or_create(plant=plant, serial_number=serial, defaults={"type": device_type, "name": serial})
    return plant.pk


def _pcs_path(w, t):
    return f"/api/v1/pcs/alert?plantId={_with_device(w, t, 'pcs', 'MATRIX-PCS')}"


def _rack_path(w, t):
    return f"/api/v1/bess/alert/rack/rack01?plantId={_with_device(w, t, 'bess_rack', 'MATRIX-RACK')}"


MATRIX = [
    Route(
        "api:alarm-summary", "GET", lambda w, t: f"/api/alarms/summary?plantId={w.plants[t].id}", _see_own, _see_other
    ),
    Route(
        "api:alarm-analytics",
        "GET",
        lambda w, t: f"/api/alarms/analytics?plantId={w.plants[t].id}",
        _see_own,
        _see_other,
    ),
    Route(
        "api:config-header", "GET", lambda w, t: f"/api/v1/config/header?plantId={w.plants[t].id}", _see_own, _see_other
    ),
    Route("api:pcs-alert", "GET", _pcs_path, _see_own, _see_other),
    Route("api:bess-rack-alert", "GET", _rack_path, _see_own, _see_other),
]
