"""glTF 2.0 export of a twin, from :func:`twins.geometry.twin_meshes` (the shadow analysis's
geometry, the same objects and transforms).

One glTF node per scene object, named by its ``id``, its ``extras`` the object's ``type``,
``name`` and camelCase ``metadata`` (three.js: ``userData``; a panel names its inverter, string
and position in the string). Objects of one shape, size and colour reference one glTF mesh, so
a module's vertices are stored once however many panels there are (nodes, not copies; the
viewer draws them as one InstancedMesh). The scene's ``extras`` carry the frame, the plant, the
pose and the layout. Axes: the scene's x = east, y = up, z = south are glTF's X, Y (up), Z.
"""

from __future__ import annotations

import json

import numpy as np
import trimesh
from trimesh.visual.material import PBRMaterial

from solarhub.api.renderers import camelize

from .choices import GltfFormat
from .geometry import TwinMeshes


def _color(hex_color: str, opacity: float) -> list[int]:
    value = hex_color.lstrip("#")
    return [int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16), round(255 * opacity)]


def gltf_scene(meshes: TwinMeshes, *, twin_id: int | None = None) -> trimesh.Scene:
    """A trimesh scene of ``meshes``: shared geometries, one node per object with extras."""
    scene = trimesh.Scene(base_frame="world")
    for key, local in meshes.geometries.items():
        material = meshes.materials.get(key) or {}
        mesh = local.copy()
        mesh.visual = trimesh.visual.TextureVisuals(
            material=PBRMaterial(
                name=key,
                baseColorFactor=_color(material.get("color", "#888888"), material.get("opacity", 1.0)),
                metallicFactor=float(material.get("metalness", 0.0)),
                roughnessFactor=float(material.get("roughness", 0.5)),
                alphaMode="BLEND" if material.get("opacity", 1.0) < 1 else "OPAQUE",
            )
        )
        scene.geometry[key] = mesh
    graph = scene.graph
    for index, node in enumerate(meshes.ids):
        extras = {"type": meshes.types[index], "id": node, "metadata": camelize(meshes.metadata[index])}
        if meshes.names[index]:
            extras["name"] = meshes.names[index]
        graph.update(
            frame_from="world",
            frame_to=node,
            matrix=meshes.transforms[index],
            geometry=meshes.keys[index],
            metadata=extras,
        )
    scene.metadata = camelize(
        {
            "frame": meshes.frame,
            "twin_id": twin_id,
            "plant_id": meshes.scene_metadata.get("plant_id"),
            "origin": meshes.scene_metadata.get("origin"),
            "mounting": meshes.scene_metadata.get("mounting"),
            "layout": meshes.scene_metadata.get("layout"),
            "pose": meshes.pose,
            "object_count": len(meshes),
        }
    )
    return scene


def twin_gltf(meshes: TwinMeshes, *, fmt: str = GltfFormat.GLB, twin_id: int | None = None) -> bytes:
    """The GLB (binary) or glTF (JSON, buffers embedded as data URIs) file of ``meshes``."""
    scene = gltf_scene(meshes, twin_id=twin_id)
    if fmt == GltfFormat.GLTF:
        files = trimesh.exchange.gltf.export_gltf(scene, embed_buffers=True, include_normals=True)
        return files["model.gltf"]
    return trimesh.exchange.gltf.export_glb(scene, include_normals=True)


def glb_json(data: bytes) -> dict:
    """The JSON chunk of a GLB file (tests and tools: node names, extras)."""
    length = int(np.frombuffer(data[12:16], dtype="<u4")[0])
    return json.loads(data[20 : 20 + length])
