"""Matrix entries of the reports routes. Reading (lists, details, downloads, KPIs) is open to
everyone who sees the plant; creating and deleting reports needs ``operate`` (owner, installer,
engineer, operator); completing an externally produced report needs ``change_plant``
(installer, platform admins). An invisible plant or report is 404, never 403."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from django.conf import settings

from reports.choices import ReportStatus
from reports.models import ReportJob
from solarhub.testing.matrix import Route, everyone, expect

_read_own = expect(customer=200, installer=200, plant_admin=200, outsider=404)
_read_other = expect(customer=404, installer=404, plant_admin=200, outsider=200)


def _report(w, t, *, with_file: bool = False) -> ReportJob:
    report = ReportJob.objects.create(
        plant=w.plants[t],
        name="June",
        report_type="monthly",
        status=ReportStatus.COMPLETED if with_file else ReportStatus.PENDING,
        period_start=date(2026, 6, 1),
        period_end=date(2026, 6, 30),
    )
    if with_file:
        relative = f"reports/{report.plant_id}/{report.pk}/report-{report.pk}.csv"
        path = Path(settings.MEDIA_ROOT) / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("Period\n2026-06-01\n")
        report.artifacts = {"csv": relative}
        report.save(update_fields=["artifacts"])
    return report


MATRIX = [
    Route("api:report-list", "GET", lambda w, t: "/api/reports", everyone(200) | {"anonymous": 401}),
    Route(
        "api:report-list",
        "POST",
        lambda w, t: "/api/reports",
        # a plant you cannot see is an unknown plantId (400), as on every body naming a plant
        expect(customer=201, installer=201, plant_admin=201, outsider=400),
        expect(customer=400, installer=400, plant_admin=201, outsider=201),
        body=lambda w, t: {
            "plantId": w.plants[t].id,
            "name": "June",
            "reportType": "custom",
            "params": {"start": "2026-06-01", "end": "2026-06-30", "formats": ["pdf", "csv"]},
        },
    ),
    Route("api:report-detail", "GET", lambda w, t: f"/api/reports/{_report(w, t).id}", _read_own, _read_other),
    Route(
        "api:report-detail",
        "DELETE",
        lambda w, t: f"/api/reports/{_report(w, t).id}",
        expect(customer=204, installer=204, plant_admin=204, outsider=404),
        expect(customer=404, installer=404, plant_admin=204, outsider=204),
    ),
    # Reports are not edited (a report is the record of what was produced): no PUT or PATCH.
    *[
        Route(
            "api:report-detail",
            method,
            lambda w, t: f"/api/reports/{_report(w, t).id}",
            expect(customer=405, installer=405, plant_admin=405, outsider=405),
            body=lambda w, t: {"name": "x"},
        )
        for method in ("PUT", "PATCH")
    ],
    Route(
        "api:report-complete",
        "POST",
        lambda w, t: f"/api/reports/{_report(w, t).id}/complete",
        expect(customer=403, installer=200, plant_admin=200, outsider=404),
        expect(customer=404, installer=404, plant_admin=200, outsider=403),
        body=lambda w, t: {"artifactUrl": "https://reports.example.com/june.pdf"},
    ),
    Route(
        "api:report-download",
        "GET",
        lambda w, t: f"/api/reports/{_report(w, t, with_file=True).id}/download?format=csv",
        _read_own,
        _read_other,
    ),
    Route(
        "api:plant-kpis",
        "GET",
        lambda w, t: f"/api/plants/{w.plants[t].id}/kpis?start=2026-06-01&end=2026-06-02",
        _read_own,
        _read_other,
    ),
]
