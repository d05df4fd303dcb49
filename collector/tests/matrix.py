"""Matrix entries of the collector routes: seeing the config follows the device; changing it
and test-polling need device rights (installer, plant admin; the owner is read-only)."""

from collector.models import CollectionConfig
from collector.simulator import free_port
from solarhub.testing.matrix import Route, expect

SEE_OWN = expect(customer=200, installer=200, plant_admin=200, outsider=404)
SEE_OTHER = expect(customer=404, installer=404, plant_admin=200, outsider=200)
CHANGE = (
    expect(customer=403, installer=200, plant_admin=200, outsider=404),
    expect(customer=404, installer=404, plant_admin=200, outsider=403),
)


def _path(w, t, suffix=""):
    return f"/api/devices/{w.devices[t].id}/collection{suffix}"


def _config_body(w, t):
    # A closed port on loopback: the test poll fails at once (connection refused), answering 200.
    return {"driver": "sunspec_modbus_tcp", "host": "127.0.0.1", "port": free_port(), "timeoutSeconds": 1}


def _existing(w, t):
    """PATCH needs a config: made inside the request's rolled-back savepoint."""
    CollectionConfig.objects.get_or_create(
        device=w.devices[t], defaults={"driver": "sunspec_modbus_tcp", "host": "127.0.0.1", "port": 502}
    )
    return {"pollIntervalSeconds": 600}


MATRIX = [
    Route("api:device-collection", "GET", _path, SEE_OWN, SEE_OTHER),
    Route("api:device-collection", "PUT", _path, *CHANGE, body=_config_body),
    Route("api:device-collection", "PATCH", _path, *CHANGE, body=_existing),
    Route("api:device-collection-test", "POST", lambda w, t: _path(w, t, "/test"), *CHANGE, body=_config_body),
]
