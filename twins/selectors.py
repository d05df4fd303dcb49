"""Reads of the twins app: keyword-only, typed functions named <entity>_<action>."""

from __future__ import annotations

from django.db.models import QuerySet

from plants.selectors import plant_ids_visible_to

from .models import DigitalTwin, DigitalTwinVersion


def twin_list_visible_to(user) -> QuerySet[DigitalTwin]:
    """Twins of the plants ``user`` may see (a subquery, never a per-row check)."""
    return DigitalTwin.objects.filter(plant_id__in=plant_ids_visible_to(user))


def twin_versions(*, twin: DigitalTwin) -> QuerySet[DigitalTwinVersion]:
    """The kept versions of ``twin``, newest first, without their scenes (``defer``)."""
    return DigitalTwinVersion.objects.filter(twin=twin).defer("twin_data").order_by("-version")


def twin_version_data(*, twin: DigitalTwin, version: int | None) -> tuple[int, dict] | None:
    """``(version, twin_data)`` of ``twin`` at ``version`` (``None``: the current scene), or
    ``None`` when that version is not (or no longer) kept."""
    if version is None or version == twin.version:
        return twin.version, twin.twin_data
    row = DigitalTwinVersion.objects.filter(twin=twin, version=version).only("version", "twin_data").first()
    return (row.version, row.twin_data) if row else None


def scene_counts(twin_data: dict) -> dict[str, int]:
    """Objects per type of a scene (list views show these instead of the whole scene)."""
    counts: dict[str, int] = {}
    for obj in (twin_data or {}).get("scene", {}).get("objects", []):
        counts[obj.get("type")] = counts.get(obj.get("type"), 0) + 1
    return counts
