"""The scene's JSON schema (seed 000's suggested shape, extended) and its validation.

Keys are snake_case here: the API's parser has already turned the SPA's camelCase into them.
:func:`scene_problems` answers ``{json path: [messages]}`` for every problem (paths like
``twin_data.scene.objects[3].position[1]``, which the renderer shows camelCase), so a client
can point at each one; an empty dict means the scene may be saved.

Extensions over seed 000: every object has an ``id`` (unique in the scene; given on save when
missing), an optional ``name``, a ``shape`` for structures (``box``, ``cylinder`` for poles and
tree trunks, ``cone`` for tree crowns), ``generated`` (made by ``twin_generate``; regenerating
replaces those and keeps the rest) and ``tracked`` (a panel on a single-axis tracker, turned by
pvlib's angle when the scene is posed at an instant). ``string_box`` is an object type of its own.
"""

from __future__ import annotations

import math
import re
from functools import cache

from django.conf import settings
from jsonschema import Draft202012Validator

from .choices import ObjectType, Shape

MAX_COORDINATE_M = 100_000.0
MAX_DIMENSION_M = 10_000.0
HEX_COLOR = r"^#[0-9a-fA-F]{6}$"

_number = {"type": "number"}
_coordinate = {"type": "number", "minimum": -MAX_COORDINATE_M, "maximum": MAX_COORDINATE_M}
_vec3 = {"type": "array", "items": _coordinate, "minItems": 3, "maxItems": 3}
_angles = {
    "type": "array",
    "items": {"type": "number", "minimum": -100.0, "maximum": 100.0},
    "minItems": 3,
    "maxItems": 3,
}
_scale = {
    "type": "array",
    "items": {"type": "number", "exclusiveMinimum": 0, "maximum": 1000.0},
    "minItems": 3,
    "maxItems": 3,
}
_size = {"type": "number", "exclusiveMinimum": 0, "maximum": MAX_DIMENSION_M}
_unit = {"type": "number", "minimum": 0, "maximum": 1}
_color = {"type": "string", "pattern": HEX_COLOR}

_material = {
    "type": "object",
    "properties": {"color": _color, "opacity": _unit, "metalness": _unit, "roughness": _unit},
    "additionalProperties": False,
}

_object = {
    "type": "object",
    "required": ["type", "position", "dimensions"],
    "properties": {
        "id": {"type": "string", "minLength": 1, "maxLength": 64},
        "name": {"type": "string", "maxLength": 128},
        "type": {"enum": [choice.value for choice in ObjectType]},
        "shape": {"enum": [choice.value for choice in Shape]},
        "position": _vec3,
        "rotation": _angles,
        "scale": _scale,
        "dimensions": {
            "type": "object",
            "properties": {"length": _size, "width": _size, "height": _size, "radius": _size},
            "additionalProperties": False,
        },
        "material": _material,
        "metadata": {"type": "object"},
        "generated": {"type": "boolean"},
        "tracked": {"type": "boolean"},
    },
    "additionalProperties": False,
    # cylinders and cones are a radius and a height; everything else is a box
    "if": {"properties": {"shape": {"enum": [Shape.CYLINDER.value, Shape.CONE.value]}}, "required": ["shape"]},
    "then": {"properties": {"dimensions": {"required": ["radius", "height"]}}},
    "else": {"properties": {"dimensions": {"required": ["length", "width", "height"]}}},
}

_light = {
    "type": "object",
    "required": ["type"],
    "properties": {
        "type": {"enum": ["ambient", "directional", "point", "spot", "hemisphere"]},
        "position": _vec3,
        "target": _vec3,
        "color": _color,
        "ground_color": _color,
        "intensity": {"type": "number", "minimum": 0, "maximum": 1000},
    },
    "additionalProperties": False,
}

_camera = {
    "type": "object",
    "required": ["type"],
    "properties": {
        "type": {"enum": ["perspective", "orthographic"]},
        "position": _vec3,
        "target": _vec3,
        "fov": {"type": "number", "exclusiveMinimum": 0, "maximum": 179},
        "near": {"type": "number", "exclusiveMinimum": 0},
        "far": {"type": "number", "exclusiveMinimum": 0},
        "zoom": {"type": "number", "exclusiveMinimum": 0},
    },
    "additionalProperties": False,
}

_environment = {
    "type": "object",
    "properties": {
        "background": {"type": "string", "maxLength": 512},
        "fog": {
            "type": "object",
            "properties": {
                "color": _color,
                "near": {"type": "number", "minimum": 0},
                "far": {"type": "number", "minimum": 0},
            },
            "additionalProperties": False,
        },
    },
    "additionalProperties": False,
}


@cache
def twin_data_schema() -> dict:
    """The schema of ``twin_data`` (``TWIN_MAX_OBJECTS`` objects at most)."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "required": ["scene"],
        "properties": {
            "scene": {
                "type": "object",
                "required": ["objects"],
                "properties": {
                    "objects": {"type": "array", "items": _object, "maxItems": settings.TWIN_MAX_OBJECTS},
                    "lights": {"type": "array", "items": _light, "maxItems": 16},
                    "cameras": {"type": "array", "items": _camera, "maxItems": 8},
                    "environment": _environment,
                    "metadata": {"type": "object"},
                },
                "additionalProperties": False,
            }
        },
        "additionalProperties": False,
    }


@cache
def _validator() -> Draft202012Validator:
    return Draft202012Validator(twin_data_schema())


def _path(parts, root: str) -> str:
    text = root
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text


def _non_finite(data, root: str) -> dict[str, list[str]]:
    """NaN and infinities pass JSON Schema's ``number`` (and every comparison): find them."""
    found: dict[str, list[str]] = {}
    stack = [(data, root)]
    while stack:
        value, path = stack.pop()
        if isinstance(value, float) and not math.isfinite(value):
            found[path] = [f"Not a finite number: {value}."]
        elif isinstance(value, dict):
            stack.extend((item, f"{path}.{key}") for key, item in value.items())
        elif isinstance(value, list):
            stack.extend((item, f"{path}[{index}]") for index, item in enumerate(value))
    return found


def scene_problems(twin_data, *, root: str = "twin_data", max_problems: int = 100) -> dict[str, list[str]]:
    """Every problem of ``twin_data`` by JSON path (at most ``max_problems``); ``{}`` when valid.

    The scene's frame (lights, cameras, environment: a few entries) goes through the JSON
    schema; its objects, up to ``TWIN_MAX_OBJECTS`` of them, through :func:`_object_problems`,
    the same rules as ``_object`` checked by hand — jsonschema needs ~1 ms an object, which is
    seconds for a farm (``test_schema`` keeps the two in agreement)."""
    problems: dict[str, list[str]] = {}
    objects = None
    frame = twin_data
    if isinstance(twin_data, dict) and isinstance(twin_data.get("scene"), dict):
        objects = twin_data["scene"].get("objects")
        if isinstance(objects, list):
            frame = {**twin_data, "scene": {**twin_data["scene"], "objects": []}}
        else:
            objects = None
    problems.update(_non_finite(frame, root))
    if not problems:
        for error in _validator().iter_errors(frame):
            _add(problems, error, root)
            if len(problems) >= max_problems:
                return problems
    if objects is not None:
        base = f"{root}.scene.objects"
        limit = settings.TWIN_MAX_OBJECTS
        if len(objects) > limit:
            problems[base] = [f"A scene holds at most {limit} objects; this one has {len(objects)}."]
            return problems
        for index, obj in enumerate(objects):
            _object_problems(obj, f"{base}[{index}]", problems)
            if len(problems) >= max_problems:
                return dict(list(problems.items())[:max_problems])
    if not problems:
        problems.update(_duplicate_ids(twin_data, root))
    return problems


def _add(problems: dict[str, list[str]], error, root: str) -> None:
    parts = list(error.absolute_path)
    if error.validator == "required":
        for name in [name for name in error.validator_value if name not in error.instance]:
            problems.setdefault(_path([*parts, name], root), []).append("This field is required.")
    elif error.validator == "additionalProperties":
        allowed = set(error.schema.get("properties", {}))
        for name in [key for key in error.instance if key not in allowed]:
            problems.setdefault(_path([*parts, name], root), []).append("Unknown field.")
    else:
        problems.setdefault(_path(parts, root), []).append(error.message)


_OBJECT_FIELDS = frozenset(_object["properties"])
_TYPES = frozenset(_object["properties"]["type"]["enum"])
_SHAPES = frozenset(_object["properties"]["shape"]["enum"])
_DIMENSIONS = frozenset(("length", "width", "height", "radius"))
_MATERIAL_FIELDS = frozenset(_material["properties"])
_HEX = re.compile(HEX_COLOR)


def _number(value, path: str, problems: dict, *, low: float, high: float, open_low: bool = False) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        problems.setdefault(path, []).append(f"{value!r} is not of type 'number'")
    elif not math.isfinite(value):
        problems.setdefault(path, []).append(f"Not a finite number: {value}.")
    elif value < low or (open_low and value == low):
        problems.setdefault(path, []).append(
            f"{value} is less than or equal to the minimum of {low}"
            if open_low
            else f"{value} is less than the minimum of {low}"
        )
    elif value > high:
        problems.setdefault(path, []).append(f"{value} is greater than the maximum of {high}")


def _vector(value, path: str, problems: dict, **bounds) -> None:
    if not isinstance(value, list) or len(value) != 3:
        problems.setdefault(path, []).append("Three numbers [x, y, z].")
        return
    for index, item in enumerate(value):
        _number(item, f"{path}[{index}]", problems, **bounds)


def _object_problems(obj, path: str, problems: dict[str, list[str]]) -> None:  # noqa: C901 -- one flat rule per field, mirroring the JSON schema
    """The rules of ``_object`` (the JSON schema above), by hand."""
    if not isinstance(obj, dict):
        problems.setdefault(path, []).append("An object {type, position, dimensions, ...}.")
        return
    for key in obj.keys() - _OBJECT_FIELDS:
        problems.setdefault(f"{path}.{key}", []).append("Unknown field.")
    for key in ("type", "position", "dimensions"):
        if key not in obj:
            problems.setdefault(f"{path}.{key}", []).append("This field is required.")
    if "type" in obj and obj["type"] not in _TYPES:
        problems.setdefault(f"{path}.type", []).append(f"{obj['type']!r} is not one of {sorted(_TYPES)}")
    shape = obj.get("shape", Shape.BOX.value)
    if "shape" in obj and shape not in _SHAPES:
        problems.setdefault(f"{path}.shape", []).append(f"{shape!r} is not one of {sorted(_SHAPES)}")
    for key, limit in (("id", 64), ("name", 128)):
        if key in obj and (not isinstance(obj[key], str) or not (key == "name" or obj[key]) or len(obj[key]) > limit):
            problems.setdefault(f"{path}.{key}", []).append(f"A string of at most {limit} characters.")
    if "position" in obj:
        _vector(obj["position"], f"{path}.position", problems, low=-MAX_COORDINATE_M, high=MAX_COORDINATE_M)
    if "rotation" in obj:
        _vector(obj["rotation"], f"{path}.rotation", problems, low=-100.0, high=100.0)
    if "scale" in obj:
        _vector(obj["scale"], f"{path}.scale", problems, low=0.0, high=1000.0, open_low=True)
    dims = obj.get("dimensions")
    if "dimensions" in obj:
        if not isinstance(dims, dict):
            problems.setdefault(f"{path}.dimensions", []).append(
                "An object {length, width, height} or {radius, height}."
            )
        else:
            for key in dims.keys() - _DIMENSIONS:
                problems.setdefault(f"{path}.dimensions.{key}", []).append("Unknown field.")
            needed = ("radius", "height") if shape in (Shape.CYLINDER, Shape.CONE) else ("length", "width", "height")
            for key in needed:
                if key not in dims:
                    problems.setdefault(f"{path}.dimensions.{key}", []).append("This field is required.")
            for key in dims.keys() & _DIMENSIONS:
                _number(dims[key], f"{path}.dimensions.{key}", problems, low=0.0, high=MAX_DIMENSION_M, open_low=True)
    material = obj.get("material")
    if "material" in obj:
        if not isinstance(material, dict):
            problems.setdefault(f"{path}.material", []).append("An object {color, opacity, metalness, roughness}.")
        else:
            for key in material.keys() - _MATERIAL_FIELDS:
                problems.setdefault(f"{path}.material.{key}", []).append("Unknown field.")
            color = material.get("color", "#000000")
            if not isinstance(color, str) or not _HEX.match(color):
                problems.setdefault(f"{path}.material.color", []).append("A colour #rrggbb.")
            for key in ("opacity", "metalness", "roughness"):
                if key in material:
                    _number(material[key], f"{path}.material.{key}", problems, low=0.0, high=1.0)
    if "metadata" in obj:
        if not isinstance(obj["metadata"], dict):
            problems.setdefault(f"{path}.metadata", []).append("An object.")
        elif obj["metadata"]:
            problems.update(_non_finite(obj["metadata"], f"{path}.metadata"))
    for key in ("generated", "tracked"):
        if key in obj and not isinstance(obj[key], bool):
            problems.setdefault(f"{path}.{key}", []).append("true or false.")


def _duplicate_ids(twin_data, root: str) -> dict[str, list[str]]:
    seen: dict[str, int] = {}
    found: dict[str, list[str]] = {}
    for index, obj in enumerate(twin_data["scene"]["objects"]):
        object_id = obj.get("id")
        if object_id is None:
            continue
        if object_id in seen:
            found[f"{root}.scene.objects[{index}].id"] = [f"Duplicate id: also objects[{seen[object_id]}]."]
        else:
            seen[object_id] = index
    return found
