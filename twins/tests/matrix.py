"""Matrix entries of the twins routes. Rights as the plant's devices: everybody who sees the
plant sees its twin (and its script, glTF and versions); installers and plant_admins change it
(the owner is read-only: 403); an invisible plant's twin is 404."""

from __future__ import annotations

from solarhub.testing.matrix import Route, everyone, expect
from twins.services import twin_create

from .helpers import roof_configure

SEE_OWN = expect(customer=200, installer=200, plant_admin=200, outsider=404)
SEE_OTHER = expect(customer=404, installer=404, plant_admin=200, outsider=200)


def _change(ok: int):
    return (
        expect(customer=403, installer=ok, plant_admin=ok, outsider=404),
        expect(customer=404, installer=404, plant_admin=ok, outsider=403),
    )


def small_scene(color: str = "#336699") -> dict:
    return {
        "scene": {
            "objects": [
                {
                    "type": "structure",
                    "shape": "box",
                    "position": [0, 1, 0],
                    "dimensions": {"length": 2, "width": 2, "height": 2},
                    "material": {"color": color},
                },
                {"type": "ground", "position": [0, -0.05, 0], "dimensions": {"length": 20, "width": 20, "height": 0.1}},
            ]
        }
    }


def _twin(w, t) -> int:
    """A twin on the target plant (made inside the request's rolled-back savepoint)."""
    return twin_create(plant=w.plants[t], by=None, twin_data=small_scene()).pk


def _generate_path(w, t) -> str:
    plant = w.plants[t]
    if not plant.panel_specs.exists():
        roof_configure(plant)
    return f"/api/plants/{plant.id}/digital-twin/generate"


MATRIX = [
    Route("api:digital-twin-list", "GET", lambda w, t: "/api/digital-twins", everyone(200) | {"anonymous": 401}),
    Route(
        "api:digital-twin-list",
        "POST",
        lambda w, t: "/api/digital-twins",
        # a plant you cannot see is an unknown plantId (400), as on every body naming a plant
        expect(customer=403, installer=201, plant_admin=201, outsider=400),
        expect(customer=400, installer=400, plant_admin=201, outsider=403),
        body=lambda w, t: {"plantId": w.plants[t].id, "name": "Matrix twin", "twinData": small_scene()},
    ),
    Route("api:digital-twin-detail", "GET", lambda w, t: f"/api/digital-twins/{_twin(w, t)}", SEE_OWN, SEE_OTHER),
    Route(
        "api:digital-twin-detail",
        "PUT",
        lambda w, t: f"/api/digital-twins/{_twin(w, t)}",
        *_change(200),
        body=lambda w, t: {"name": "Renamed", "twinData": small_scene("#aa0000")},
    ),
    Route(
        "api:digital-twin-detail",
        "PATCH",
        lambda w, t: f"/api/digital-twins/{_twin(w, t)}",
        *_change(200),
        body=lambda w, t: {"name": "Renamed"},
    ),
    Route("api:digital-twin-detail", "DELETE", lambda w, t: f"/api/digital-twins/{_twin(w, t)}", *_change(204)),
    Route(
        "api:digital-twin-versions",
        "GET",
        lambda w, t: f"/api/digital-twins/{_twin(w, t)}/versions",
        SEE_OWN,
        SEE_OTHER,
    ),
    Route(
        "api:digital-twin-script", "GET", lambda w, t: f"/api/digital-twins/{_twin(w, t)}/script", SEE_OWN, SEE_OTHER
    ),
    Route("api:digital-twin-gltf", "GET", lambda w, t: f"/api/digital-twins/{_twin(w, t)}/gltf", SEE_OWN, SEE_OTHER),
    Route(
        "api:plant-digital-twin-generate",
        "POST",
        _generate_path,
        *_change(201),
        body=lambda w, t: {"replaceObstacles": False},
    ),
]

# The viewer page (a template, not the API): a bearer token or a session; anonymous visitors
# are sent to the sign-in page.
MATRIX.append(
    Route(
        "twin-viewer",
        "GET",
        lambda w, t: f"/twins/{_twin(w, t)}/view",
        SEE_OWN | {"anonymous": 302},
        SEE_OTHER | {"anonymous": 302},
    )
)
