"""The shading model, free of the database: a twin scene, a pvlib location and the times in,
per-step x per-panel shaded fractions and energy losses out. :func:`shading_compute` is what
``shadow.services.shadow_run_compute`` and ``bench/bench_shadow.py`` call.

1. Sun positions from pvlib for the requested instants (the weather of the forecasting app:
   clear sky or its TMY), only sun elevation > 0.
2. Row-to-row shading (``row_model="analytic"``): pvlib's ``shading.shaded_fraction1d`` with the
   projected solar zenith angle, the fixed tilt or the tracker's rotation from
   ``tracking.singleaxis`` (backtracking included), for every panel that has a neighbouring row on
   the sun's side; the shadow covers the module from that edge. ``"raycast"`` ray-casts the panels
   themselves instead (general, slow; the reference the analytic path is tested against).
3. Obstacles: rays toward the sun from a grid of points per panel against the twin's structure
   meshes, only for panels inside an obstacle's shadow reach (:func:`shadow.raycast.obstacle_shading`).
4. Sky diffuse: the row in front masks the sky below ``masking_angle_passias``; the isotropic part
   of the Perez transposition loses ``sky_diffuse_passias`` of itself.
5. Electrical effect: ``shading.direct_martinez`` per module (blocks = bypass-diode groups across the
   module's width; a row shadow enters from the lower edge and reaches every block), and per string
   the current of its worst module's unbypassed blocks: ``min(mean module factor, min diffuse-limited
   current factor)``. DC from PVWatts (``pdc0`` x POA/1000 x temperature factor, SAPM cell temperature).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
import pvlib
from pvlib import irradiance, shading, tracking
from pvlib.temperature import TEMPERATURE_MODEL_PARAMETERS

from forecasting.weather import clearsky_weather, tmy_weather
from twins.generation import horizontal, tracker_panel_bases
from twins.geometry import OBSTACLE_TYPES, PANEL_TYPES, twin_meshes

from .raycast import (
    EMBREE,
    horizon_profile,
    mesh_blocked,
    obstacle_shading,
    obstacles_of,
    panel_samples,
    sun_vectors,
)

ROW_MODELS = ("analytic", "raycast")


class ShadowCancelled(Exception):
    """Raised from a progress hook when the run was cancelled meanwhile."""


@dataclass(frozen=True)
class ModuleSpec:
    pdc0_w: float = 420.0
    gamma_pdc: float = -0.0035
    blocks: int = 3  # bypass-diode groups, side by side across the module's width (portrait)
    temperature_model: str = "open_rack_glass_polymer"


@dataclass
class ShadingResult:
    times: pd.DatetimeIndex  # sun-up instants (UTC)
    step_hours: float
    panel_ids: list[str]
    panel_meta: list[dict]
    centres: np.ndarray  # (P, 3)
    shaded_fraction: np.ndarray  # (T, P) float32, row and obstacle shade together
    obstacle_fraction: np.ndarray  # (T, P) float32, obstacle shade only
    unshaded_w: np.ndarray  # (T,) DC of one unshaded module
    module_loss_w: np.ndarray  # (T, P) float32
    string_names: list[str]
    string_of_panel: np.ndarray  # (P,)
    string_loss_w: np.ndarray  # (T, strings) float32, with mismatch
    rays: int
    horizon_deg: np.ndarray | None = None  # (P, 36) obstacles' skyline elevation per 10° sector
    choices: dict = field(default_factory=dict)


@dataclass
class NearShadingTable:
    """PVsyst's near-shading table idea: obstacle shade of every sample point per sun-direction
    bin (``bin_deg`` of azimuth x elevation; a tracker's rotation follows from the direction),
    built once per twin version and sample grid and completed by each run with the bins it needs.
    ``bins`` maps (azimuth bin, elevation bin) to a row of ``bits`` (packed booleans, P x S)."""

    bin_deg: float = 1.0
    bins: dict[tuple[int, int], int] = field(default_factory=dict)
    bits: list[np.ndarray] = field(default_factory=list)

    def keys_of(self, azimuth: np.ndarray, elevation: np.ndarray) -> np.ndarray:
        az = np.round(np.asarray(azimuth) / self.bin_deg).astype(int) % round(360 / self.bin_deg)
        el = np.maximum(np.round(np.asarray(elevation) / self.bin_deg).astype(int), 0)
        return np.column_stack([az, el])

    def add(self, keys: np.ndarray, shaded: np.ndarray) -> None:
        for key, row in zip(keys.tolist(), shaded, strict=True):
            self.bins[tuple(key)] = len(self.bits)
            self.bits.append(np.packbits(row.ravel()))

    def lookup(self, keys: np.ndarray, *, panels: int, samples: int) -> np.ndarray:
        rows = np.array([self.bins[tuple(k)] for k in keys.tolist()], dtype=int)
        if not len(rows):
            return np.zeros((0, panels, samples), dtype=bool)
        packed = np.stack(self.bits)[rows]
        return np.unpackbits(packed, axis=1, count=panels * samples).astype(bool).reshape(len(rows), panels, samples)

    def save(self, path) -> None:
        keys = np.array(list(self.bins), dtype=np.int32).reshape(-1, 2)
        order = np.array(list(self.bins.values()), dtype=int)
        bits = np.stack(self.bits)[order] if self.bits else np.zeros((0, 0), np.uint8)
        tmp = path.with_suffix(".part")
        with tmp.open("wb") as handle:
            np.savez_compressed(handle, keys=keys, bits=bits, bin_deg=np.array(self.bin_deg))
        tmp.replace(path)

    @classmethod
    def load(cls, path) -> NearShadingTable:
        data = np.load(path)
        table = cls(bin_deg=float(data["bin_deg"]))
        for i, key in enumerate(data["keys"].tolist()):
            table.bins[tuple(key)] = i
            table.bits.append(data["bits"][i])
        return table


def _axis(mounting: dict) -> tuple[float, float]:
    """(axis_azimuth, axis_tilt) in pvlib's convention for the scene's mounting."""
    if mounting.get("type") == "single_axis":
        return float(mounting["axis_azimuth"]), float(mounting.get("axis_tilt", 0.0))
    return (float(mounting.get("surface_azimuth", 180.0)) - 90.0) % 360.0, 0.0


def _neighbours(centres: np.ndarray, side: np.ndarray, along: np.ndarray, pitch: float, width: float) -> np.ndarray:
    """(P, 2) whether a panel has a row neighbour at +pitch (column 0) and -pitch (column 1)
    along ``side``, overlapping it along the row."""
    s = centres @ side
    a = centres @ along
    cells = {(round(si / pitch * 4), round(ai / width)) for si, ai in zip(s, a, strict=True)}
    result = np.zeros((len(centres), 2), dtype=bool)
    for k, (si, ai) in enumerate(zip(s, a, strict=True)):
        q = round(ai / width)
        for col, sign in ((0, 1), (1, -1)):
            target = round((si + sign * pitch) / pitch * 4)
            result[k, col] = any((target + ds, q + da) in cells for ds in (-1, 0, 1) for da in (-1, 0, 1))
    return result


def sun_times(*, start: pd.Timestamp, end: pd.Timestamp, step_minutes: float) -> pd.DatetimeIndex:
    """Mid-step instants in ``[start, end)`` (tz-aware)."""
    step = pd.Timedelta(minutes=step_minutes)
    return pd.date_range(start, end, freq=step, inclusive="left") + step / 2


def shading_compute(
    *,
    twin_data: dict,
    location: pvlib.location.Location,
    times: pd.DatetimeIndex,
    weather: str = "clearsky",
    grid: tuple[int, int] = (4, 2),
    row_model: str = "analytic",
    module: ModuleSpec | None = None,
    albedo: float = 0.25,
    progress: Callable[[float], None] | None = None,
    raycast_panels: list[int] | None = None,
    table: NearShadingTable | None = None,
) -> ShadingResult:
    """``table``: the twin version's near-shading table (obstacle shade per sun-direction bin),
    read for the bins it holds and completed with the missing ones (exact per step without)."""
    module = module or ModuleSpec()
    report = progress or (lambda fraction: None)
    meshes = twin_meshes(twin_data=twin_data)
    objects = twin_data["scene"]["objects"]
    meta = meshes.scene_metadata
    mounting = meta.get("mounting") or {"type": "fixed", "surface_tilt": 0.0, "surface_azimuth": 180.0}
    layout = meta.get("layout") or {}
    tracked_plant = mounting.get("type") == "single_axis"
    panels = meshes.indices(PANEL_TYPES)
    if not len(panels):
        raise ValueError("The twin has no solar panels.")
    obstacle_idx = meshes.indices(OBSTACLE_TYPES)
    first = meshes.geometries[meshes.keys[panels[0]]]
    length, depth, width = (float(v) for v in first.extents)
    samples = panel_samples(length=length, depth=depth, width=width, grid=grid)
    n_samples = len(samples.local)
    centres = meshes.transforms[panels, :3, 3]
    stored_rot = meshes.transforms[panels, :3, :3]
    tracked = np.array([bool(objects[i].get("tracked")) for i in panels]) & tracked_plant

    # 1. sun and weather (the forecasting app's clear sky / TMY)
    made = (tmy_weather if weather == "tmy" else clearsky_weather)(location, times)
    position = made.solar_position
    up = (position["apparent_elevation"] > 0).to_numpy()
    frame = made.frame.loc[up]
    position = position.loc[up]
    times_up = position.index
    zenith = position["apparent_zenith"].to_numpy()
    azimuth = position["azimuth"].to_numpy()
    elevation = position["apparent_elevation"].to_numpy()
    steps = len(times_up)
    sun = sun_vectors(elevation, azimuth)
    axis_azimuth, axis_tilt = _axis(mounting)
    gcr = float(layout.get("gcr") or mounting.get("gcr") or 0.0)
    collector = float(layout.get("collector_width_m") or length)
    pitch = float(layout.get("row_pitch_m") or (collector / gcr if gcr else 0.0))

    if tracked_plant:
        angles = tracking.singleaxis(
            zenith, azimuth, axis_tilt=axis_tilt, axis_azimuth=axis_azimuth,
            max_angle=float(mounting.get("max_angle", 60.0)), backtrack=bool(mounting.get("backtrack", True)),
            gcr=gcr or 2.0 / 7.0,
        )  # fmt: skip
        theta = np.nan_to_num(np.asarray(angles["tracker_theta"], dtype=float), nan=0.0)
        surface_tilt = np.abs(theta)
        surface_azimuth = np.where(theta >= 0, (axis_azimuth + 90.0) % 360, (axis_azimuth - 90.0) % 360)
        bases = tracker_panel_bases(theta, axis_azimuth=axis_azimuth, axis_tilt=axis_tilt)  # (T, 3, 3)
    else:
        tilt = float(mounting.get("surface_tilt", 0.0))
        theta = np.full(steps, tilt)
        surface_tilt = np.full(steps, tilt)
        surface_azimuth = np.full(steps, float(mounting.get("surface_azimuth", 180.0)))
        bases = None
    report(0.05)

    def rotations_at(p: np.ndarray, t: np.ndarray) -> np.ndarray:
        if bases is None:
            return stored_rot[p]
        return np.where(tracked[p][:, None, None], bases[t], stored_rot[p])

    def origins_for(p: np.ndarray, t: np.ndarray, s: np.ndarray) -> np.ndarray:
        return centres[p] + np.einsum("nij,nj->ni", rotations_at(p, t), samples.local[s])

    # 2. obstacles (fast path) or everything by rays
    reach_margin = math.hypot(length, width) / 2 + depth
    obstacles = obstacles_of(meshes, obstacle_idx)
    side = horizontal(axis_azimuth + 90.0)
    along = horizontal(axis_azimuth)
    if row_model == "raycast":
        obs_shaded = _raycast_all(
            meshes=meshes, panels=panels, obstacle_idx=obstacle_idx, tracked=tracked, bases=bases,
            origins_for=origins_for, n_samples=n_samples, sun=sun, only=raycast_panels,
        )  # fmt: skip
        rays = steps * len(panels) * n_samples
    elif table is not None:
        keys = table.keys_of(azimuth, elevation)
        missing = np.array(sorted(set(map(tuple, keys.tolist())) - set(table.bins)), dtype=float).reshape(-1, 2)
        if len(missing):
            bin_az, bin_el = missing[:, 0] * table.bin_deg, missing[:, 1] * table.bin_deg
            bin_bases = None
            if bases is not None:
                bin_theta = tracking.singleaxis(
                    90.0 - bin_el, bin_az, axis_tilt=axis_tilt, axis_azimuth=axis_azimuth,
                    max_angle=float(mounting.get("max_angle", 60.0)), backtrack=bool(mounting.get("backtrack", True)),
                    gcr=gcr or 2.0 / 7.0,
                )["tracker_theta"]  # fmt: skip
                bin_theta = np.nan_to_num(np.asarray(bin_theta, dtype=float), nan=0.0)
                bin_bases = tracker_panel_bases(bin_theta, axis_azimuth=axis_azimuth, axis_tilt=axis_tilt)

            def bin_origins(p: np.ndarray, t: np.ndarray, s: np.ndarray) -> np.ndarray:
                rot = (
                    stored_rot[p]
                    if bin_bases is None
                    else np.where(tracked[p][:, None, None], bin_bases[t], stored_rot[p])
                )
                return centres[p] + np.einsum("nij,nj->ni", rot, samples.local[s])

            fresh, rays = obstacle_shading(
                obstacles=obstacles, centres=centres, reach_margin=reach_margin, origins_for=bin_origins,
                samples=n_samples, elevation=bin_el, azimuth=bin_az, sun=sun_vectors(bin_el, bin_az),
                progress=lambda f: report(0.05 + 0.6 * f),
            )  # fmt: skip
            table.add(missing.astype(int), fresh)
        else:
            rays = 0
        obs_shaded = table.lookup(keys, panels=len(panels), samples=n_samples)
    else:
        obs_shaded, rays = obstacle_shading(
            obstacles=obstacles, centres=centres, reach_margin=reach_margin, origins_for=origins_for,
            samples=n_samples, elevation=elevation, azimuth=azimuth, sun=sun,
            progress=lambda f: report(0.05 + 0.6 * f),
        )  # fmt: skip
    report(0.65)

    # 3. rows (analytic): pvlib's 1-D shaded fraction for panels with a neighbour on the sun's side
    psz = shading.projected_solar_zenith_angle(zenith, azimuth, axis_tilt, axis_azimuth)
    if row_model == "analytic" and pitch > 0:
        sf1d = np.asarray(
            shading.shaded_fraction1d(
                zenith, azimuth, axis_azimuth, theta, collector_width=collector, pitch=pitch, axis_tilt=axis_tilt
            ),
            dtype=float,
        )
        neighbours = _neighbours(centres, side, along, pitch, width + 0.05)
        sun_side = np.where(psz >= 0, 0, 1)  # neighbour at +pitch along `side` shades when psz > 0
        row_sf = np.where(neighbours[:, sun_side].T, sf1d[:, None], 0.0)  # (T, P)
        # which end of the module the row shadow enters from: the end toward the sun's side
        x_axis = bases[:, :, 0] if bases is not None else np.repeat(stored_rot[:1, :, 0], steps, axis=0)
        toward = np.sign(x_axis @ side) * np.where(psz >= 0, 1.0, -1.0)  # +1: the +x end
        u = (samples.along_slope + 0.5) / grid[0]
        from_edge = np.where(toward[:, None] > 0, 1.0 - u[None, :], u[None, :])  # (T, S)
        in_band = from_edge[:, None, :] < row_sf[:, :, None]
        extra = (obs_shaded & ~in_band).mean(axis=2)
        shaded_fraction = np.clip(row_sf + extra, 0.0, 1.0)
        facing = np.where(theta >= 0, 0, 1) if tracked_plant else np.zeros(steps, dtype=int)
        masked = neighbours[:, facing].T  # (T, P): a row in front of the face
    else:
        row_sf = np.zeros((steps, len(panels)))
        shaded_fraction = obs_shaded.mean(axis=2)
        masked = np.zeros((steps, len(panels)), dtype=bool)
    obstacle_fraction = obs_shaded.mean(axis=2)
    report(0.75)

    # 4. irradiance on the plane (Perez components), sky diffuse masked by the row in front
    dni_extra = irradiance.get_extra_radiation(times_up).to_numpy()
    airmass = pvlib.atmosphere.get_relative_airmass(zenith)
    dni, ghi, dhi = (frame[k].to_numpy() for k in ("dni", "ghi", "dhi"))
    aoi = irradiance.aoi(surface_tilt, surface_azimuth, zenith, azimuth)
    beam = dni * np.clip(np.cos(np.radians(aoi)), 0, None)
    lit = np.cos(np.radians(aoi)) > 0  # a sun behind the modules has no beam to shade
    shaded_fraction = np.where(lit[:, None], shaded_fraction, 0.0)
    obstacle_fraction = np.where(lit[:, None], obstacle_fraction, 0.0)
    row_sf = np.where(lit[:, None], row_sf, 0.0)
    obs_shaded &= lit[:, None, None]
    parts = irradiance.perez(
        surface_tilt, surface_azimuth, dhi, dni, dni_extra, zenith, azimuth, airmass, return_components=True
    )
    iso = np.nan_to_num(np.asarray(parts["poa_isotropic"], dtype=float))
    circ = np.nan_to_num(np.asarray(parts["poa_circumsolar"], dtype=float))
    horizon = np.nan_to_num(np.asarray(parts["poa_horizon"], dtype=float))
    ground = np.asarray(irradiance.get_ground_diffuse(surface_tilt, ghi, albedo=albedo), dtype=float)
    direct = beam + circ
    total = np.maximum(direct + iso + horizon + ground, 1e-9)
    if gcr:
        passias = np.asarray(shading.sky_diffuse_passias(shading.masking_angle_passias(surface_tilt, gcr)), dtype=float)
    else:
        passias = np.zeros(steps)
    diffuse_lost = np.where(masked, (iso * passias)[:, None], 0.0)  # (T, P)
    effective = total[:, None] - diffuse_lost

    # 5. electrical: Martinez per module, string mismatch
    blocks = module.blocks
    block_hit = _blocks_shaded(obs_shaded, samples, blocks)  # (T, P)
    shaded_blocks = np.where(row_sf > 0, blocks, block_hit)
    martinez = shading.direct_martinez(effective, direct[:, None], shaded_fraction, shaded_blocks, blocks)
    factor = np.clip((1.0 - np.nan_to_num(martinez)) * effective / total[:, None], 0.0, 1.0)
    factor = np.where(direct[:, None] > 0, factor, effective / total[:, None])
    current = effective / total[:, None]  # unbypassed blocks carry the diffuse-limited current
    temperature = TEMPERATURE_MODEL_PARAMETERS["sapm"][module.temperature_model]
    cell = pvlib.temperature.sapm_cell(
        total, frame["temp_air"].to_numpy(), frame["wind_speed"].to_numpy(), **temperature
    )
    unshaded_w = np.clip(module.pdc0_w * total / 1000.0 * (1 + module.gamma_pdc * (cell - 25.0)), 0.0, None)
    module_loss = (unshaded_w[:, None] * (1.0 - factor)).astype(np.float32)

    names = [meshes.metadata[i].get("string") or f"string-{meshes.metadata[i].get('string_index', 0)}" for i in panels]
    string_names = list(dict.fromkeys(names))
    string_of = np.array([string_names.index(n) for n in names])
    counts = np.bincount(string_of, minlength=len(string_names))
    mean_factor = np.zeros((steps, len(string_names)))
    np.add.at(mean_factor.T, string_of, factor.T)
    mean_factor /= counts[None, :]
    min_current = np.full((steps, len(string_names)), np.inf)
    np.minimum.at(min_current.T, string_of, current.T)
    string_factor = np.minimum(mean_factor, min_current)
    string_loss = (unshaded_w[:, None] * counts[None, :] * (1.0 - string_factor)).astype(np.float32)
    report(0.9)

    step_hours = (times[1] - times[0]).total_seconds() / 3600 if len(times) > 1 else 1.0
    return ShadingResult(
        times=times_up.tz_convert("UTC"),
        step_hours=step_hours,
        panel_ids=[meshes.ids[i] for i in panels],
        panel_meta=[meshes.metadata[i] for i in panels],
        centres=centres,
        shaded_fraction=shaded_fraction.astype(np.float32),
        obstacle_fraction=obstacle_fraction.astype(np.float32),
        unshaded_w=unshaded_w,
        module_loss_w=module_loss,
        string_names=string_names,
        string_of_panel=string_of,
        string_loss_w=string_loss,
        rays=int(rays),
        horizon_deg=horizon_profile(
            obstacles=obstacles,
            centres=centres,
            margin=reach_margin,
            points=centres + stored_rot[:, :, 1] * depth / 2 / np.linalg.norm(stored_rot[:, :, 1], axis=1)[:, None],
        ).astype(np.float32),
        choices={
            "rowModel": row_model,
            "rowShading": "pvlib.shading.shaded_fraction1d (infinite rows, projected solar zenith)"
            if row_model == "analytic"
            else "ray cast against the panels",
            "tracking": "pvlib.tracking.singleaxis (backtracking)" if tracked_plant else "fixed",
            "obstacles": f"ray cast, {grid[0]}x{grid[1]} points per panel, rays only within shadow reach",
            "rayEngine": "embree" if EMBREE else "numpy (slab test for boxes, Moller-Trumbore otherwise)",
            "skyDiffuse": "pvlib masking_angle_passias + sky_diffuse_passias on the Perez isotropic part",
            "electrical": f"pvlib.shading.direct_martinez, {blocks} blocks per module; string current limited by "
            "its worst module's unbypassed blocks",
            "dc": "PVWatts (pdc0, gamma_pdc), SAPM cell temperature",
            "weather": weather,
            "pitchM": round(pitch, 4),
            "collectorWidthM": round(collector, 4),
            "gcr": gcr,
            "samplesPerPanel": list(grid),
        },
    )


def _blocks_shaded(obs: np.ndarray, samples, blocks: int) -> np.ndarray:
    """Number of bypass blocks (side by side across the width) with an obstacle-shaded sample;
    a sample cell counts for every block its width interval overlaps."""
    nz = samples.grid[1]
    hit = np.zeros(obs.shape[:2], dtype=np.int16)
    for b in range(blocks):
        lo, hi = b / blocks, (b + 1) / blocks
        cells = [j for j in range(nz) if j / nz < hi and (j + 1) / nz > lo]
        mask = np.isin(samples.across, cells)
        hit += obs[:, :, mask].any(axis=2)
    return hit


def _raycast_all(*, meshes, panels, obstacle_idx, tracked, bases, origins_for, n_samples, sun, only=None):
    """Every sample of every panel (``only``: of these panel positions) against panels and
    obstacles, step by step (trackers posed per step). Rays start on the front face; a sun behind
    the module plane has no beam to shade."""
    steps = len(sun)
    shaded = np.zeros((steps, len(panels), n_samples), dtype=bool)
    chosen = np.concatenate([panels, obstacle_idx]).astype(int)
    chosen_panels = np.arange(len(panels)) if only is None else np.asarray(only, dtype=int)
    p = np.repeat(chosen_panels, n_samples)
    s = np.tile(np.arange(n_samples), len(chosen_panels))
    static = None
    for t in range(steps):
        if bases is not None or static is None:
            transforms = meshes.transforms.copy()
            if bases is not None:
                posed = panels[tracked]
                transforms[posed, :3, :3] = bases[t]
            subset = np.zeros(len(meshes), dtype=bool)
            subset[chosen] = True
            view = replace(
                meshes,
                transforms=transforms,
                types=[kind if subset[i] else "_skip" for i, kind in enumerate(meshes.types)],
            )
            mesh, _ = view.world(PANEL_TYPES | OBSTACLE_TYPES)
            if bases is None:
                static = mesh
        else:
            mesh = static
        tt = np.full(len(p), t)
        origins = origins_for(p, tt, s)
        direction = np.repeat(sun[t][None], len(p), axis=0)
        hit = mesh_blocked(mesh, origins + direction * 1e-4, direction)
        normals = meshes.transforms[panels, :3, 1]
        if bases is not None:
            normals = np.where(tracked[:, None], bases[t][:, 1], normals)
        hit &= (normals @ sun[t] > 0)[p]
        shaded[t, p, s] = hit
    return shaded
