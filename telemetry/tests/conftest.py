"""Fixtures shared by the telemetry tests."""

from __future__ import annotations

import pytest

from telemetry.catalog import metric_definitions
from telemetry.ingest import metric_catalog
from telemetry.models import Metric


@pytest.fixture
def seeded_catalog(transactional_db):
    """A transactional test before this one may have flushed the migration-seeded catalog
    (serialized_rollback clashes with content types re-created by flush): re-seed what is
    missing and refresh the per-process caches of metric ids."""
    existing = set(Metric.objects.values_list("key", flat=True))
    Metric.objects.bulk_create(
        [
            Metric(key=d.key, unit=d.unit, kind=d.kind, min_value=d.min_value, max_value=d.max_value)
            for d in metric_definitions()
            if d.key not in existing
        ]
    )
    metric_catalog(refresh=True)
    yield
    metric_catalog(refresh=True)
