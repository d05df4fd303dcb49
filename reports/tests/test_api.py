"""Reports over HTTP as the SPA sends them: create → the job runs (eager here) → the report is
completed with real files: the PDF opens (pypdf text, pdftoppm renders), the XLSX reads back to
the KPI endpoint's numbers, the CSV parses; e-mail with the PDF attached; downloads only for
people who see the plant; bad input is a 400 naming the field."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
from datetime import date, timedelta

import pytest
from django.core import mail
from openpyxl import load_workbook
from pypdf import PdfReader

from reports.models import ReportJob
from solarhub.testing.personas import api_client_for
from solarhub.testing.services import services_required

from .helpers import constructed_day, kpi_plant

pytestmark = pytest.mark.django_db

DAY = date(2026, 6, 10)


@pytest.fixture
def plant(customer, installer):
    plant = kpi_plant(code="API-1", owner=customer, installer=installer, inverters=2)
    constructed_day(plant, DAY, fault=(10, 12))
    constructed_day(plant, DAY + timedelta(days=1))
    return plant


def _create(client, plant, **extra):
    body = {
        "plantId": plant.pk,
        "name": "June days",
        "reportType": "custom",
        "params": {"start": "2026-06-10", "end": "2026-06-11", "formats": ["pdf", "xlsx", "csv"]},
        **extra,
    }  # fmt: skip
    return client.post("/api/reports", body, format="json")


def test_a_report_is_produced_with_files_matching_the_kpis(
    plant, customer, outsider, django_capture_on_commit_callbacks, tmp_path
):
    client = api_client_for(customer)
    with django_capture_on_commit_callbacks(execute=True):  # the job runs after commit (eager here)
        response = _create(client, plant)
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["reportType"] == "custom" and created["jobId"]
    report = client.get(f"/api/reports/{created['id']}").json()
    assert report["status"] == "completed", report
    assert sorted(report["formats"]) == ["csv", "pdf", "xlsx"]
    assert report["artifactUrl"] == f"/api/reports/{created['id']}/download?format=pdf"
    kpis = client.get(f"/api/plants/{plant.pk}/kpis?start=2026-06-10&end=2026-06-11").json()
    total = kpis["total"]
    assert report["summary"]["performanceRatio"] == total["performanceRatio"]

    pdf = client.get(report["downloads"]["pdf"])
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    content = b"".join(pdf.streaming_content)
    reader = PdfReader(io.BytesIO(content))
    text = "".join(page.extract_text() for page in reader.pages)
    assert len(reader.pages) >= 2
    assert f"{total['performanceRatio']:.4f}" in text
    assert f"{total['energyKwh']:,.3f}" in text
    assert "Availability per inverter" in text and "Loss waterfall" in text
    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm is None:
        if services_required():
            pytest.fail("pdftoppm (poppler-utils) is required in CI (.ci/run installs it)")
    else:
        (tmp_path / "report.pdf").write_bytes(content)
        subprocess.run([pdftoppm, "-png", "-r", "30", str(tmp_path / "report.pdf"), str(tmp_path / "page")], check=True)
        pages = sorted(tmp_path.glob("page*.png"))
        assert len(pages) == len(reader.pages)  # every page renders
        assert all(page.read_bytes().startswith(b"\x89PNG") for page in pages)

    xlsx = client.get(report["downloads"]["xlsx"])
    assert xlsx["Content-Type"].startswith("application/vnd.openxmlformats")
    book = load_workbook(io.BytesIO(b"".join(xlsx.streaming_content)))
    assert {"Summary", "Daily KPIs", "Total", "Availability", "Alarms", "Losses"} <= set(book.sheetnames)
    rows = list(book["Daily KPIs"].iter_rows(values_only=True))
    header = rows[0]
    assert "Performance ratio PR [-]" in header and "AC energy [kWh]" in header
    for row, period in zip(rows[1:], kpis["periods"], strict=True):
        values = dict(zip(header, row, strict=True))
        assert values["Period"] == period["period"]
        assert values["AC energy [kWh]"] == period["energyKwh"]
        assert isinstance(values["Performance ratio PR [-]"], float)
        assert values["Performance ratio PR [-]"] == period["performanceRatio"]
        assert values["Availability, time [-]"] == period["availabilityTime"]
    availability = list(book["Availability"].iter_rows(values_only=True))
    assert [r[4] for r in availability[1:]] == [inv["availabilityTime"] for inv in kpis["inverters"]]

    text_csv = b"".join(client.get(report["downloads"]["csv"]).streaming_content).decode()
    parsed = list(csv.DictReader(io.StringIO(text_csv)))
    assert [r["Period"] for r in parsed] == ["2026-06-10", "2026-06-11"]
    assert float(parsed[0]["Performance ratio PR [-]"]) == kpis["periods"][0]["performanceRatio"]

    # Mailed to the requester with the files attached.
    message = mail.outbox[-1]
    assert message.to == [customer.email]
    names = [attachment[0] for attachment in message.attachments]
    assert f"report-{created['id']}.pdf" in names
    assert report["emailedTo"] == [customer.email]

    # Someone who does not see the plant: 404 for the report and its files.
    stranger = api_client_for(outsider)
    assert stranger.get(f"/api/reports/{created['id']}").status_code == 404
    assert stranger.get(report["downloads"]["pdf"]).status_code == 404

    # DELETE removes the row and the files.
    stored = ReportJob.objects.get(pk=created["id"])
    with django_capture_on_commit_callbacks(execute=True):
        assert client.delete(f"/api/reports/{created['id']}").status_code == 204
    from pathlib import Path

    from django.conf import settings

    assert not (Path(settings.MEDIA_ROOT) / stored.artifacts["pdf"]).exists()


def test_lists_filter_by_plant_status_and_type(plant, customer, django_capture_on_commit_callbacks):
    client = api_client_for(customer)
    with django_capture_on_commit_callbacks(execute=True):
        _create(client, plant)
    client.post("/api/reports", {"plantId": plant.pk, "name": "Weekly", "reportType": "weekly", "schedule": "weekly"},
                format="json")  # fmt: skip
    body = client.get(f"/api/reports?plantId={plant.pk}&reportType=weekly").json()
    results = body["results"] if isinstance(body, dict) else body
    assert [r["name"] for r in results] == ["Weekly"]
    assert results[0]["status"] == "scheduled"
    body = client.get("/api/reports?status=completed").json()
    results = body["results"] if isinstance(body, dict) else body
    assert [r["name"] for r in results] == ["June days"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"params": {"start": "2026-06-10", "end": "2026-06-01"}}, "end"),
        ({"params": {"start": "2024-01-01", "end": "2026-06-01"}}, "end"),
        ({"params": {"start": "2026-06-01", "end": "2026-06-02", "formats": ["docx"]}}, "formats"),
        ({"params": {"start": "2026-06-01", "end": "2026-06-02", "sections": ["horoscope"]}}, "sections"),
        ({"reportType": "weekly", "params": {}, "schedule": "61 * * * *"}, "schedule"),
        ({"reportType": "weekly", "params": {}, "schedule": "every tuesday"}, "schedule"),
        ({"reportType": "yearly"}, "reportType"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(plant, customer, change, field):
    response = _create(api_client_for(customer), plant, **change)
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["error_code"] == "VALIDATION_ERROR"
    assert field in str(body["errors"]), body


def test_kpi_endpoint_bad_ranges(plant, customer):
    client = api_client_for(customer)
    for query in (
        "start=2026-06-10&end=2026-06-01",
        "start=2022-01-01&end=2026-01-01",
        "start=x&end=y",
        "end=2026-06-01",
    ):
        response = client.get(f"/api/plants/{plant.pk}/kpis?{query}")
        assert response.status_code == 400, (query, response.content)
        assert response.json()["error_code"] == "VALIDATION_ERROR"
