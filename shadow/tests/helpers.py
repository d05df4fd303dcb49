"""Fixtures of the shadow tests: twins with panels (synthetic scenes in the generator's frame) and
runs with files on disk."""

from __future__ import annotations

import json
from pathlib import Path

from django.conf import settings

from shadow.choices import ShadowRunStatus
from shadow.models import ShadowRun
from shadow.scenes import rows_scene
from twins.models import DigitalTwin
from twins.services import twin_create

PNG_1PX = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82"
)


def twin_with_panels(plant, **scene) -> DigitalTwin:
    existing = DigitalTwin.objects.filter(plant=plant).first()
    if existing:
        return existing
    data = rows_scene(**({"rows": 2, "per_row": 3, "gcr": 0.5} | scene))
    return twin_create(plant=plant, by=None, twin_data=data)


def run_with_files(plant, *, status: str = ShadowRunStatus.COMPLETED) -> ShadowRun:
    """A run with a small per-panel table and files, as a worker leaves them."""
    twin = twin_with_panels(plant)
    run = ShadowRun.objects.create(
        plant=plant, twin=twin, twin_version=twin.version, status=status, parameters={"start": "2026-01-01"}
    )
    folder = Path(settings.MEDIA_ROOT) / "shadow" / str(plant.pk) / str(run.pk)
    folder.mkdir(parents=True, exist_ok=True)
    rows = [{"panel_id": "panel-00001", "string": "S1", "inverter": "INV1", "row": 1, "position_in_row": 1,
             "x": 0.0, "z": 0.0, "loss_kwh": 1.0, "loss_pct": 0.5, "mean_shaded_fraction": 0.01}]  # fmt: skip
    files = {"panels": ("panels.json", json.dumps(rows).encode()), "heatmap": ("heatmap.png", PNG_1PX),
             "matrix": ("matrix.png", PNG_1PX), "csv": ("result.csv", b"panel_id\npanel-00001\n")}  # fmt: skip
    artifacts = {}
    for kind, (name, content) in files.items():
        (folder / name).write_bytes(content)
        artifacts[kind] = str((folder / name).relative_to(settings.MEDIA_ROOT))
    run.artifacts = artifacts
    run.result_summary = {"annual": {"loss_kwh": 1.0}, "monthly": [{"month": "2026-01", "loss_kwh": 31.0}]}
    run.save(update_fields=["artifacts", "result_summary"])
    return run
