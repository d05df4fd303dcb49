"""Ray casting on the twin's geometry (:func:`twins.geometry.twin_meshes`), vectorised with numpy.

* :func:`panel_samples` — a grid of sample points on each module's front face (local frame of
  ``twins.generation``: x up the slope / across the tracker axis, y the normal, z along the row).
* :func:`obstacle_shading` — the fast path: for every obstacle only the (panel, time step) pairs
  whose sun direction falls inside the obstacle's angular window as seen from the panel and below
  its top (the "shadow reach", H / tan(elevation)) get rays; boxes are intersected exactly with a
  slab test in the box's own frame, other shapes with Möller-Trumbore on their mesh triangles.
* :func:`mesh_blocked` — any-hit of rays against a whole mesh (Embree through trimesh when
  ``embreex`` is installed, else numpy Möller-Trumbore in chunks); the general ray caster used by
  the ``raycast`` row model (panels shading panels) and by the accuracy tests.

Frame: x = east, y = up, z = south (the scene's, see ``twins.generation.FRAME``).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import trimesh

from twins.geometry import TwinMeshes

EMBREE = importlib.util.find_spec("embreex") is not None
EPS = 1e-6
PAIR_CHUNK = 400_000  # rays tested at once (bounded memory)


def sun_vectors(elevation_deg: np.ndarray, azimuth_deg: np.ndarray) -> np.ndarray:
    """Unit vectors toward the sun (T, 3) in the scene frame."""
    el, az = np.radians(elevation_deg), np.radians(azimuth_deg)
    return np.column_stack([np.cos(el) * np.sin(az), np.sin(el), -np.cos(el) * np.cos(az)])


@dataclass(frozen=True)
class Samples:
    """``local`` (S, 3) offsets on the front face of a module (local frame); ``cell`` (S,) the
    index along the slope, ``across`` (S,) the index along the module's width."""

    local: np.ndarray
    along_slope: np.ndarray
    across: np.ndarray
    grid: tuple[int, int]


def panel_samples(*, length: float, depth: float, width: float, grid: tuple[int, int]) -> Samples:
    """Cell-centred ``grid`` = (along the slope, across the width) points on the front face."""
    nx, nz = grid
    i, j = np.meshgrid(np.arange(nx), np.arange(nz), indexing="ij")
    i, j = i.ravel(), j.ravel()
    local = np.column_stack(
        [((i + 0.5) / nx - 0.5) * length, np.full(i.shape, depth / 2), ((j + 0.5) / nz - 0.5) * width]
    )
    return Samples(local=local, along_slope=i, across=j, grid=(nx, nz))


def _ranges(starts: np.ndarray, stops: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Concatenated ``arange(start, stop)`` per row: (row index, value) arrays."""
    counts = np.maximum(stops - starts, 0)
    rows = np.repeat(np.arange(len(starts)), counts)
    if not len(rows):
        return rows, rows
    offsets = np.arange(len(rows)) - np.repeat(np.cumsum(counts) - counts, counts)
    return rows, starts[rows] + offsets


def _slab_hits(origins: np.ndarray, directions: np.ndarray, inverse: np.ndarray, half: np.ndarray) -> np.ndarray:
    """Rays (world) against one box given by its inverse transform and half extents."""
    o = origins @ inverse[:3, :3].T + inverse[:3, 3]
    d = directions @ inverse[:3, :3].T
    with np.errstate(divide="ignore", invalid="ignore"):
        inv = 1.0 / np.where(np.abs(d) < 1e-12, 1e-12, d)
        t1, t2 = (-half - o) * inv, (half - o) * inv
    near = np.minimum(t1, t2).max(axis=1)
    far = np.maximum(t1, t2).min(axis=1)
    return (far >= np.maximum(near, EPS)) & (far > EPS)


def triangles_hit(origins: np.ndarray, directions: np.ndarray, triangles: np.ndarray) -> np.ndarray:
    """Any-hit of rays (m, 3) against triangles (k, 3, 3): Möller-Trumbore, t > EPS."""
    hit = np.zeros(len(origins), dtype=bool)
    if not len(triangles) or not len(origins):
        return hit
    v0, e1, e2 = triangles[:, 0], triangles[:, 1] - triangles[:, 0], triangles[:, 2] - triangles[:, 0]
    step = max(1, PAIR_CHUNK // max(1, len(triangles)))
    for lo in range(0, len(origins), step):
        o, d = origins[lo : lo + step, None, :], directions[lo : lo + step, None, :]
        p = np.cross(d, e2[None])
        det = np.einsum("rkj,kj->rk", p, e1)
        ok = np.abs(det) > 1e-12
        inv = np.where(ok, 1.0 / np.where(ok, det, 1.0), 0.0)
        s = o - v0[None]
        u = np.einsum("rkj,rkj->rk", s, p) * inv
        q = np.cross(s, e1[None])
        v = np.einsum("rkj,rkj->rk", np.broadcast_to(d, q.shape), q) * inv
        t = np.einsum("kj,rkj->rk", e2, q) * inv
        inside = ok & (u >= 0) & (v >= 0) & (u + v <= 1) & (t > EPS)
        hit[lo : lo + step] = inside.any(axis=1)
    return hit


def mesh_blocked(mesh: trimesh.Trimesh, origins: np.ndarray, directions: np.ndarray) -> np.ndarray:
    """Whether each ray (origin, direction) hits ``mesh`` (Embree when available)."""
    if not len(mesh.faces) or not len(origins):
        return np.zeros(len(origins), dtype=bool)
    if EMBREE:  # pragma: no cover - embreex is optional (no wheel on some platforms)
        from trimesh.ray.ray_pyembree import RayMeshIntersector  # noqa: PLC0415 -- optional dependency

        return RayMeshIntersector(mesh).intersects_any(origins + directions * 1e-5, directions)
    return triangles_hit(origins, directions, mesh.triangles)


def _azimuths(dx: np.ndarray, dz: np.ndarray) -> np.ndarray:
    """Compass azimuth (deg, clockwise from north) of horizontal vectors (x east, z south)."""
    return np.degrees(np.arctan2(dx, -dz)) % 360.0


@dataclass(frozen=True)
class Obstacle:
    index: int  # in the TwinMeshes
    box: bool
    inverse: np.ndarray  # world → local (4, 4)
    half: np.ndarray  # half extents of the local box
    triangles: np.ndarray  # world triangles (k, 3, 3)
    centre: np.ndarray
    radius: float  # horizontal bounding radius
    top: float


def obstacles_of(meshes: TwinMeshes, indices: np.ndarray) -> list[Obstacle]:
    result = []
    for index in indices:
        key = meshes.keys[index]
        local = meshes.geometries[key]
        transform = meshes.transforms[index]
        world = local.copy().apply_transform(transform)
        lo, hi = world.bounds
        centre = (lo + hi) / 2
        shape_box = len(local.faces) == 12 and np.allclose(local.bounds[0], -local.bounds[1])
        result.append(
            Obstacle(
                index=int(index),
                box=bool(shape_box),
                inverse=np.linalg.inv(transform),
                half=np.abs(local.bounds[1]),
                triangles=world.triangles,
                centre=centre,
                radius=float(np.hypot(hi[0] - lo[0], hi[2] - lo[2]) / 2),
                top=float(hi[1]),
            )
        )
    return result


def obstacle_shading(
    *,
    obstacles: list[Obstacle],
    centres: np.ndarray,
    reach_margin: float,
    origins_for: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray],
    samples: int,
    elevation: np.ndarray,
    azimuth: np.ndarray,
    sun: np.ndarray,
    progress: Callable[[float], None] | None = None,
) -> tuple[np.ndarray, int]:
    """Shaded samples (T, P, S) by obstacles, and the number of rays cast.

    ``centres`` (P, 3) are the panel centres; ``reach_margin`` bounds how far a sample point lies
    from its panel's centre (whatever the tracker rotation); ``origins_for(panel, step, sample)``
    gives the world points of index arrays. Per obstacle, a panel gets rays only at steps whose sun
    azimuth lies within the obstacle's angular half-width seen from the panel and whose elevation
    is below the angle to the obstacle's top — the shadow's reach — found with one sort of the sun
    azimuths and a binary search per panel, never a (T x P) scan."""
    steps, panels = len(elevation), len(centres)
    shaded = np.zeros((steps, panels, samples), dtype=bool)
    if not steps or not panels or not obstacles:
        return shaded, 0
    order = np.argsort(azimuth, kind="stable")
    sorted_az = azimuth[order]
    extended = np.concatenate([sorted_az - 360.0, sorted_az, sorted_az + 360.0])
    extended_index = np.concatenate([order, order, order])
    rays = 0
    for number, ob in enumerate(obstacles):
        dx, dz = ob.centre[0] - centres[:, 0], ob.centre[2] - centres[:, 2]
        distance = np.hypot(dx, dz)
        clearance = distance - ob.radius - reach_margin
        rise = ob.top - (centres[:, 1] - reach_margin)
        candidates = np.flatnonzero(rise > 0)
        if not len(candidates):
            continue
        near = clearance[candidates] <= 0
        spread = (ob.radius + reach_margin) / np.maximum(distance[candidates], EPS)
        half_width = np.where(near, 180.0, np.degrees(np.arcsin(np.clip(spread, 0, 1))))
        max_elevation = np.where(
            near, 90.0, np.degrees(np.arctan2(rise[candidates], np.maximum(clearance[candidates], EPS)))
        )
        centre_az = _azimuths(dx[candidates], dz[candidates])
        lo = np.searchsorted(extended, centre_az - half_width, side="left")
        hi = np.searchsorted(extended, centre_az + half_width, side="right")
        full = half_width >= 180.0
        lo = np.where(full, steps, lo)
        hi = np.where(full, 2 * steps, hi)
        rows, positions = _ranges(lo, hi)
        panel_idx = candidates[rows]
        step_idx = extended_index[positions]
        keep = elevation[step_idx] <= max_elevation[rows]
        panel_idx, step_idx = panel_idx[keep], step_idx[keep]
        if len(panel_idx):
            pairs = len(panel_idx)
            panel_rep = np.repeat(panel_idx, samples)
            step_rep = np.repeat(step_idx, samples)
            sample_rep = np.tile(np.arange(samples), pairs)
            for start in range(0, len(panel_rep), PAIR_CHUNK):
                part = slice(start, start + PAIR_CHUNK)
                p, t, s = panel_rep[part], step_rep[part], sample_rep[part]
                origins = origins_for(p, t, s)
                directions = sun[t]
                if ob.box:
                    hits = _slab_hits(origins, directions, ob.inverse, ob.half)
                else:
                    hits = triangles_hit(origins, directions, ob.triangles)
                shaded[t[hits], p[hits], s[hits]] = True
                rays += len(p)
        if progress is not None:
            progress((number + 1) / len(obstacles))
    return shaded, rays


def horizon_profile(
    *,
    obstacles: list[Obstacle],
    centres: np.ndarray,
    points: np.ndarray,
    margin: float,
    bins: int = 36,
    step: float = 2,
) -> np.ndarray:
    """Per panel, the elevation (deg) of the obstacles' skyline in ``bins`` azimuth sectors seen
    from ``points`` (P, 3; the module's front-face centre): rays at the sector's middle azimuth and
    every ``step`` degrees of elevation through the same reach-limited caster as the sun's, the
    highest blocked one per sector (0 where nothing stands) - the near-horizon profile, a by-product."""
    azimuth = (np.arange(bins) + 0.5) * 360.0 / bins
    elevation = np.arange(step / 2, 90.0, step)
    az, el = np.repeat(azimuth, len(elevation)), np.tile(elevation, bins)
    hits, _ = obstacle_shading(
        obstacles=obstacles, centres=centres, reach_margin=margin, origins_for=lambda p, t, s: points[p],
        samples=1, elevation=el, azimuth=az, sun=sun_vectors(el, az),
    )  # fmt: skip
    blocked = hits[:, :, 0].reshape(bins, len(elevation), len(centres))
    heights = np.where(blocked, elevation[None, :, None], 0.0)
    return heights.max(axis=1).T
