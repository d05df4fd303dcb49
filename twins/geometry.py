"""The one geometry of a twin: trimesh meshes built from the stored scene, posed at an instant.

:func:`twin_meshes` is what every consumer uses — the glTF export (:mod:`twins.export`) and the
shadow analysis that ray-casts against it — so the web and the analysis see the same geometry.
Objects of the same shape and size share one local mesh (a module is one mesh for 20,000
panels); each object keeps its 4x4 transform and metadata. :meth:`TwinMeshes.world` merges
objects into one world-space mesh with a face → object index, the form a ray caster wants.

Frame: the scene's (x = east, y = up, z = south, metres; see ``twins.generation.FRAME``), which is
glTF's (Y up) as it is: no axis conversion anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
import trimesh
from scipy.spatial.transform import Rotation

from .choices import ObjectType, Shape
from .generation import FRAME, tracker_panel_bases

_Y_UP = trimesh.transformations.rotation_matrix(-np.pi / 2, [1, 0, 0])  # trimesh's z axis → y


@dataclass
class TwinMeshes:
    """Objects of one scene: ``geometries[key]`` (local meshes, shared), and per object
    ``ids``, ``types``, ``keys`` (its geometry), ``transforms`` (n, 4, 4), ``metadata``,
    ``colors``. ``pose`` says when trackers were posed (``None``: as stored)."""

    geometries: dict[str, trimesh.Trimesh]
    ids: list[str]
    types: list[str]
    names: list[str | None]
    keys: list[str]
    transforms: np.ndarray
    metadata: list[dict]
    materials: dict[str, dict]
    scene_metadata: dict = field(default_factory=dict)
    pose: dict | None = None
    frame: str = FRAME

    def __len__(self) -> int:
        return len(self.ids)

    def indices(self, types: set[str] | None = None) -> np.ndarray:
        if types is None:
            return np.arange(len(self.ids))
        return np.array([i for i, kind in enumerate(self.types) if kind in types], dtype=int)

    def world(self, types: set[str] | None = None) -> tuple[trimesh.Trimesh, np.ndarray]:
        """One world-space mesh of the objects of ``types`` (all by default) and, per face, the
        index of its object in this collection (``ids[i]``, ``metadata[i]``)."""
        chosen = self.indices(types)
        vertices, faces, owner = [], [], []
        offset = 0
        for key in dict.fromkeys(self.keys[i] for i in chosen):
            members = chosen[[self.keys[i] == key for i in chosen]]
            local = self.geometries[key]
            homogeneous = np.hstack([local.vertices, np.ones((len(local.vertices), 1))])
            placed = np.einsum("nij,vj->nvi", self.transforms[members], homogeneous)[..., :3]
            count = len(local.vertices)
            vertices.append(placed.reshape(-1, 3))
            faces.append(
                (local.faces[None, :, :] + (offset + np.arange(len(members)) * count)[:, None, None]).reshape(-1, 3)
            )
            owner.append(np.repeat(members, len(local.faces)))
            offset += count * len(members)
        if not vertices:
            return trimesh.Trimesh(), np.zeros(0, dtype=int)
        mesh = trimesh.Trimesh(vertices=np.vstack(vertices), faces=np.vstack(faces), process=False)
        return mesh, np.concatenate(owner)

    @property
    def bounds(self) -> np.ndarray:
        mesh, _ = self.world()
        return mesh.bounds


def _local_mesh(shape: str, dims: dict) -> trimesh.Trimesh:
    if shape == Shape.CYLINDER:
        return trimesh.creation.cylinder(radius=dims["radius"], height=dims["height"], sections=24).apply_transform(
            _Y_UP
        )
    if shape == Shape.CONE:
        cone = trimesh.creation.cone(radius=dims["radius"], height=dims["height"], sections=24)
        cone.apply_translation([0, 0, -dims["height"] / 2])  # centred like three.js's ConeGeometry
        return cone.apply_transform(_Y_UP)
    return trimesh.creation.box(extents=[dims["length"], dims["height"], dims["width"]])


def _geometry_key(obj: dict) -> tuple[str, str]:
    shape = obj.get("shape") or Shape.BOX.value
    dims = obj["dimensions"]
    if shape in (Shape.CYLINDER, Shape.CONE):
        size = f"r{dims['radius']:g}h{dims['height']:g}"
    else:
        size = f"{dims['length']:g}x{dims['height']:g}x{dims['width']:g}"
    material = obj.get("material") or {}
    return shape, f"{obj['type']}-{shape}-{size}-{material.get('color', '#888888')[1:]}"


def tracker_angles(*, mounting: dict, latitude: float, longitude: float, elevation: float | None, at: datetime) -> dict:
    """pvlib's single-axis rotation at ``at`` for the scene's mounting (0 when the sun is down)."""
    import pandas as pd  # noqa: PLC0415 -- pandas and pvlib load only when a tracker is posed
    from pvlib import location, tracking  # noqa: PLC0415

    when = pd.DatetimeIndex([at.astimezone(UTC)])
    sun = location.Location(latitude, longitude, altitude=elevation or 0.0).get_solarposition(when)
    angles = tracking.singleaxis(
        sun["apparent_zenith"],
        sun["azimuth"],
        axis_tilt=mounting.get("axis_tilt", 0.0),
        axis_azimuth=mounting["axis_azimuth"],
        max_angle=mounting.get("max_angle", 60.0),
        backtrack=mounting.get("backtrack", True),
        gcr=mounting.get("gcr", 2.0 / 7.0),
    )
    theta = float(angles["tracker_theta"].iloc[0])
    up = not np.isnan(theta)
    return {
        "at": at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "tracker_theta_deg": round(theta, 4) if up else 0.0,
        "sun_up": up,
        "solar_zenith_deg": round(float(sun["apparent_zenith"].iloc[0]), 4),
        "solar_azimuth_deg": round(float(sun["azimuth"].iloc[0]), 4),
    }


def twin_meshes(*, twin=None, twin_data: dict | None = None, at: datetime | None = None) -> TwinMeshes:
    """The meshes of ``twin`` (or of ``twin_data``), with single-axis trackers turned by pvlib's
    angle for ``at`` when given (objects marked ``tracked``; as stored otherwise)."""
    data = twin_data if twin_data is not None else twin.twin_data
    scene = data["scene"]
    objects = scene["objects"]
    meta = scene.get("metadata") or {}
    count = len(objects)
    positions = np.array([o["position"] for o in objects], dtype=float).reshape(count, 3)
    eulers = np.array([o.get("rotation") or (0.0, 0.0, 0.0) for o in objects], dtype=float).reshape(count, 3)
    scales = np.array([o.get("scale") or (1.0, 1.0, 1.0) for o in objects], dtype=float).reshape(count, 3)
    rotations = Rotation.from_euler("XYZ", eulers).as_matrix() if count else np.zeros((0, 3, 3))

    pose = None
    mounting = meta.get("mounting") or {}
    tracked = np.array([bool(o.get("tracked")) for o in objects], dtype=bool)
    if at is not None and tracked.any() and mounting.get("type") == "single_axis":
        origin = meta.get("origin") or {}
        latitude, longitude = origin.get("latitude"), origin.get("longitude")
        if (latitude is None or longitude is None) and twin is not None:
            latitude, longitude = twin.plant.latitude, twin.plant.longitude
        pose = tracker_angles(
            mounting=mounting, latitude=latitude, longitude=longitude, elevation=origin.get("elevation_m"), at=at
        )
        basis = tracker_panel_bases(
            np.array([pose["tracker_theta_deg"]]),
            axis_azimuth=mounting["axis_azimuth"],
            axis_tilt=mounting.get("axis_tilt", 0.0),
        )[0]
        rotations[tracked] = basis  # module centres sit on the axis: positions stay

    transforms = np.zeros((count, 4, 4))
    transforms[:, :3, :3] = rotations * scales[:, None, :]
    transforms[:, :3, 3] = positions
    transforms[:, 3, 3] = 1.0

    geometries: dict[str, trimesh.Trimesh] = {}
    materials: dict[str, dict] = {}
    keys = []
    for obj in objects:
        shape, key = _geometry_key(obj)
        if key not in geometries:
            geometries[key] = _local_mesh(shape, obj["dimensions"])
            materials[key] = obj.get("material") or {}
        keys.append(key)
    return TwinMeshes(
        geometries=geometries,
        ids=[o.get("id") or f"object-{i + 1}" for i, o in enumerate(objects)],
        types=[o["type"] for o in objects],
        names=[o.get("name") for o in objects],
        keys=keys,
        transforms=transforms,
        metadata=[o.get("metadata") or {} for o in objects],
        materials=materials,
        scene_metadata=meta,
        pose=pose,
    )


PANEL_TYPES = {ObjectType.SOLAR_PANEL.value}
OBSTACLE_TYPES = {ObjectType.STRUCTURE.value}
