"""The generated scene equals the registry's figures (fixed roof, tracker farm); the geometry
poses trackers with pvlib's angle; the GLB round-trips through trimesh."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest
import trimesh
from pvlib import location, tracking

from twins.export import glb_json, twin_gltf
from twins.generation import PlantConfigInvalid, twin_generate
from twins.geometry import PANEL_TYPES, twin_meshes

from .helpers import MODULE_420, MODULE_540, farm_configure, roof_configure

pytestmark = pytest.mark.django_db


def _panels(data):
    return [o for o in data["scene"]["objects"] if o["type"] == "solar_panel"]


def _distinct(values, decimals=3):
    return sorted(set(np.round(values, decimals).tolist()))


def test_fixed_roof_matches_the_registry(own_plant):
    roof_configure(own_plant)
    data = twin_generate(plant=own_plant)
    panels = _panels(data)
    assert len(panels) == 240
    dims = {tuple(sorted(p["dimensions"].items())) for p in panels}
    assert dims == {(("height", 0.03), ("length", 1.722), ("width", 1.134))}
    # rows run east-west (south-facing): one z per row, 3.444 m apart (1.722 m / GCR 0.5)
    z = _distinct([p["position"][2] for p in panels])
    assert len(z) == 6
    assert np.allclose(np.diff(z), MODULE_420["dimension_length_mm"] / 1000 / 0.5, atol=1e-3)
    assert data["scene"]["metadata"]["layout"]["row_pitch_m"] == pytest.approx(3.444)
    # 40 modules a row: 2 strings of 20
    assert {sum(1 for p in panels if p["metadata"]["row"] == r) for r in range(1, 7)} == {40}
    # tilted 20° towards the south (+z): the modules' normals
    meshes = twin_meshes(twin_data=data)
    normals = meshes.transforms[meshes.indices(PANEL_TYPES)][:, :3, 1]
    assert np.allclose(normals, [0, np.cos(np.radians(20)), np.sin(np.radians(20))], atol=1e-6)
    # each panel names its inverter, string box, string and position in the string
    first, last = panels[0]["metadata"], panels[-1]["metadata"]
    assert first["inverter"].endswith("-INV1") and first["position_in_string"] == 1 and first["string_in_inverter"] == 1
    assert last["inverter"].endswith("-INV2") and last["position_in_string"] == 20 and last["string_in_inverter"] == 6
    assert first["string_box"].endswith("-SMB11") and last["string_box"].endswith("-SMB22")
    assert {p["metadata"]["string"] for p in panels} == {
        f"{own_plant.plant_code}-INV{i}/S{s:03d}" for i in (1, 2) for s in range(1, 7)
    }
    kinds = [o["type"] for o in data["scene"]["objects"]]
    assert kinds.count("inverter") == 2 and kinds.count("string_box") == 4 and kinds.count("ground") == 1
    assert "x = east, y = up, z = south" in data["scene"]["metadata"]["frame"]


def test_tracker_farm_matches_the_registry_and_poses_with_pvlib(other_plant):
    farm_configure(other_plant)
    data = twin_generate(plant=other_plant)
    panels = _panels(data)
    assert len(panels) == 2340
    assert all(p["tracked"] for p in panels)
    assert panels[0]["dimensions"] == {"length": 2.256, "height": 0.035, "width": 1.133}
    # rows follow the N-S axes: one x per row, 2.256 m / 0.35 apart
    x = _distinct([p["position"][0] for p in panels])
    assert len(x) == 30
    assert np.allclose(np.diff(x), MODULE_540["dimension_length_mm"] / 1000 / 0.35, atol=1e-3)
    # stored flat; posed at 15:00 PDT on the solstice by pvlib's singleaxis angle
    at = datetime(2026, 6, 21, 22, 0, tzinfo=UTC)
    meshes = twin_meshes(twin_data=data, at=at)
    sun = location.Location(34.747, -118.332).get_solarposition(pd.DatetimeIndex([at]))
    expected = tracking.singleaxis(
        sun["apparent_zenith"], sun["azimuth"], axis_tilt=0, axis_azimuth=180, max_angle=60, backtrack=True, gcr=0.35
    )["tracker_theta"].iloc[0]
    assert meshes.pose["tracker_theta_deg"] == pytest.approx(expected, abs=1e-3)
    normal = meshes.transforms[meshes.indices(PANEL_TYPES)[0], :3, 1]
    theta = np.radians(meshes.pose["tracker_theta_deg"])
    assert np.allclose(normal, [-np.sin(theta), np.cos(theta), 0.0], atol=1e-6)  # towards the west (-x)
    flat = twin_meshes(twin_data=data)
    assert np.allclose(flat.transforms[flat.indices(PANEL_TYPES)[0], :3, 1], [0, 1, 0], atol=1e-5)
    # the world mesh maps every face back to its panel
    mesh, owner = meshes.world(PANEL_TYPES)
    assert len(mesh.faces) == 2340 * 12 and set(np.unique(owner)) == set(meshes.indices(PANEL_TYPES).tolist())


def test_glb_round_trips_through_trimesh(other_plant):
    farm_configure(other_plant, panels=780)
    meshes = twin_meshes(twin_data=twin_generate(plant=other_plant), at=datetime(2026, 6, 21, 17, tzinfo=UTC))
    glb = twin_gltf(meshes)
    loaded = trimesh.load(io.BytesIO(glb), file_type="glb")
    assert len(loaded.graph.nodes_geometry) == len(meshes)
    assert np.allclose(loaded.bounds, meshes.bounds, atol=1e-3)
    tree = glb_json(glb)
    assert tree["asset"]["version"] == "2.0"
    assert len(tree["meshes"]) == len(meshes.geometries)  # the module is stored once
    node = next(n for n in tree["nodes"] if n.get("name") == "panel-00001")
    assert node["extras"]["type"] == "solar_panel"
    assert {"inverter", "stringBox", "string", "positionInString", "row"} <= set(node["extras"]["metadata"])
    assert tree["scenes"][0]["extras"]["pose"]["trackerThetaDeg"] == meshes.pose["tracker_theta_deg"]


def test_a_registry_without_a_layout_is_a_400_naming_the_fields(own_plant):
    with pytest.raises(PlantConfigInvalid) as caught:
        twin_generate(plant=own_plant)
    assert {"panelSpecs", "panel_per_string"} <= set(caught.value.detail)
