"""Synthetic twin scenes (rows of modules and box obstacles) in the generator's frame and scene
shape, for the accuracy tests and the benchmark: the same geometry conventions as
``twins.generation.twin_generate``, without a plant registry behind them."""

from __future__ import annotations

import numpy as np

from twins.generation import UP, euler_xyz, fixed_panel_basis, horizontal, tracker_panel_bases


def box(*, name: str, centre: tuple[float, float, float], size: tuple[float, float, float]) -> dict:
    """A structure box: ``size`` = (x, y = height, z) extents, ``centre`` its centre."""
    return {
        "id": name,
        "type": "structure",
        "shape": "box",
        "position": [float(v) for v in centre],
        "dimensions": {"length": size[0], "height": size[1], "width": size[2]},
        "metadata": {"kind": "test obstacle"},
    }


def rows_scene(
    *,
    rows: int,
    per_row: int,
    gcr: float,
    tilt: float = 20.0,
    azimuth: float = 180.0,
    tracker: dict | None = None,
    module: tuple[float, float, float] = (1.722, 1.134, 0.03),
    per_string: int | None = None,
    strings_per_inverter: int = 6,
    obstacles: list[dict] | None = None,
    latitude: float = 37.77,
    longitude: float = -122.42,
    gap: float = 0.02,
    height: float = 1.5,
) -> dict:
    """``rows`` rows of ``per_row`` portrait modules (length x width x depth), ``collector / gcr``
    apart; fixed at ``tilt`` facing ``azimuth``, or single-axis trackers (``tracker``: axis_azimuth,
    max_angle, backtrack) stored flat with ``tracked: true``."""
    length, width, depth = module
    pitch = length / gcr
    per_string = per_string or per_row
    if tracker:
        along, across = horizontal(tracker["axis_azimuth"]), horizontal(tracker["axis_azimuth"] + 90.0)
        basis = tracker_panel_bases(np.zeros(1), axis_azimuth=tracker["axis_azimuth"])[0]
    else:
        facing = horizontal(azimuth)
        along, across = np.cross(UP, facing), -facing
        basis = fixed_panel_basis(tilt, azimuth)
    rotation = [float(a) for a in euler_xyz(basis[None])[0]]
    row_length = per_row * (width + gap) - gap
    objects = []
    for r in range(rows):
        for m in range(per_row):
            index = r * per_row + m
            string = index // per_string
            inverter = string // strings_per_inverter
            centre = (
                (-row_length / 2 + width / 2 + m * (width + gap)) * along
                + (r - (rows - 1) / 2) * pitch * across
                + height * UP
            )
            panel = {
                "id": f"panel-{index + 1:05d}",
                "type": "solar_panel",
                "position": [round(float(v), 6) for v in centre],
                "rotation": rotation,
                "dimensions": {"length": length, "height": depth, "width": width},
                "metadata": {
                    "panel_index": index,
                    "row": r + 1,
                    "position_in_row": m + 1,
                    "string": f"INV{inverter + 1}/S{string + 1:03d}",
                    "string_index": string + 1,
                    "inverter": f"INV{inverter + 1}",
                },
            }
            if tracker:
                panel["tracked"] = True
            objects.append(panel)
    objects += obstacles or []
    mounting = (
        {
            "type": "single_axis",
            "axis_azimuth": tracker["axis_azimuth"],
            "axis_tilt": 0.0,
            "max_angle": tracker.get("max_angle", 60.0),
            "backtrack": tracker.get("backtrack", True),
            "gcr": gcr,
        }
        if tracker
        else {"type": "fixed", "surface_tilt": tilt, "surface_azimuth": azimuth}
    )
    return {
        "scene": {
            "objects": objects,
            "metadata": {
                "origin": {"latitude": latitude, "longitude": longitude, "elevation_m": 0.0},
                "mounting": mounting,
                "layout": {"gcr": gcr, "collector_width_m": length, "row_pitch_m": pitch, "rows": rows},
            },
        }
    }
