"""The predicted-generation API: runs as jobs, seed 000's list/create/detail, scoping, bad input."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from accounts.services import user_create
from forecasting.models import GenerationForecast
from plants.choices import PlantRole
from plants.models import PlantMembership
from solarhub.models import Job, JobStatus
from solarhub.testing.personas import api_client_for

from .helpers import configured_plant


@pytest.fixture
def plant(db, customer, installer):
    return configured_plant(code="API", owner=customer, installer=installer)


def run(client, body, capture):
    with capture(execute=True):
        return client.post("/api/predicted-generation/run", body, format="json")


def test_run_day_ahead_job_then_read_the_forecast(plant, customer, django_capture_on_commit_callbacks):
    client = api_client_for(customer)
    response = run(
        client,
        {"plantId": plant.id, "horizon": "day_ahead", "source": "clearsky", "start": "2026-06-21"},
        django_capture_on_commit_callbacks,
    )
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["status"] == "queued"
    assert body["statusUrl"] == f"/api/jobs/{body['id']}"
    job = Job.objects.get(pk=body["id"])
    assert job.status == JobStatus.COMPLETED, job.error
    forecast_id = job.result["forecastId"]

    polled = client.get(body["statusUrl"]).json()
    assert polled["result"] == {"forecastId": forecast_id}

    detail = client.get(f"/api/predicted-generation/{forecast_id}").json()
    assert detail["plantId"] == plant.id
    assert detail["forecastDate"] == "2026-06-21"
    assert detail["horizon"] == "day_ahead"
    assert detail["source"] == "clearsky"
    assert detail["generatedBy"] == customer.id
    assert len(detail["dataPoints"]) == 96
    assert set(detail["dataPoints"][0]) == {"timestamp", "kw"}
    assert detail["dataPoints"][0]["timestamp"] == "2026-06-21T07:00:00Z"
    summary = detail["summary"]
    assert summary["energyKwh"] > 100 and 0 < summary["peakKw"] <= 50.0
    assert summary["peakAt"].endswith("Z")
    assert detail["modelConfig"]["transposition"] == "perez"
    assert detail["calibration"] == {"applied": False}

    listed = client.get(f"/api/predicted-generation?plantId={plant.id}").json()
    assert [row["id"] for row in listed] == [forecast_id]


def test_run_with_cloud_cover_weather(plant, customer, django_capture_on_commit_callbacks):
    start = datetime(2026, 6, 21, 7, tzinfo=UTC)
    weather = [
        {"timestamp": (start + timedelta(hours=h)).isoformat(), "cloudCover": 60, "tempAir": 24} for h in range(25)
    ]
    response = run(
        api_client_for(customer),
        {
            "plantId": plant.id,
            "horizon": "day_ahead",
            "source": "cloud_cover",
            "start": "2026-06-21",
            "weather": weather,
        },
        django_capture_on_commit_callbacks,
    )
    assert response.status_code == 202, response.content
    job = Job.objects.get(pk=response.json()["id"])
    assert job.status == JobStatus.COMPLETED, job.error
    assert GenerationForecast.objects.get(pk=job.result["forecastId"]).source == "cloud_cover"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"horizon": "day_ahead", "source": "clearsky"}, "plantId"),
        ({"horizon": "fortnight", "source": "clearsky"}, "horizon"),
        ({"horizon": "day_ahead", "source": "crystal_ball"}, "source"),
        ({"horizon": "day_ahead", "source": "smart_persistence"}, "source"),
        ({"horizon": "year", "source": "cloud_cover"}, "source"),
        ({"horizon": "day_ahead", "source": "cloud_cover"}, "weather"),
        (
            {
                "horizon": "day_ahead",
                "source": "irradiance",
                "weather": [{"timestamp": "2026-06-21T07:00:00Z", "ghi": 1}],
            },
            "weather",
        ),
        (
            {
                "horizon": "day_ahead",
                "source": "cloud_cover",
                "start": "2026-06-21",
                "weather": "timestamp,cloud_cover\nnot-a-time,5",
            },
            "weather",
        ),
        ({"horizon": "day_ahead", "source": "clearsky", "start": "21/06/2026"}, "start"),
        ({"horizon": "day_ahead", "source": "clearsky", "start": "1900-01-01"}, "start"),
    ],
)
def test_run_bad_input_is_400_naming_the_field(plant, customer, body, field):
    if field != "plantId":
        body = {"plantId": plant.id, **body}
    response = api_client_for(customer).post("/api/predicted-generation/run", body, format="json")
    assert response.status_code == 400, response.content
    payload = response.json()
    assert payload["error_code"] == "VALIDATION_ERROR"
    assert field in payload["errors"], payload
    assert not Job.objects.exists()


def test_run_on_a_misconfigured_plant_is_400_naming_fields(db, customer, installer):
    plant = configured_plant(code="MIS", owner=customer, installer=installer, surface_tilt=None, surface_azimuth=None)
    response = api_client_for(customer).post(
        "/api/predicted-generation/run",
        {"plantId": plant.id, "horizon": "day_ahead", "source": "clearsky"},
        format="json",
    )
    assert response.status_code == 400
    body = response.json()
    assert body["error_code"] == "PLANT_CONFIG_INVALID"
    assert set(body["errors"]) == {"surfaceTilt", "surfaceAzimuth"}
    assert "surfaceTilt" in body["detail"]


def test_viewer_reads_but_may_not_run_or_post(plant):
    viewer = user_create(email="v@example.com", password="x-Pass-1234", username="v")
    PlantMembership.objects.create(user=viewer, plant=plant, role=PlantRole.VIEWER)
    client = api_client_for(viewer)
    assert client.get(f"/api/predicted-generation?plantId={plant.id}").status_code == 200
    response = client.post(
        "/api/predicted-generation/run",
        {"plantId": plant.id, "horizon": "day_ahead", "source": "clearsky"},
        format="json",
    )
    assert response.status_code == 403
    response = client.post(
        "/api/predicted-generation",
        {
            "plantId": plant.id,
            "forecastDate": "2026-06-21",
            "horizon": "day_ahead",
            "dataPoints": [{"timestamp": "2026-06-21T19:00:00Z", "kw": 1}],
        },
        format="json",
    )
    assert response.status_code == 403
    assert not GenerationForecast.objects.exists()


def test_external_forecast_is_stored_with_a_computed_summary(plant, customer):
    points = [{"timestamp": f"2026-06-21T{h:02d}:00:00Z", "kw": kw} for h, kw in ((18, 10.0), (19, 30.0), (20, 20.0))]
    response = api_client_for(customer).post(
        "/api/predicted-generation",
        {"plantId": plant.id, "forecastDate": "2026-06-21", "horizon": "day_ahead", "dataPoints": points},
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["source"] == "external"
    assert body["summary"] == {"energyKwh": 60.0, "peakKw": 30.0, "peakAt": "2026-06-21T19:00:00Z"}
    assert body["resolution"] == "hour"  # regular points: scored against actuals like ours
    assert body["windowEnd"] == "2026-06-21T21:00:00Z"
    assert body["generatedBy"] == customer.id


@pytest.mark.parametrize(
    "points",
    [
        [],
        [{"timestamp": "noon", "kw": 1}],
        [{"timestamp": "2026-06-21T19:00:00", "kw": 1}],
        [{"timestamp": "2026-06-21T19:00:00Z", "kw": "x"}],
        [{"timestamp": "2026-06-21T19:00:00Z", "kw": 1}, {"timestamp": "2026-06-21T19:00:00Z", "kw": 2}],
        "not a list",
    ],
)
def test_external_forecast_bad_points_are_400(plant, customer, points):
    response = api_client_for(customer).post(
        "/api/predicted-generation",
        {"plantId": plant.id, "forecastDate": "2026-06-21", "horizon": "day_ahead", "dataPoints": points},
        format="json",
    )
    assert response.status_code == 400
    assert "dataPoints" in response.json()["errors"]


def test_list_shows_exactly_the_visible_forecasts(plant, customer, outsider, plant_admin):
    theirs = configured_plant(code="THEIRS", owner=outsider)
    mine = GenerationForecast.objects.create(plant=plant, forecast_date="2026-06-21", horizon="day_ahead")
    other = GenerationForecast.objects.create(plant=theirs, forecast_date="2026-06-22", horizon="day_ahead")

    def ids(user, query=""):
        return [row["id"] for row in api_client_for(user).get(f"/api/predicted-generation{query}").json()]

    assert ids(customer) == [mine.id]
    assert ids(outsider) == [other.id]
    assert ids(plant_admin) == [other.id, mine.id]  # newest forecast date first
    assert ids(customer, f"?plantId={theirs.id}") == []
    assert ids(plant_admin, "?horizon=week_ahead") == []
    assert api_client_for(customer).get(f"/api/predicted-generation/{other.id}").status_code == 404


def test_accuracy_needs_a_plant(plant, customer):
    response = api_client_for(customer).get("/api/predicted-generation/accuracy")
    assert response.status_code == 400
    assert "plantId" in response.json()["errors"]
    response = api_client_for(customer).get("/api/predicted-generation/accuracy?plantId=abc")
    assert response.status_code == 400


def test_list_query_count_does_not_grow_with_forecasts(plant, customer, django_assert_max_num_queries):
    for day in range(1, 21):
        GenerationForecast.objects.create(plant=plant, forecast_date=f"2026-06-{day:02d}", horizon="day_ahead")
    client = api_client_for(customer)
    with django_assert_max_num_queries(3):  # the user (JWT), one page of forecasts, nothing per row
        response = client.get("/api/predicted-generation")
    assert len(response.json()) == 20


def test_smart_persistence_without_recent_actuals_is_400_up_front(plant, customer):
    response = api_client_for(customer).post(
        "/api/predicted-generation/run",
        {"plantId": plant.id, "horizon": "intraday", "source": "smart_persistence"},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["error_code"] == "NO_RECENT_ACTUALS"
    assert not Job.objects.exists()


def test_job_failure_is_reported_on_the_job(plant, customer, django_capture_on_commit_callbacks):
    from forecasting.jobs import FORECAST_RUN
    from solarhub.jobs.services import job_enqueue

    with django_capture_on_commit_callbacks(execute=True):
        job, _ = job_enqueue(
            kind=FORECAST_RUN, plant=plant, requested_by=customer,
            params={"horizon": "intraday", "source": "smart_persistence", "start": None, "weather": None},
        )  # fmt: skip
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert "Smart persistence needs measured AC power" in job.error


_RUN = "/api/predicted-generation/run"
_POST = "/api/predicted-generation"
_DA = {"plantId": "{plant}", "horizon": "day_ahead"}
_CC = {**_DA, "source": "cloud_cover"}
_EXT = {**_DA, "forecastDate": "2026-06-21"}
_ONE = [{"timestamp": "2026-06-21T07:00:00Z", "cloudCover": 1}]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", "/api/predicted-generation?plantId=x&forecastDate=nope&horizon=%00", None),
        ("get", "/api/predicted-generation/accuracy?plantId=1%00&horizon=x", None),
        ("get", "/api/plants/{plant}/expected-power?start=%00&end=2026", None),
        ("get", "/api/plants/{plant}/expected-power?start=9999-01-01T00:00:00Z", None),
        ("post", _RUN, "not json"),
        ("post", _RUN, {"plantId": "{plant}", "horizon": ["day_ahead"], "source": {}}),
        ("post", _RUN, {**_DA, "source": "clearsky", "weather": {"tempAir": "hot"}}),
        ("post", _RUN, {**_CC, "weather": {"data": [1, 2]}}),
        ("post", _RUN, {**_CC, "weather": {"data": _ONE, "decomposition": 5}}),
        ("post", _RUN, {"plantId": "{plant}", "horizon": "year", "source": "tmy", "weather": 42}),
        ("post", _RUN, {"plantId": "{plant}", "horizon": "year", "source": "tmy", "weather": "LOCATION\x00"}),
        ("post", _RUN, {"plantId": 10**12, "horizon": "day_ahead", "source": "clearsky"}),
        (
            "post",
            _POST,
            {**_EXT, "forecastDate": "2026-02-30", "dataPoints": [{"timestamp": "2026-06-21T19:00:00Z", "kw": 1}]},
        ),
        ("post", _POST, {**_EXT, "dataPoints": [{"timestamp": "2026-06-21T19:00:00Z", "kw": 1e308}]}),
        ("post", _POST, {**_EXT, "dataPoints": [{"timestamp": "2026-06-21T19:00:00Z\x00", "kw": 1}]}),
        ("post", _POST, {**_EXT, "dataPoints": [1, "x"], "summary": 5}),
    ],
)
def test_bad_input_never_500s(plant, customer, method, path, body):
    import json

    client = api_client_for(customer)
    path = path.replace("{plant}", str(plant.id))
    if isinstance(body, dict):
        body = json.loads(json.dumps(body).replace('"{plant}"', str(plant.id)))
        response = getattr(client, method)(path, body, format="json")
    elif body is not None:
        response = getattr(client, method)(path, body, content_type="application/json")
    else:
        response = getattr(client, method)(path)
    assert 400 <= response.status_code < 500, (response.status_code, response.content[:300])
    assert response.json()["error_code"]


def test_a_redone_run_stores_its_forecast_once(plant, customer, django_capture_on_commit_callbacks):
    """A worker lost after storing the forecast: the job is claimed and run again (acks_late);
    the forecast appears exactly once."""
    from solarhub.jobs.services import job_run

    response = run(
        api_client_for(customer),
        {"plantId": plant.id, "horizon": "day_ahead", "source": "clearsky"},
        django_capture_on_commit_callbacks,
    )
    job = Job.objects.get(pk=response.json()["id"])
    first = job.result["forecastId"]
    Job.objects.filter(pk=job.pk).update(status=JobStatus.RUNNING)  # as if the worker died before finishing
    job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.COMPLETED
    assert job.result == {"forecastId": first}
    assert GenerationForecast.objects.filter(plant=plant).count() == 1


def test_a_single_posted_point_has_no_energy_unless_its_resolution_is_given(plant, customer):
    """One 40 kW point once counted 20 kWh (two invented quarter hours). A point has no step."""
    client = api_client_for(customer)
    base = {"plantId": plant.id, "forecastDate": "2026-06-21", "horizon": "day_ahead"}
    point = [{"timestamp": "2026-06-21T19:00:00Z", "kw": 40}]
    alone = client.post("/api/predicted-generation", {**base, "dataPoints": point}, format="json")
    assert alone.status_code == 201, alone.content
    summary = alone.json()["summary"]
    assert summary["energyKwh"] is None and "resolution" in summary["energyReason"]
    assert summary["peakKw"] == 40.0
    hourly = client.post(
        "/api/predicted-generation", {**base, "dataPoints": point, "resolution": "hour"}, format="json"
    )
    assert hourly.status_code == 201, hourly.content
    assert hourly.json()["summary"]["energyKwh"] == 40.0 and hourly.json()["resolution"] == "hour"
    assert hourly.json()["windowEnd"] == "2026-06-21T20:00:00Z"
    quarter = [{"timestamp": f"2026-06-21T19:{m:02d}:00Z", "kw": 40} for m in (0, 15, 30)]
    body = {**base, "dataPoints": quarter, "resolution": "15min"}
    posted = client.post("/api/predicted-generation", body, format="json")
    assert posted.status_code == 201, posted.content
    assert posted.json()["summary"]["energyKwh"] == 30.0
    wrong = client.post("/api/predicted-generation", {**body, "resolution": "hour"}, format="json")
    assert wrong.status_code == 400 and "resolution" in wrong.json()["errors"]
