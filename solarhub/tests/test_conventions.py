"""API conventions: camelCase both ways, optional trailing slash without redirects, paths
mounted at /api/ and /api/v1/, CORS, header pagination with a capped page size."""

from __future__ import annotations

import pytest

from solarhub.jobs.handlers import SELFCHECK
from solarhub.jobs.services import job_enqueue
from solarhub.testing.personas import api_client_for

pytestmark = pytest.mark.django_db


@pytest.mark.urls("solarhub.tests.urls")
def test_camel_case_in_and_out():
    response = api_client_for().post(
        "/api/test/echo?pageSize=5&plantId=3",
        {"plantName": "Alpha", "capacityKw": 2.5, "innerBlock": {"someKey": 1}},
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    # The serializer saw snake_case (parser) and the client sees camelCase (renderer).
    assert body["seen"] == {"plantName": "Alpha", "capacityKw": 2.5, "innerBlock": {"someKey": 1}}
    assert body["query"] == {"pageSize": "5", "plantId": "3"}
    assert b"plant_name" not in response.content


@pytest.mark.urls("solarhub.tests.urls")
@pytest.mark.parametrize("method", ["get", "post", "put", "patch", "delete", "options"])
def test_trailing_slash_is_optional_for_every_method_without_redirect(method):
    client = api_client_for()
    plain = getattr(client, method)("/api/test/echo", {"plantName": "a", "capacityKw": 1}, format="json")
    slashed = getattr(client, method)("/api/test/echo/", {"plantName": "a", "capacityKw": 1}, format="json")
    assert slashed.status_code == plain.status_code
    assert slashed.status_code not in (301, 302, 307, 308)
    assert slashed.content == plain.content


def test_docs_without_slash_also_resolve(client):
    assert client.get("/api/schema").status_code == 200
    assert client.get("/health/live/").status_code == 200


def test_api_is_mounted_at_api_and_api_v1(plant_admin):
    client = api_client_for(plant_admin)
    for prefix in ("/api/", "/api/v1/"):
        response = client.post(f"{prefix}jobs/selfcheck")
        assert response.status_code == 202
        # the status URL stays on the mount the client used
        assert response.json()["statusUrl"].startswith(f"{prefix}jobs/")


def test_cors_allows_the_configured_spa_origin_only(client):
    ok = client.options("/api/jobs", HTTP_ORIGIN="http://localhost:5173", HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET")
    assert ok["Access-Control-Allow-Origin"] == "http://localhost:5173"
    assert ok["Access-Control-Allow-Credentials"] == "true"
    evil = client.options("/api/jobs", HTTP_ORIGIN="https://evil.example", HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET")
    assert "Access-Control-Allow-Origin" not in evil


def test_pagination_is_header_based_and_capped(plant_admin, settings):
    settings.API_MAX_PAGE_SIZE = 3
    for n in range(5):
        job_enqueue(kind=SELFCHECK, requested_by=plant_admin, unique_key=f"k{n}")
    client = api_client_for(plant_admin)

    first = client.get("/api/jobs?pageSize=2")
    assert first.status_code == 200
    assert isinstance(first.json(), list) and len(first.json()) == 2
    assert first["X-Total-Count"] == "5"
    assert 'rel="next"' in first["Link"]

    last = client.get("/api/jobs?pageSize=2&page=3")
    assert len(last.json()) == 1
    assert 'rel="next"' not in last["Link"] and 'rel="prev"' in last["Link"]
    ids = {j["id"] for page in (1, 2, 3) for j in client.get(f"/api/jobs?pageSize=2&page={page}").json()}
    assert len(ids) == 5

    too_big = client.get("/api/jobs?pageSize=4")
    assert too_big.status_code == 400
    assert too_big.json()["error_code"] == "PAGE_SIZE_TOO_LARGE"
    assert client.get("/api/jobs?pageSize=abc").json()["error_code"] == "INVALID_PAGE_SIZE"
    assert client.get("/api/jobs?page=99").status_code == 404
