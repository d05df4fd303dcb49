"""The twins API over HTTP as the SPA sends it (camelCase JSON, a bearer token): create,
validate (400 with the JSON path of each problem, nothing saved), versions, regenerate with
obstacles, the R3F script (parsed by esbuild as JSX) and the glTF file."""

from __future__ import annotations

import io

import numpy as np
import pytest
import trimesh
from django.test import Client

from solarhub.testing.personas import api_client_for
from solarhub.testing.tools import jsx_parse
from twins.export import glb_json
from twins.models import DigitalTwin, DigitalTwinVersion
from twins.services import twin_create

from .helpers import farm_configure, roof_configure
from .matrix import small_scene

pytestmark = pytest.mark.django_db

OBSTACLE = {
    "type": "structure",
    "name": "Chimney",
    "position": [3, 1.5, -12],
    "dimensions": {"length": 0.8, "width": 0.8, "height": 3},
    "metadata": {"kind": "chimney"},
}


@pytest.fixture
def client(installer):
    return api_client_for(installer)


def _create(client, plant, scene=None):
    return client.post(
        "/api/digital-twins", {"plantId": plant.id, "name": "Roof", "twinData": scene or small_scene()}, format="json"
    )


def test_create_read_list_and_filter(client, customer, own_plant):
    created = _create(client, own_plant)
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["plantId"] == own_plant.id and body["version"] == 1 and body["objectCount"] == 2
    assert body["twinData"]["scene"]["objects"][0]["id"] == "object-1"  # ids given on save
    listed = api_client_for(customer).get(f"/api/digital-twins?plantId={own_plant.id}")
    assert listed.status_code == 200 and [t["id"] for t in listed.json()] == [body["id"]]
    assert "twinData" not in listed.json()[0]
    assert api_client_for(customer).get("/api/digital-twins?plantId=999999").json() == []
    again = _create(client, own_plant)
    assert again.status_code == 409 and again.json()["error_code"] == "TWIN_EXISTS"


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (lambda o: o.update(type="spaceship"), "twinData.scene.objects[0].type"),
        (lambda o: o.update(position=[0, "high", 0]), "twinData.scene.objects[0].position[1]"),
        (lambda o: o["dimensions"].update(height=-2), "twinData.scene.objects[0].dimensions.height"),
        (lambda o: o.update(colour="red"), "twinData.scene.objects[0].colour"),
        (lambda o: o.pop("position"), "twinData.scene.objects[0].position"),
        (lambda o: o["material"].update(color="javascript:alert(1)"), "twinData.scene.objects[0].material.color"),
    ],
)
def test_a_bad_scene_is_a_400_naming_the_path_and_nothing_is_saved(client, own_plant, change, path):
    scene = small_scene()
    change(scene["scene"]["objects"][0])
    response = _create(client, own_plant, scene)
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["error_code"] == "VALIDATION_ERROR"
    assert path in body["errors"], body["errors"]
    assert not DigitalTwin.objects.exists()


def test_nan_and_every_problem_are_reported_at_once(client, own_plant):
    twin_id = _create(client, own_plant).json()["id"]
    body = (
        '{"twinData": {"scene": {"objects": [{"type": "ground", "position": [NaN, 0, 0], '
        '"dimensions": {"length": 1, "width": 1, "height": 1}}, {"type": "tree", "position": [0, 0, 0], '
        '"dimensions": {"length": -1, "width": 1, "height": 1}}]}}}'
    )
    response = client.put(f"/api/digital-twins/{twin_id}", body, content_type="application/json")
    assert response.status_code == 400
    assert "twinData.scene.objects[0].position[0]" in response.json()["errors"]
    response = client.put(
        f"/api/digital-twins/{twin_id}",
        {
            "twinData": {
                "scene": {
                    "objects": [
                        {"type": "tree", "position": [0, 0, 0], "dimensions": {"length": -1, "width": 1, "height": 1}}
                    ]
                }
            }
        },
        format="json",
    )
    assert set(response.json()["errors"]) == {
        "twinData.scene.objects[0].type",
        "twinData.scene.objects[0].dimensions.length",
    }
    assert DigitalTwin.objects.get().version == 1


def test_a_scene_over_the_size_limit_is_a_400(client, own_plant, settings):
    settings.TWIN_MAX_OBJECTS = 100
    scene = {"scene": {"objects": [small_scene()["scene"]["objects"][0]] * 101}}
    response = _create(client, own_plant, scene)
    assert response.status_code == 400
    assert "at most 100 objects" in response.json()["errors"]["twinData.scene.objects"][0]
    assert not DigitalTwin.objects.exists()


def test_every_save_is_a_version_and_at_least_20_are_kept(client, own_plant):
    twin_id = _create(client, own_plant).json()["id"]
    for i in range(24):
        response = client.patch(
            f"/api/digital-twins/{twin_id}", {"twinData": small_scene(f"#0000{i:02d}")}, format="json"
        )
        assert response.status_code == 200, response.content
    assert response.json()["version"] == 25
    versions = client.get(f"/api/digital-twins/{twin_id}/versions").json()
    assert [v["version"] for v in versions] == list(range(25, 5, -1))  # the last 20
    assert versions[0]["reason"] == "update" and versions[0]["objectCount"] == 2
    # an older scene is still exportable by its number; a pruned one is a 404
    old = client.get(f"/api/digital-twins/{twin_id}/script?version=6")
    assert old.status_code == 200 and old.json()["version"] == 6 and "#000004" in old.json()["script"]
    assert client.get(f"/api/digital-twins/{twin_id}/script?version=5").status_code == 404
    # a rename alone is not a new scene
    assert client.patch(f"/api/digital-twins/{twin_id}", {"name": "New"}, format="json").json()["version"] == 25
    assert DigitalTwinVersion.objects.count() == 20


def test_generate_keeps_user_obstacles_unless_replaced(client, own_plant):
    roof_configure(own_plant)
    url = f"/api/plants/{own_plant.id}/digital-twin/generate"
    first = client.post(url, {"obstacles": [OBSTACLE]}, format="json")
    assert first.status_code == 201, first.content
    assert first.json()["panelCount"] == 240
    chimney = [o for o in first.json()["twinData"]["scene"]["objects"] if o.get("name") == "Chimney"]
    assert chimney and chimney[0]["generated"] is False and chimney[0]["metadata"] == {"kind": "chimney"}
    again = client.post(url, {}, format="json")
    assert again.status_code == 200 and again.json()["version"] == 2
    assert any(o.get("name") == "Chimney" for o in again.json()["twinData"]["scene"]["objects"])
    replaced = client.post(url, {"replaceObstacles": True}, format="json")
    assert not any(o["type"] == "structure" for o in replaced.json()["twinData"]["scene"]["objects"])
    bad = client.post(url, {"obstacles": [{**OBSTACLE, "position": [1, 2]}]}, format="json")
    assert bad.status_code == 400 and "obstacles[0].position" in bad.json()["errors"]
    assert DigitalTwin.objects.get().version == 3


def test_generate_without_a_layout_names_the_registry_fields(client, own_plant):
    response = client.post(f"/api/plants/{own_plant.id}/digital-twin/generate", {}, format="json")
    assert response.status_code == 400
    assert response.json()["error_code"] == "PLANT_CONFIG_INVALID"
    assert "panelPerString" in response.json()["errors"]


def test_script_is_a_react_three_fiber_component_that_parses_as_jsx(client, customer, own_plant):
    roof_configure(own_plant)
    twin = client.post(f"/api/plants/{own_plant.id}/digital-twin/generate", {"obstacles": [OBSTACLE]}, format="json")
    response = api_client_for(customer).get(f"/api/digital-twins/{twin.json()['id']}/script")
    assert response.status_code == 200
    body = response.json()
    assert (body["twinId"], body["plantId"]) == (twin.json()["id"], own_plant.id)
    script = body["script"]
    assert "<instancedMesh" in script and "<mesh " not in script  # 240 panels are one instanced mesh
    assert "export default function DigitalTwinScene" in script
    parsed = jsx_parse(script)
    assert parsed.returncode == 0, parsed.stderr
    assert "jsx(" in parsed.stdout  # the JSX became calls


def test_gltf_download_round_trips(client, customer, other_plant, plant_admin):
    farm_configure(other_plant, panels=780)
    admin = api_client_for(plant_admin)
    twin_id = admin.post(f"/api/plants/{other_plant.id}/digital-twin/generate", {}, format="json").json()["id"]
    response = admin.get(f"/api/digital-twins/{twin_id}/gltf?at=2026-06-21T17:00:00Z")
    assert response.status_code == 200
    assert response["Content-Type"] == "model/gltf-binary"
    loaded = trimesh.load(io.BytesIO(response.content), file_type="glb")
    twin = DigitalTwin.objects.get(pk=twin_id)
    assert len(loaded.graph.nodes_geometry) == twin.object_count
    extras = glb_json(response.content)["scenes"][0]["extras"]
    assert extras["pose"]["sunUp"] is True and extras["pose"]["trackerThetaDeg"] < 0  # morning: towards the east
    flat = admin.get(f"/api/digital-twins/{twin_id}/gltf")
    assert not np.allclose(trimesh.load(io.BytesIO(flat.content), file_type="glb").bounds, loaded.bounds)
    as_json = admin.get(f"/api/digital-twins/{twin_id}/gltf?format=gltf")
    assert as_json.status_code == 200 and as_json["Content-Type"] == "model/gltf+json"
    assert as_json.content.startswith(b"{")
    for query, name in (("format=obj", "format"), ("at=yesterday", "at"), ("version=x", "version"), ("zoom=2", "zoom")):
        bad = admin.get(f"/api/digital-twins/{twin_id}/gltf?{query}")
        assert bad.status_code == 400, (query, bad.content)
        assert bad["Content-Type"].startswith("application/json") and name in bad.json()["errors"]
    assert api_client_for(customer).get(f"/api/digital-twins/{twin_id}/gltf").status_code == 404


def test_admin_lists_twins_with_versions_and_a_viewer_link(plant_admin, own_plant):
    twin = twin_create(plant=own_plant, by=None, twin_data=small_scene())
    browser = Client(SERVER_NAME="localhost")
    browser.force_login(plant_admin)
    page = browser.get("/admin/twins/digitaltwin/")
    assert page.status_code == 200 and f"/twins/{twin.pk}/view" in page.content.decode()
    assert browser.get(f"/admin/twins/digitaltwin/{twin.pk}/change/").status_code == 200
    assert browser.get("/admin/twins/digitaltwin/add/").status_code == 403
