"""Reads of the collector."""

from __future__ import annotations

from collector.models import CollectionConfig


def collection_config_of(*, device) -> CollectionConfig | None:
    """``device``'s collection config, or None. The caller has already checked the device is
    visible (``plants.selectors.device_get_for``)."""
    return CollectionConfig.objects.filter(device=device).select_related("device").first()
