"""The OpenAPI schema generates without a single warning, validates, and documents errors."""

from __future__ import annotations

import pytest
import yaml
from django.core.management import call_command

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def schema(tmp_path_factory, django_db_blocker):
    target = tmp_path_factory.mktemp("schema") / "openapi.yaml"
    with django_db_blocker.unblock():
        # --fail-on-warn turns any drf-spectacular warning or error into a failure.
        call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    return yaml.safe_load(target.read_text())


def test_schema_is_openapi_3_and_documents_the_api(schema):
    assert schema["openapi"].startswith("3.")
    for path in (
        "/health/ready",
        "/health/detailed",
        "/api/jobs",
        "/api/jobs/{id}",
        "/api/jobs/selfcheck",
        "/api/auth/login",
        "/api/auth/google",
        "/api/users/profile",
        "/api/settings/users/{user_id}",
    ):
        assert path in schema["paths"], path
    assert not any(path.startswith("/api/v1/") for path in schema["paths"])  # mirrored, documented once


def test_every_operation_documents_its_errors(schema):
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            codes = set(operation["responses"])
            assert "500" in codes, (method, path)
            if operation.get("security") and {} not in operation["security"]:
                assert {"401", "403"} <= codes, (method, path)
            if "{" in path:
                assert "404" in codes, (method, path)


def test_errors_an_operation_answers_beyond_the_usual_are_documented(schema):
    paths = schema["paths"]
    google = paths["/api/auth/google"]["post"]["responses"]
    assert "503" in google and "GOOGLE_NOT_CONFIGURED" in google["503"]["description"]
    assert "409" in paths["/api/alarms/{id}/acknowledge"]["post"]["responses"]  # ALARM_CLOSED
    assert "410" in paths["/api/invitations/{token}/accept"]["post"]["responses"]
    # an id in the query can be a 404 (not visible), any query parameter a 400
    assert {"400", "404"} <= set(paths["/api/predicted-generation/accuracy"]["get"]["responses"])
    assert "401" in paths["/api/auth/login"]["post"]["responses"]  # bad credentials


def test_google_sign_in_answers_503_until_configured(client, settings):
    settings.GOOGLE_CLIENT_ID = ""
    response = client.post("/api/auth/google", {"token": "x" * 40}, content_type="application/json")
    assert response.status_code == 503
    assert response.json()["error_code"] == "GOOGLE_NOT_CONFIGURED"


def test_error_component_keeps_seed_keys_while_bodies_are_camel_case(schema):
    components = schema["components"]["schemas"]
    assert set(components["Error"]["properties"]) == {"detail", "status_code", "error_code", "errors"}
    assert set(components["Error"]["required"]) == {"detail", "status_code", "error_code"}  # errors: validation only
    assert "statusUrl" in components["Job"]["properties"]
    assert "status_url" not in components["Job"]["properties"]


def test_schema_and_docs_are_served(client):
    assert client.get("/api/schema/").status_code == 200
    docs = client.get("/api/docs/")
    assert docs.status_code == 200 and b"swagger-ui" in docs.content
    assert b"cdn.jsdelivr" not in docs.content  # assets are served locally (sidecar), works offline
    assert client.get("/api/redoc/").status_code == 200


def test_path_parameters_match_the_path_template(schema):
    import re

    for path, operations in schema["paths"].items():
        names = set(re.findall(r"{(\w+)}", path))
        for operation in operations.values():
            declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
            assert declared == names, path


def test_swagger_can_authorize_with_the_password_flow(schema):
    schemes = schema["components"]["securitySchemes"]
    assert schemes["jwtAuth"] == {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    assert schemes["oauth2Password"]["flows"]["password"]["tokenUrl"] == "/api/auth/token"
    token = schema["components"]["schemas"]["OAuth2Token"]
    assert set(token["properties"]) == {"access_token", "token_type", "expires_in", "refresh_token"}
