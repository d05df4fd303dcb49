"""Matrix entries of the alarms insights routes (summary, analytics, seed 003 header and alert
words). Seeing a plant is enough to read them; an invisible plant answers 404. The PCS and rack
routes create their device inside the request's rolled-back savepoint, so they answer 200 where
the plant is visible rather than the plant-has-no-PCS 404."""

import re

from solarhub.testing.matrix import Route, Visible, expect

from .matrix import _alarms_everywhere

_see_own = expect(customer=200, installer=200, plant_admin=200, outsider=404)
_see_other = expect(customer=404, installer=404, plant_admin=200, outsider=200)
_all = expect(customer=200, installer=200, plant_admin=200, outsider=200)


def _header_plants(body) -> set[int]:
    """Plant ids named by the header block's items (the world alarms are titled by plant)."""
    titles = [item for key, group in body.items() if key.endswith("Info") for item in group["items"]]
    return {int(match.group(1)) for title in titles if (match := re.fullmatch(r"World alarm (\d+)", title))}


_HEADER_PLANTS = Visible("plants", _header_plants)
# analytics' bad actors are (device, rule) pairs: the world alarms sit on each plant's device
_BAD_ACTOR_DEVICES = Visible("devices", lambda body: {row["deviceId"] for row in body["badActors"]})


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
    # Without plantId: every plant the caller sees, and no other.
    Route(
        "api:alarm-summary",
        "GET",
        lambda w, t: _alarms_everywhere(w, "/api/alarms/summary"),
        _all,
        visible=_HEADER_PLANTS,
    ),
    Route(
        "api:alarm-analytics",
        "GET",
        lambda w, t: _alarms_everywhere(w, "/api/alarms/analytics"),
        _all,
        visible=_BAD_ACTOR_DEVICES,
    ),
    Route(
        "api:config-header",
        "GET",
        lambda w, t: _alarms_everywhere(w, "/api/v1/config/header"),
        _all,
        visible=_HEADER_PLANTS,
    ),
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
