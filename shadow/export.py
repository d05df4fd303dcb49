"""The twin's glTF with each panel coloured by its shading loss (vertex colours, ``COLOR_0``):
the run's own twin version, the other objects as ``twins.export`` writes them."""

from __future__ import annotations

import numpy as np
import trimesh
from matplotlib import colormaps

from twins.export import gltf_scene
from twins.geometry import PANEL_TYPES, TwinMeshes


def loss_colors(values: np.ndarray) -> np.ndarray:
    """RGBA uint8 per value (0 → pale, the maximum → dark red; ``inferno_r``)."""
    top = float(values.max()) if len(values) and values.max() > 0 else 1.0
    return (colormaps["inferno_r"](np.clip(values / top, 0, 1) * 0.85) * 255).round().astype(np.uint8)


def loss_glb(meshes: TwinMeshes, *, loss_pct: dict[str, float], run_id: int) -> bytes:
    """GLB of the scene: every non-panel object as exported for the viewer, the panels merged
    into one mesh whose vertices carry their panel's loss colour; ``extras`` of that node list the
    panel ids and losses in the order of the colours' scale."""
    panels = meshes.indices(PANEL_TYPES)
    others = np.setdiff1d(np.arange(len(meshes)), panels)
    rest = TwinMeshes(
        geometries={meshes.keys[i]: meshes.geometries[meshes.keys[i]] for i in others},
        ids=[meshes.ids[i] for i in others],
        types=[meshes.types[i] for i in others],
        names=[meshes.names[i] for i in others],
        keys=[meshes.keys[i] for i in others],
        transforms=meshes.transforms[others] if len(others) else np.zeros((0, 4, 4)),
        metadata=[meshes.metadata[i] for i in others],
        materials=meshes.materials,
        scene_metadata=meshes.scene_metadata,
    )
    scene = gltf_scene(rest)
    world, owner = meshes.world(PANEL_TYPES)
    if len(world.faces):
        values = np.array([loss_pct.get(meshes.ids[i], 0.0) for i in range(len(meshes))])
        vertex_owner = np.zeros(len(world.vertices), dtype=int)
        vertex_owner[world.faces.ravel()] = np.repeat(owner, 3)
        colors = loss_colors(values[panels])
        lookup = np.zeros((len(meshes), 4), dtype=np.uint8)
        lookup[panels] = colors
        world.visual = trimesh.visual.ColorVisuals(mesh=world, vertex_colors=lookup[vertex_owner])
        scene.add_geometry(
            world,
            node_name="panels-by-shading-loss",
            geom_name="panels-by-shading-loss",
            metadata={"shadowRunId": run_id, "unit": "% of unshaded energy",
                      "maxLossPct": round(float(values[panels].max()), 3)},
        )  # fmt: skip
    return trimesh.exchange.gltf.export_glb(scene, include_normals=True)
