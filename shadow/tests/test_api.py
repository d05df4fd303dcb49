"""Shadow analysis over HTTP as the SPA sends it: request -> the job runs (eager here) -> the run is
completed with a summary, a paginated per-panel table, pictures that open and a CSV that parses;
bad parameters are a 400 naming the field; cancel; the completion step feeds the reports'
shading loss; a redelivered job leaves one outcome."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime

import numpy as np
import pytest
from PIL import Image

from reports.selectors import shading_loss_kwh
from shadow.models import ShadowRun
from shadow.scenes import box, rows_scene
from shadow.services import shadow_run_execute
from solarhub.testing.personas import api_client_for, make_plant
from twins.export import glb_json
from twins.services import twin_create

pytestmark = pytest.mark.django_db

WINTER_DAY = {"start": "2026-12-21", "end": "2026-12-21", "stepMinutes": 15}


@pytest.fixture
def plant(customer, installer):
    plant = make_plant(name="Shadow roof", owner=customer, installer=installer)
    chimney = box(name="chimney", centre=(-2.0, 1.75, 4.2), size=(0.9, 3.5, 0.9))
    twin_create(
        plant=plant, by=None, twin_data=rows_scene(rows=3, per_row=6, gcr=0.45, per_string=9, obstacles=[chimney])
    )
    return plant


def _post(client, plant, parameters=None, **extra):
    body = {"plantId": plant.pk, "parameters": parameters if parameters is not None else WINTER_DAY, **extra}
    return client.post("/api/shadow-analysis", body, format="json")


def _image(content: bytes) -> np.ndarray:
    image = Image.open(io.BytesIO(content))
    image.load()
    return np.asarray(image.convert("RGB"))


def test_a_run_completes_with_summary_panels_pictures_and_csv(
    plant, customer, outsider, django_capture_on_commit_callbacks
):
    client = api_client_for(customer)
    with django_capture_on_commit_callbacks(execute=True):  # the job runs after commit (eager here)
        response = _post(client, plant)
    assert response.status_code == 202, response.content
    accepted = response.json()
    assert set(accepted) == {"id", "status", "statusUrl"} and accepted["status"] == "queued"

    run = client.get(accepted["statusUrl"]).json()
    assert run["status"] == "completed", run
    assert run["progress"] == 100 and run["twinVersion"] == 1 and run["jobId"]
    summary = run["resultSummary"]
    annual = summary["annual"]
    assert annual["lossKwh"] > 0 and 0 < annual["lossPct"] < 100
    assert annual["lossKwh"] == pytest.approx(sum(m["lossKwh"] for m in summary["monthly"]), abs=0.01)
    assert [m["month"] for m in summary["monthly"]] == ["2026-12"]
    assert (
        len(summary["worstPanels"]) == 18
        and summary["worstPanels"][0]["lossKwh"] >= summary["worstPanels"][-1]["lossKwh"]
    )
    assert {s["string"] for s in summary["strings"]} == {"INV1/S001", "INV1/S002"}
    assert sum(s["lossKwh"] for s in summary["strings"]) == pytest.approx(annual["lossKwh"], abs=0.01)
    assert len(summary["monthHourLossKwh"]) == 12 and len(summary["monthHourLossKwh"][0]) == 24
    december = summary["monthly"][0]
    # the chimney shades some panel at every hour of the winter solstice: no unshaded hour
    assert december["firstUnshadedHour"] is None and december["lastUnshadedHour"] is None
    assert summary["model"]["rowModel"] == "analytic" and "direct_martinez" in summary["model"]["electrical"]
    assert run["links"]["heatmap"].endswith("/heatmap.png")

    page = client.get(f"{accepted['statusUrl']}/panels?pageSize=5")
    assert page.status_code == 200 and page["X-Total-Count"] == "18"
    rows = page.json()
    assert len(rows) == 5 and rows[0]["lossKwh"] >= rows[-1]["lossKwh"]
    assert {"panelId", "string", "inverter", "lossKwh", "lossPct", "meanShadedFraction"} <= set(rows[0])

    for name, size in (("heatmap.png", (800, 600)), ("matrix.png", (900, 450))):
        picture = client.get(f"{accepted['statusUrl']}/{name}")
        assert picture.status_code == 200 and picture["Content-Type"] == "image/png"
        pixels = _image(b"".join(picture.streaming_content))
        assert (pixels.shape[1], pixels.shape[0]) == size
        assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 20  # a picture, not a blank

    table = client.get(f"{accepted['statusUrl']}/result.csv")
    assert table.status_code == 200 and table["Content-Type"].startswith("text/csv")
    records = list(csv.DictReader(io.StringIO(b"".join(table.streaming_content).decode())))
    assert len(records) == 18 and {r["panel_id"] for r in records} == {f"panel-{i:05d}" for i in range(1, 19)}

    glb = client.get(f"{accepted['statusUrl']}/twin.glb")
    assert glb.status_code == 200 and glb["Content-Type"] == "model/gltf-binary"
    document = glb_json(glb.content)
    coloured = [m for m in document["meshes"] if "COLOR_0" in m["primitives"][0]["attributes"]]
    assert len(coloured) == 1
    assert any(node.get("name") == "chimney" for node in document["nodes"])

    # another plant's people see none of it
    other = api_client_for(outsider)
    assert other.get(accepted["statusUrl"]).status_code == 404
    assert other.get(f"{accepted['statusUrl']}/heatmap.png").status_code == 404
    assert [r["id"] for r in other.get("/api/shadow-analysis").json()] == []


def test_the_chimney_shades_the_panels_behind_it_in_the_winter_morning(plant, customer):
    client = api_client_for(customer)
    run_id = _post(client, plant).json()["id"]
    shadow_run_execute(run_id=run_id)
    panels = {r["panelId"]: r for r in client.get(f"/api/shadow-analysis/{run_id}/panels").json()}
    summary = client.get(f"/api/shadow-analysis/{run_id}").json()["resultSummary"]
    front_row = [panels[f"panel-{i:05d}"] for i in range(1, 7)]  # row 1 is never row-shaded
    assert any(p["meanShadedFraction"] > 0 for p in front_row)
    assert summary["rays"] > 0


@pytest.mark.parametrize(
    ("parameters", "path"),
    [
        ({"start": "2026-06-02", "end": "2026-06-01"}, ("parameters", "end")),
        ({"start": "2026-01-01", "end": "2028-06-01"}, ("parameters", "end")),
        ({"start": "2026-06-01", "end": "2026-06-01", "stepMinutes": 0}, ("parameters", "stepMinutes")),
        ({"start": "2026-06-01"}, ("parameters", "end")),
        ({"weather": "sunny"}, ("parameters", "weather")),
        ({"samplesPerPanel": [4]}, ("parameters", "samplesPerPanel")),
        ({"start": "2026-01-01", "end": "2026-12-31", "stepMinutes": 2000}, ("parameters", "stepMinutes")),
        ({"rowModel": "raycast"}, ("parameters", "rowModel")),
    ],
)
def test_bad_parameters_are_400_naming_the_field(plant, customer, parameters, path):
    response = _post(api_client_for(customer), plant, parameters)
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["errorCode"] == "VALIDATION_ERROR" if "errorCode" in body else body["error_code"] == "VALIDATION_ERROR"
    errors = body["errors"]
    for key in path:
        errors = errors[key]
    assert errors
    assert not ShadowRun.objects.exists()


def test_twin_of_another_plant_and_plant_without_twin_are_400(plant, customer, installer, plant_admin):
    bare = make_plant(name="No twin", owner=customer, installer=installer)
    foreign = make_plant(name="Elsewhere", owner=customer, installer=installer)
    foreign_twin = twin_create(plant=foreign, by=None, twin_data=rows_scene(rows=1, per_row=2, gcr=0.4))
    client = api_client_for(customer)
    response = _post(client, plant, twinId=foreign_twin.pk)
    assert response.status_code == 400 and "twinId" in response.json()["errors"], response.content
    response = _post(client, bare)
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["error_code"] == "NO_DIGITAL_TWIN"
    assert f"/api/plants/{bare.pk}/digital-twin/generate" in body["detail"]
    assert not ShadowRun.objects.exists()


def test_cancel_stops_a_queued_run_and_a_finished_run_is_409(plant, customer):
    client = api_client_for(customer)
    run_id = _post(client, plant).json()["id"]
    response = client.post(f"/api/shadow-analysis/{run_id}/cancel")
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    assert shadow_run_execute(run_id=run_id)["status"] == "cancelled"  # the job does not compute it
    assert ShadowRun.objects.get(pk=run_id).result_summary is None
    again = client.post(f"/api/shadow-analysis/{run_id}/cancel")
    assert again.status_code == 409 and again.json()["error_code"] == "NOT_CANCELLABLE"


def test_a_redelivered_run_is_computed_once_more_with_one_outcome(plant, customer):
    client = api_client_for(customer)
    run_id = _post(client, plant).json()["id"]
    first = shadow_run_execute(run_id=run_id)
    assert first["status"] == "completed"
    done = ShadowRun.objects.get(pk=run_id)
    # a redelivery of a finished run does nothing
    assert shadow_run_execute(run_id=run_id)["status"] == "completed"
    assert ShadowRun.objects.get(pk=run_id).completed_at == done.completed_at
    # a worker that died mid-run left it running: the redelivery computes it again, same summary
    ShadowRun.objects.filter(pk=run_id).update(status="running", result_summary=None, progress=40)
    assert shadow_run_execute(run_id=run_id)["status"] == "completed"
    again = ShadowRun.objects.get(pk=run_id)
    assert again.result_summary["annual"] == done.result_summary["annual"]
    assert ShadowRun.objects.filter(plant=plant).count() == 1


def test_list_filters_by_plant_and_status(plant, customer, installer):
    other = make_plant(name="Second roof", owner=customer, installer=installer)
    twin_create(plant=other, by=None, twin_data=rows_scene(rows=1, per_row=2, gcr=0.4))
    client = api_client_for(customer)
    a = _post(client, plant).json()["id"]
    b = _post(client, other).json()["id"]
    client.post(f"/api/shadow-analysis/{b}/cancel")
    ids = lambda query: {r["id"] for r in client.get(f"/api/shadow-analysis{query}").json()}  # noqa: E731
    assert ids("") == {a, b}
    assert ids(f"?plantId={plant.pk}") == {a}
    assert ids("?status=cancelled") == {b}
    assert client.get("/api/shadow-analysis?status=sunny").status_code == 400


def test_complete_stores_an_external_summary_that_the_reports_read(plant, installer, customer):
    run_id = _post(api_client_for(customer), plant).json()["id"]
    monthly = [{"month": "2026-01", "lossKwh": 31.0}, {"month": "2026-02", "lossKwh": 56.0}]
    body = {"resultSummary": {"monthly": monthly}, "assetUrl": "https://shade.example.com/run.png"}
    assert (
        api_client_for(customer).post(f"/api/shadow-analysis/{run_id}/complete", body, format="json").status_code == 403
    )
    response = api_client_for(installer).post(f"/api/shadow-analysis/{run_id}/complete", body, format="json")
    assert response.status_code == 200 and response.json()["status"] == "completed", response.content
    # 1 to 10 January (10 days at 1 kWh/day) + 1 February (2 kWh/day), plant-local days
    start = datetime(2026, 1, 1, 8, tzinfo=UTC)  # midnight in Los Angeles
    end = datetime(2026, 2, 2, 8, tzinfo=UTC)
    assert shading_loss_kwh(plant=plant, start=start, end=end) == pytest.approx(31.0 + 2.0)
    assert shading_loss_kwh(plant=plant, start=datetime(2026, 1, 1, 8, tzinfo=UTC),
                            end=datetime(2026, 1, 11, 8, tzinfo=UTC)) == pytest.approx(10.0)  # fmt: skip
    assert shading_loss_kwh(plant=plant, start=datetime(2026, 5, 1, 8, tzinfo=UTC),
                            end=datetime(2026, 5, 2, 8, tzinfo=UTC)) is None  # fmt: skip


def test_a_second_run_reuses_the_twin_versions_near_shading_table(plant, customer):
    client = api_client_for(customer)
    parameters = {**WINTER_DAY, "shadingTable": True}
    first = _post(client, plant, parameters).json()["id"]
    shadow_run_execute(run_id=first)
    second = _post(client, plant, {**parameters, "weather": "tmy"}).json()["id"]
    shadow_run_execute(run_id=second)
    a = client.get(f"/api/shadow-analysis/{first}").json()["resultSummary"]
    b = client.get(f"/api/shadow-analysis/{second}").json()["resultSummary"]
    assert a["rays"] > 0 and b["rays"] == 0
    reused = [int(re.search(r": (\d+) bins reused", s["model"]["notes"][-1]).group(1)) for s in (a, b)]
    assert reused[0] == 0 and reused[1] > 0
    assert _post(client, plant, {**parameters, "rowModel": "raycast"}).status_code == 400
