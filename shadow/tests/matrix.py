"""Matrix entries of the shadow-analysis routes. Reading (list, detail, panels, pictures, CSV) is
open to everyone who sees the plant; requesting and cancelling a run needs ``operate`` (owner,
installer, engineer, operator); completing an externally computed run needs ``change_plant``
(installer, platform admins). An invisible plant or run is 404, never 403."""

from __future__ import annotations

from shadow.models import ShadowRun
from solarhub.testing.matrix import Route, everyone, expect

from .helpers import run_with_files, twin_with_panels

_read_own = expect(customer=200, installer=200, plant_admin=200, outsider=404)
_read_other = expect(customer=404, installer=404, plant_admin=200, outsider=200)
_read = (_read_own, _read_other)
_operate_own = expect(customer=200, installer=200, plant_admin=200, outsider=404)
_operate_other = expect(customer=404, installer=404, plant_admin=200, outsider=200)


def _base(w, t) -> str:
    return f"/api/shadow-analysis/{_run(w, t).id}"


def _run(w, t) -> ShadowRun:
    return run_with_files(w.plants[t])


def _queued(w, t) -> ShadowRun:
    twin = twin_with_panels(w.plants[t])
    return ShadowRun.objects.create(plant=w.plants[t], twin=twin, twin_version=twin.version)


def _create_body(w, t) -> dict:
    twin_with_panels(w.plants[t])
    return {"plantId": w.plants[t].id, "parameters": {"start": "2026-06-21", "end": "2026-06-21", "stepMinutes": 60}}


MATRIX = [
    Route("api:shadow-analysis-list", "GET", lambda w, t: "/api/shadow-analysis", everyone(200) | {"anonymous": 401}),
    Route(
        "api:shadow-analysis-list",
        "POST",
        lambda w, t: "/api/shadow-analysis",
        # a plant you cannot see is an unknown plantId (400), as on every body naming a plant
        expect(customer=202, installer=202, plant_admin=202, outsider=400),
        expect(customer=400, installer=400, plant_admin=202, outsider=202),
        body=_create_body,
    ),
    Route(
        "api:shadow-analysis-detail",
        "GET",
        lambda w, t: f"/api/shadow-analysis/{_run(w, t).id}",
        _read_own,
        _read_other,
    ),
    # A run is the record of what was computed: no PUT, PATCH or DELETE.
    *[
        Route(
            "api:shadow-analysis-detail",
            method,
            lambda w, t: f"/api/shadow-analysis/{_run(w, t).id}",
            expect(customer=405, installer=405, plant_admin=405, outsider=405),
            body=lambda w, t: {"status": "completed"},
        )
        for method in ("PUT", "PATCH", "DELETE")
    ],
    *[
        Route(
            f"api:shadow-analysis-{name}",
            "GET",
            lambda w, t, suffix=suffix: f"/api/shadow-analysis/{_run(w, t).id}/{suffix}",
            _read_own,
            _read_other,
        )
        for name, suffix in (
            ("panels", "panels"),
            ("heatmap", "heatmap.png"),
            ("matrix", "matrix.png"),
            ("result-csv", "result.csv"),
            ("twin-glb", "twin.glb"),
        )
    ],
    Route(
        "api:shadow-analysis-cancel",
        "POST",
        lambda w, t: f"/api/shadow-analysis/{_queued(w, t).id}/cancel",
        _operate_own,
        _operate_other,
    ),
    Route(
        "api:shadow-analysis-complete",
        "POST",
        lambda w, t: f"/api/shadow-analysis/{_queued(w, t).id}/complete",
        expect(customer=403, installer=200, plant_admin=200, outsider=404),
        expect(customer=404, installer=404, plant_admin=200, outsider=403),
        body=lambda w, t: {"resultSummary": {"annual": {"lossKwh": 12.5}}, "assetUrl": "https://x.example.com/a.png"},
    ),
]
