"""``twin_generate``: the plant's scene built from what the registry already knows.

Frame (stored once in ``scene.metadata.frame``): metres, a local east-north-up frame centred on
the panel field, in three.js/glTF axes — x = east, y = up, z = south (-north). Angles are radians,
Euler order XYZ (three.js's default). A box's ``dimensions`` are its extents along its own axes:
``length`` along x, ``height`` along y, ``width`` along z (three.js ``BoxGeometry(length,
height, width)``, as seed 000's script); ``position`` is its centre.

Layout, from the registry:

* module: the plant's (first) panel spec, ``dimension_length_mm`` x ``dimension_width_mm`` x
  ``dimension_depth_mm``, mounted in portrait, one module high (1P): the module's length runs up
  the slope (fixed) or across the axis (tracker), so the collector width is the module length;
* strings of ``panel_per_string`` modules, ``string_per_row`` strings end to end per row,
  ``string_per_inverter`` strings per inverter (the plant's inverters in registry order, each
  string box serving the next ``no_strings`` strings of its inverter);
* rows ``collector width / gcr`` apart (the row pitch), facing ``surface_azimuth`` at
  ``surface_tilt`` (fixed) or along ``axis_azimuth`` (single-axis trackers, stored flat with
  ``tracked: true``; :func:`twins.geometry.twin_meshes` poses them with pvlib's angle);
* inverters and string boxes at the start end of the rows they serve; a ground plane sized to
  the field plus a margin.

Every panel's ``metadata`` names its inverter, string box, string and position in the string,
so a per-panel result (a shadow analysis) maps back to devices.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
from django.utils import timezone
from rest_framework import exceptions
from scipy.spatial.transform import Rotation

from plants.choices import DeviceType, Tracking
from plants.models import Device, PanelSpec, Plant

from .choices import ObjectType

FRAME = (
    "Metres in a local east-north-up frame centred on the panel field, three.js/glTF axes: "
    "x = east, y = up, z = south (-north). Rotations: radians, Euler XYZ. Box dimensions: length "
    "along local x, height along local y, width along local z; positions are centres."
)
GENERATOR_VERSION = 1
MODULE_GAP_M = 0.02  # between neighbouring modules of a row
FIXED_CLEARANCE_M = 0.5  # lowest module edge above the ground / roof
TRACKER_MIN_AXIS_HEIGHT_M = 1.5
EQUIPMENT_CLEARANCE_M = 2.0  # from the row ends to the inverters
DEFAULT_FIXED_GCR = 0.5  # used (and said in metadata.assumptions) when a fixed plant has none
DEFAULT_INVERTER_M = (1.0, 1.8, 0.6)  # length (x), height (y), width (z)
STRING_BOX_M = (0.6, 0.5, 0.25)
PANEL_MATERIAL = {"color": "#1b2a4a", "opacity": 1.0, "metalness": 0.35, "roughness": 0.35}
INVERTER_MATERIAL = {"color": "#d9dde3", "opacity": 1.0, "metalness": 0.6, "roughness": 0.4}
STRING_BOX_MATERIAL = {"color": "#f2c14e", "opacity": 1.0, "metalness": 0.2, "roughness": 0.6}
GROUND_MATERIAL = {"color": "#8a9a5b", "opacity": 1.0, "metalness": 0.0, "roughness": 1.0}
ROOF_MATERIAL = {"color": "#9e9e9e", "opacity": 1.0, "metalness": 0.0, "roughness": 0.9}
STRUCTURE_MATERIAL = {"color": "#b0a89a", "opacity": 1.0, "metalness": 0.0, "roughness": 0.9}


def horizontal(azimuth_deg: float) -> np.ndarray:
    """Unit vector of a compass azimuth (clockwise from north) in the x=E, y=U, z=S frame."""
    a = math.radians(azimuth_deg)
    return np.array([math.sin(a), 0.0, -math.cos(a)])


UP = np.array([0.0, 1.0, 0.0])


def fixed_panel_basis(tilt_deg: float, azimuth_deg: float) -> np.ndarray:
    """Rotation (columns: local x, y, z in the world) of a portrait module tilted ``tilt`` towards
    ``azimuth``: local x runs up the slope, local y is the module's normal."""
    d = horizontal(azimuth_deg)
    t = math.radians(tilt_deg)
    normal = math.sin(t) * d + math.cos(t) * UP
    up_slope = -math.cos(t) * d + math.sin(t) * UP
    return np.column_stack([up_slope, normal, np.cross(up_slope, normal)])


def tracker_panel_bases(theta_deg: np.ndarray, *, axis_azimuth: float, axis_tilt: float = 0.0) -> np.ndarray:
    """Rotations (n, 3, 3) of 1P tracker modules turned by ``theta`` (pvlib's convention: right-
    handed about the axis pointing to ``axis_azimuth``, positive tilts the module towards
    ``axis_azimuth + 90°``): local x across the axis, local y the normal, local z along the axis."""
    beta = math.radians(axis_tilt)
    h = horizontal(axis_azimuth)
    side = horizontal(axis_azimuth + 90.0)
    up_axis = -math.sin(beta) * h + math.cos(beta) * UP  # normal of the flat module
    theta = np.radians(np.nan_to_num(np.asarray(theta_deg, dtype=float), nan=0.0))[:, None]
    normal = np.cos(theta) * up_axis + np.sin(theta) * side
    across = np.cos(theta) * side - np.sin(theta) * up_axis
    along = np.cross(across, normal)
    return np.stack([across, normal, along], axis=2)


def euler_xyz(matrices: np.ndarray) -> np.ndarray:
    """Euler angles (three.js order XYZ: R = Rx·Ry·Rz, scipy's intrinsic ``XYZ``). A module
    facing due south is at gimbal lock (y = 90°): scipy warns and zeroes the third angle, and
    the angles still give the same matrix, so the warning is silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return Rotation.from_matrix(matrices).as_euler("XYZ")


@dataclass(frozen=True)
class _Inverter:
    name: str
    serial: str | None
    device_id: int | None
    dims: tuple[float, float, float]
    boxes: list[tuple[Device, int]]  # (string box, strings it serves)


class PlantConfigInvalid(exceptions.ValidationError):
    """400 ``PLANT_CONFIG_INVALID``, ``errors`` naming each registry field a layout lacks."""

    error_code = "PLANT_CONFIG_INVALID"


def _config_error(problems: dict[str, list[str]]) -> PlantConfigInvalid:
    return PlantConfigInvalid(problems)


def _inverters(plant: Plant, *, count: int, strings_per_inverter: int) -> list[_Inverter]:
    devices = list(
        Device.objects.filter(plant=plant, type=DeviceType.INVERTER).select_related("inverter_datasheet").order_by("id")
    )
    boxes: dict[int, list[Device]] = {}
    for box in (
        Device.objects.filter(plant=plant, type=DeviceType.STRING_MONITORING_BOX, parent__isnull=False)
        .select_related("string_box_datasheet")
        .order_by("id")
    ):
        boxes.setdefault(box.parent_id, []).append(box)
    result = []
    for index in range(count):
        device = devices[index] if index < len(devices) else None
        dims = DEFAULT_INVERTER_M
        served: list[tuple[Device, int]] = []
        if device is not None:
            sheet = getattr(device, "inverter_datasheet", None)
            if sheet and sheet.dimension_length_mm and sheet.dimension_width_mm and sheet.dimension_depth_mm:
                # datasheets give width x height x depth
                dims = (
                    sheet.dimension_length_mm / 1000,
                    sheet.dimension_width_mm / 1000,
                    sheet.dimension_depth_mm / 1000,
                )
            own = boxes.get(device.pk, [])
            declared = [getattr(getattr(b, "string_box_datasheet", None), "no_strings", None) for b in own]
            if own:
                even = math.ceil(strings_per_inverter / len(own))
                served = [(b, n or even) for b, n in zip(own, declared, strict=True)]
        result.append(
            _Inverter(
                name=device.name if device else f"Inverter {index + 1}",
                serial=device.serial_number if device else None,
                device_id=device.pk if device else None,
                dims=dims,
                boxes=served,
            )
        )
    return result


def _layout_numbers(plant: Plant, spec: PanelSpec | None) -> tuple[dict, list[str]]:
    problems: dict[str, list[str]] = {}
    assumptions: list[str] = []
    if spec is None:
        problems["panelSpecs"] = ["The plant has no panel spec (module datasheet)."]
    else:
        for name in ("dimension_length_mm", "dimension_width_mm", "dimension_depth_mm"):
            if not getattr(spec, name):
                problems[f"panelSpecs[0].{name}"] = ["Needed for the module's size."]
    if not plant.panel_per_string:
        problems["panel_per_string"] = ["Needed to lay out strings."]
    if plant.tracking == Tracking.SINGLE_AXIS:
        if plant.gcr is None:
            problems["gcr"] = ["Needed for the row pitch of a tracker plant."]
        if plant.axis_azimuth is None:
            problems["axis_azimuth"] = ["Needed for a tracker plant."]
    if problems:
        raise _config_error(problems)
    mps = plant.panel_per_string
    inverter_count = plant.no_of_inverters or Device.objects.filter(plant=plant, type=DeviceType.INVERTER).count() or 1
    if plant.no_of_panels:
        if plant.no_of_panels % mps:
            raise _config_error({"no_of_panels": [f"Not a whole number of strings of {mps} (panel_per_string)."]})
        strings = plant.no_of_panels // mps
    elif plant.string_per_inverter:
        strings = inverter_count * plant.string_per_inverter
    else:
        raise _config_error({"no_of_panels": ["Needed (or string_per_inverter) to know how many strings there are."]})
    spi = plant.string_per_inverter or math.ceil(strings / inverter_count)
    inverter_count = max(inverter_count, math.ceil(strings / spi))
    gcr = plant.gcr
    if gcr is None:
        gcr = DEFAULT_FIXED_GCR
        assumptions.append(f"gcr not set in the registry: {DEFAULT_FIXED_GCR} assumed for the row pitch.")
    tilt = plant.surface_tilt if plant.surface_tilt is not None else 0.0
    azimuth = plant.surface_azimuth if plant.surface_azimuth is not None else 180.0
    if plant.tracking == Tracking.FIXED and plant.surface_tilt is None:
        assumptions.append("surface_tilt not set: modules laid flat.")
    return {
        "length": spec.dimension_length_mm / 1000,
        "width": spec.dimension_width_mm / 1000,
        "depth": spec.dimension_depth_mm / 1000,
        "mps": mps,
        "strings": strings,
        "spr": plant.string_per_row or 1,
        "spi": spi,
        "inverters": inverter_count,
        "gcr": gcr,
        "tilt": tilt,
        "azimuth": azimuth,
    }, assumptions


def twin_generate(*, plant: Plant) -> dict:
    """The plant's ``twin_data`` generated from its registry (nothing is saved). Raises a 400
    ``PLANT_CONFIG_INVALID`` naming the registry fields a layout needs and lacks."""
    spec = PanelSpec.objects.filter(plant=plant).order_by("id").first()
    n, assumptions = _layout_numbers(plant, spec)
    tracked = plant.tracking == Tracking.SINGLE_AXIS
    length, width, depth, mps, spr = n["length"], n["width"], n["depth"], n["mps"], n["spr"]
    collector = length  # portrait, one module high
    pitch = collector / n["gcr"]
    step = width + MODULE_GAP_M
    rows = math.ceil(n["strings"] / spr)
    per_row = spr * mps
    row_length = per_row * step - MODULE_GAP_M
    if tracked:
        axis_azimuth = plant.axis_azimuth
        axis_tilt = plant.axis_tilt or 0.0
        along = horizontal(axis_azimuth)  # modules follow the axis
        across = horizontal(axis_azimuth + 90.0)  # rows follow each other
        axis_height = max(
            TRACKER_MIN_AXIS_HEIGHT_M, collector / 2 * math.sin(math.radians(plant.max_angle or 60)) + 0.5
        )
        centre_height = axis_height
        basis = tracker_panel_bases(np.zeros(1), axis_azimuth=axis_azimuth, axis_tilt=axis_tilt)[0]
    else:
        facing = horizontal(n["azimuth"])
        along = np.cross(UP, facing)  # east for a south-facing plant
        across = -facing  # row 0 is the front row
        centre_height = FIXED_CLEARANCE_M + collector / 2 * math.sin(math.radians(n["tilt"]))
        basis = fixed_panel_basis(n["tilt"], n["azimuth"])
    rotation = [round(float(a), 6) for a in euler_xyz(basis[None])[0]]

    # string g (0-based): inverter g // spi, row g // spr, slot g % spr in the row
    inverters = _inverters(plant, count=n["inverters"], strings_per_inverter=n["spi"])
    g = np.repeat(np.arange(n["strings"]), mps)
    p = np.tile(np.arange(mps), n["strings"])  # position in the string, 0-based
    row = g // spr
    module_in_row = (g % spr) * mps + p
    row_offset = (row - (rows - 1) / 2) * pitch
    along_offset = -row_length / 2 + width / 2 + module_in_row * step
    centres = along_offset[:, None] * along + row_offset[:, None] * across + centre_height * UP
    centres = np.round(centres, 4).tolist()

    box_of_string: dict[int, tuple[str | None, int | None]] = {}
    for index, inverter in enumerate(inverters):
        first = index * n["spi"]
        cursor = first
        for box, served in inverter.boxes:
            for s in range(cursor, min(cursor + served, first + n["spi"])):
                box_of_string[s] = (box.serial_number, box.pk)
            cursor += served
    dims = {"length": round(length, 6), "height": round(depth, 6), "width": round(width, 6)}
    objects: list[dict] = []
    for index, (centre, gi, pi, ri, mi) in enumerate(
        zip(centres, g.tolist(), p.tolist(), row.tolist(), module_in_row.tolist(), strict=True)
    ):
        inverter_index = min(gi // n["spi"], len(inverters) - 1)
        inverter = inverters[inverter_index]
        string_in_inverter = gi - inverter_index * n["spi"] + 1
        box_serial, box_id = box_of_string.get(gi, (None, None))
        panel = {
            "id": f"panel-{index + 1:05d}",
            "type": ObjectType.SOLAR_PANEL.value,
            "position": centre,
            "rotation": rotation,
            "scale": [1, 1, 1],
            "dimensions": dims,
            "material": PANEL_MATERIAL,
            "generated": True,
            "metadata": {
                "panel_index": index,
                "inverter": inverter.serial or inverter.name,
                "inverter_id": inverter.device_id,
                "string_box": box_serial,
                "string_box_id": box_id,
                "string": f"{inverter.serial or inverter.name}/S{string_in_inverter:03d}",
                "string_index": gi + 1,
                "string_in_inverter": string_in_inverter,
                "position_in_string": pi + 1,
                "row": ri + 1,
                "position_in_row": mi + 1,
            },
        }
        if tracked:
            panel["tracked"] = True
        objects.append(panel)

    objects += _equipment(inverters, n=n, rows=rows, pitch=pitch, row_length=row_length, along=along, across=across)
    extent_along = row_length + 2 * (EQUIPMENT_CLEARANCE_M + 3.0)
    extent_across = (rows - 1) * pitch + collector
    margin = max(3.0, 0.05 * max(extent_along, extent_across))
    ground_length, ground_width = _ground_extents(along, across, extent_along + 2 * margin, extent_across + 2 * margin)
    objects.append(
        {
            "id": "ground",
            "type": ObjectType.GROUND.value,
            "position": [0.0, -0.05, 0.0],
            "rotation": [0.0, 0.0, 0.0],
            "scale": [1, 1, 1],
            "dimensions": {"length": ground_length, "height": 0.1, "width": ground_width},
            "material": GROUND_MATERIAL,
            "generated": True,
            "metadata": {"surface": "ground"},
        }
    )
    size = max(ground_length, ground_width)
    mounting = (
        {
            "type": Tracking.SINGLE_AXIS.value,
            "axis_azimuth": plant.axis_azimuth,
            "axis_tilt": plant.axis_tilt or 0.0,
            "max_angle": plant.max_angle if plant.max_angle is not None else 60.0,
            "backtrack": plant.backtrack,
            "gcr": n["gcr"],
            "axis_height_m": round(centre_height, 4),
            "rotation_deg": 0.0,
        }
        if tracked
        else {"type": Tracking.FIXED.value, "surface_tilt": n["tilt"], "surface_azimuth": n["azimuth"]}
    )
    return {
        "scene": {
            "objects": objects,
            "lights": [
                {"type": "ambient", "color": "#ffffff", "intensity": 0.6},
                {
                    "type": "directional",
                    "color": "#fff6e0",
                    "intensity": 1.2,
                    "position": [round(size * 0.3, 2), round(size * 0.6, 2), round(size * 0.4, 2)],
                },
            ],
            "cameras": [
                {
                    "type": "perspective",
                    "position": [round(size * 0.55, 2), round(size * 0.45, 2), round(size * 0.55, 2)],
                    "target": [0.0, 0.0, 0.0],
                    "fov": 50,
                    "near": 0.1,
                    "far": round(size * 10, 1),
                }
            ],
            "environment": {"background": "#dfe9f3"},
            "metadata": {
                "frame": FRAME,
                "units": "m",
                "origin": {"latitude": plant.latitude, "longitude": plant.longitude, "elevation_m": plant.elevation_m},
                "plant_id": plant.pk,
                "plant_code": plant.plant_code,
                "generated_at": timezone.now().isoformat().replace("+00:00", "Z"),
                "generator_version": GENERATOR_VERSION,
                "mounting": mounting,
                "layout": {
                    "panel_spec_id": spec.pk,
                    "module_length_m": length,
                    "module_width_m": width,
                    "module_depth_m": depth,
                    "orientation": "portrait, 1 module high",
                    "collector_width_m": collector,
                    "gcr": n["gcr"],
                    "row_pitch_m": round(pitch, 6),
                    "rows": rows,
                    "modules_per_row": per_row,
                    "panels": len(g),
                    "strings": n["strings"],
                    "panel_per_string": mps,
                    "string_per_row": spr,
                    "string_per_inverter": n["spi"],
                    "inverters": len(inverters),
                    "module_gap_m": MODULE_GAP_M,
                },
                "assumptions": assumptions,
            },
        }
    }


def _ground_extents(along, across, extent_along: float, extent_across: float) -> tuple[float, float]:
    """(x, z) extents of an axis-aligned ground box covering a field rotated by its azimuth."""
    x = abs(along[0]) * extent_along + abs(across[0]) * extent_across
    z = abs(along[2]) * extent_along + abs(across[2]) * extent_across
    return round(float(x), 3), round(float(z), 3)


def _equipment(inverters, *, n, rows, pitch, row_length, along, across) -> list[dict]:
    """Inverters and their string boxes at the start end of the rows their strings run in."""
    objects = []
    start = -row_length / 2
    for index, inverter in enumerate(inverters):
        first, last = index * n["spi"], min((index + 1) * n["spi"], n["strings"]) - 1
        if first > last:
            continue
        row_first, row_last = first // n["spr"], last // n["spr"]
        middle = ((row_first + row_last) / 2 - (rows - 1) / 2) * pitch
        length, height, width = inverter.dims
        centre = (start - EQUIPMENT_CLEARANCE_M - 1.5 - width / 2) * along + middle * across + (height / 2) * UP
        objects.append(
            {
                "id": f"inverter-{index + 1}",
                "name": inverter.name,
                "type": ObjectType.INVERTER.value,
                "position": np.round(centre, 4).tolist(),
                "rotation": [0.0, round(float(euler_xyz(_facing(along)[None])[0][1]), 6), 0.0],
                "scale": [1, 1, 1],
                "dimensions": {"length": length, "height": height, "width": width},
                "material": INVERTER_MATERIAL,
                "generated": True,
                "metadata": {
                    "device_id": inverter.device_id,
                    "serial_number": inverter.serial,
                    "rows": [row_first + 1, row_last + 1],
                    "strings": [first + 1, last + 1],
                },
            }
        )
        cursor = first
        for box_index, (box, served) in enumerate(inverter.boxes):
            box_first, box_last = cursor, min(cursor + served, last + 1) - 1
            cursor += served
            if box_first > box_last:
                continue
            rf, rl = box_first // n["spr"], box_last // n["spr"]
            box_middle = ((rf + rl) / 2 - (rows - 1) / 2) * pitch
            box_centre = (start - 1.0) * along + box_middle * across + (0.8 + STRING_BOX_M[1] / 2) * UP
            objects.append(
                {
                    "id": f"string-box-{index + 1}-{box_index + 1}",
                    "name": box.name,
                    "type": ObjectType.STRING_BOX.value,
                    "position": np.round(box_centre, 4).tolist(),
                    "rotation": [0.0, round(float(euler_xyz(_facing(along)[None])[0][1]), 6), 0.0],
                    "scale": [1, 1, 1],
                    "dimensions": dict(zip(("length", "height", "width"), STRING_BOX_M, strict=True)),
                    "material": STRING_BOX_MATERIAL,
                    "generated": True,
                    "metadata": {
                        "device_id": box.pk,
                        "serial_number": box.serial_number,
                        "inverter_id": inverter.device_id,
                        "rows": [rf + 1, rl + 1],
                        "strings": [box_first + 1, box_last + 1],
                    },
                }
            )
    return objects


def _facing(along: np.ndarray) -> np.ndarray:
    """A yaw-only rotation whose local z points along ``along`` (equipment faces the rows)."""
    z = along / np.linalg.norm(along)
    x = np.cross(UP, z)
    return np.column_stack([x, UP, z])
