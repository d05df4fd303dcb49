"""Matrix entries of the dashboard and monitoring routes. Reading a plant's dashboard needs only
to see the plant: owner, installer and admin see the own plant, the outsider only the other one;
anything invisible is a 404, never a 403 that would confirm it exists."""

from solarhub.testing.matrix import Route, expect, ids_of

SEE_OWN = expect(customer=200, installer=200, plant_admin=200, outsider=404)
SEE_OTHER = expect(customer=404, installer=404, plant_admin=200, outsider=200)
EVERYONE_SIGNED_IN = expect(customer=200, installer=200, plant_admin=200, outsider=200)


def _plant(w, t):
    return w.plants[t].id


def _device(w, t):
    return w.devices[t].id  # an inverter


MATRIX = [
    Route(
        "api:dashboard-overview",
        "GET",
        lambda w, t: f"/api/dashboard/overview?plantId={_plant(w, t)}&hours=6",
        SEE_OWN,
        SEE_OTHER,
    ),
    Route(
        "api:dashboard-realtime-power",
        "GET",
        lambda w, t: f"/api/dashboard/realtime-power?plantId={_plant(w, t)}&hours=6",
        SEE_OWN,
        SEE_OTHER,
    ),
    Route(
        "api:dashboard-daily-energy",
        "GET",
        lambda w, t: f"/api/dashboard/daily-energy?plantId={_plant(w, t)}&days=7",
        SEE_OWN,
        SEE_OTHER,
    ),
    # Without plantId the list is scoped (everyone gets 200 with their own devices); with the
    # plant of someone else it is a 404.
    Route(
        "api:monitoring-devices",
        "GET",
        lambda w, t: "/api/monitoring/devices",
        EVERYONE_SIGNED_IN,
        visible=ids_of("deviceId", "devices"),
    ),
    Route(
        "api:monitoring-devices",
        "GET",
        lambda w, t: f"/api/monitoring/devices?plantId={_plant(w, t)}",
        SEE_OWN,
        SEE_OTHER,
    ),
    Route(
        "api:monitoring-metrics",
        "GET",
        lambda w, t: f"/api/monitoring/metrics/inverter/{_device(w, t)}?hours=6",
        SEE_OWN,
        SEE_OTHER,
    ),
]
