"""Writes of the twins app: keyword-only, typed functions named <entity>_<action>.

Every save validates the whole scene first (:func:`twins.schema.scene_problems`: a 400 naming
the JSON path of each problem, nothing written), then stores it on the twin and as a new
:class:`DigitalTwinVersion` in the same transaction; versions beyond ``TWIN_VERSIONS_KEPT``
(at least 20) are pruned oldest first. The twin row is locked while its version number moves,
so two concurrent saves get consecutive versions.
"""

from __future__ import annotations

import copy

from django.conf import settings
from django.db import transaction
from rest_framework import exceptions

from plants.models import Plant
from solarhub.api.exceptions import ApiError

from .choices import ObjectType, VersionReason
from .generation import STRUCTURE_MATERIAL, twin_generate
from .models import DigitalTwin, DigitalTwinVersion
from .schema import scene_problems


def twin_data_check(*, twin_data, root: str = "twin_data") -> dict:
    """``twin_data`` made complete (object ids, default rotation/scale/material) when valid;
    raises a 400 ``VALIDATION_ERROR`` with ``errors: {json path: [messages]}`` otherwise."""
    problems = scene_problems(twin_data, root=root)
    if problems:
        raise exceptions.ValidationError(problems)
    data = copy.deepcopy(twin_data)
    objects = data["scene"]["objects"]
    taken = {obj["id"] for obj in objects if "id" in obj}
    counter = 0
    for obj in objects:
        if "id" not in obj:
            counter += 1
            while f"object-{counter}" in taken:
                counter += 1
            obj["id"] = f"object-{counter}"
            taken.add(obj["id"])
        obj.setdefault("rotation", [0.0, 0.0, 0.0])
        obj.setdefault("scale", [1, 1, 1])
        if obj["type"] == ObjectType.STRUCTURE:
            obj.setdefault("shape", "box")
            obj.setdefault("material", dict(STRUCTURE_MATERIAL))
        obj.setdefault("metadata", {})
    data["scene"].setdefault("lights", [])
    data["scene"].setdefault("cameras", [])
    data["scene"].setdefault("environment", {})
    data["scene"].setdefault("metadata", {})
    return data


def _object_count(twin_data: dict) -> int:
    return len(twin_data["scene"]["objects"])


def _scene_set(twin: DigitalTwin, data: dict) -> list[str]:
    """Put ``data`` on ``twin`` with its counts; the fields to save."""
    twin.twin_data = data
    twin.object_count = _object_count(data)
    twin.panel_count = sum(1 for obj in data["scene"]["objects"] if obj["type"] == ObjectType.SOLAR_PANEL)
    return ["twin_data", "object_count", "panel_count"]


def _version_add(*, twin: DigitalTwin, reason: str, by) -> DigitalTwinVersion:
    row = DigitalTwinVersion.objects.create(
        twin=twin,
        version=twin.version,
        twin_data=twin.twin_data,
        reason=reason,
        object_count=_object_count(twin.twin_data),
        created_by=by if by is not None and by.is_authenticated else None,
    )
    keep_from = twin.version - settings.TWIN_VERSIONS_KEPT
    if keep_from > 0:
        DigitalTwinVersion.objects.filter(twin=twin, version__lte=keep_from).delete()
    return row


def _user(by):
    return by if by is not None and by.is_authenticated else None


@transaction.atomic
def twin_create(*, plant: Plant, by, twin_data: dict, name: str = "") -> DigitalTwin:
    """The plant's twin with ``twin_data`` (version 1). A plant has one twin: 409 when it has."""
    data = twin_data_check(twin_data=twin_data)
    if DigitalTwin.objects.filter(plant=plant).exists():
        raise ApiError(
            "This plant already has a digital twin: change it, or regenerate it from the registry.",
            code="twin_exists",
            status_code=409,
        )
    twin = DigitalTwin(plant=plant, name=name, version=1, created_by=_user(by), updated_by=_user(by))
    _scene_set(twin, data)
    twin.save()
    _version_add(twin=twin, reason=VersionReason.CREATE, by=by)
    return twin


@transaction.atomic
def twin_update(*, twin: DigitalTwin, by, twin_data: dict | None = None, name: str | None = None) -> DigitalTwin:
    """Change a twin's name and/or scene; a new scene becomes a new version."""
    data = twin_data_check(twin_data=twin_data) if twin_data is not None else None
    locked = DigitalTwin.objects.select_for_update().get(pk=twin.pk)
    fields = ["updated_at", "updated_by"]
    if name is not None:
        locked.name = name
        fields.append("name")
    locked.updated_by = _user(by)
    if data is not None and data != locked.twin_data:
        locked.version += 1
        fields += ["version", *_scene_set(locked, data)]
    locked.save(update_fields=fields)
    if "version" in fields:
        _version_add(twin=locked, reason=VersionReason.UPDATE, by=by)
    return locked


@transaction.atomic
def twin_regenerate(
    *, plant: Plant, by, replace_obstacles: bool = False, obstacles: list | None = None, name: str | None = None
) -> tuple[DigitalTwin, bool]:
    """(Re)generate the plant's twin from its registry (:func:`twins.generation.twin_generate`).
    Objects the generator did not make (user-added obstacles, …) are kept, unless
    ``replace_obstacles``; ``obstacles`` are added (validated like any scene object).
    Returns ``(twin, created)``."""
    generated = twin_generate(plant=plant)
    twin = DigitalTwin.objects.select_for_update().filter(plant=plant).first()
    kept = []
    if twin is not None and not replace_obstacles:
        kept = [obj for obj in twin.twin_data["scene"]["objects"] if not obj.get("generated")]
    extra = [{**obj, "generated": False} for obj in (obstacles or [])]
    if extra:
        problems = scene_problems({"scene": {"objects": extra}}, root="obstacles")
        if problems:
            raise exceptions.ValidationError(
                {key.replace("obstacles.scene.objects", "obstacles", 1): value for key, value in problems.items()}
            )
    taken = {obj["id"] for obj in generated["scene"]["objects"]}
    for obj in kept + extra:
        if obj.get("id") in taken:
            obj = obj | {"id": f"user-{obj['id']}"}
        generated["scene"]["objects"].append(obj)
        if "id" in obj:
            taken.add(obj["id"])
    data = twin_data_check(twin_data=generated)
    if twin is None:
        twin = DigitalTwin(plant=plant, name=name or "", version=1, created_by=_user(by), updated_by=_user(by))
        _scene_set(twin, data)
        twin.save()
        _version_add(twin=twin, reason=VersionReason.GENERATE, by=by)
        return twin, True
    _scene_set(twin, data)
    twin.version += 1
    twin.updated_by = _user(by)
    if name is not None:
        twin.name = name
    twin.save()
    _version_add(twin=twin, reason=VersionReason.GENERATE, by=by)
    return twin, False


def twin_delete(*, twin: DigitalTwin) -> None:
    """Delete a twin and its versions."""
    twin.delete()
