"""Every error, wherever it comes from, is {"detail", "status_code", "error_code"} JSON."""

from __future__ import annotations

import logging

import pytest

from solarhub.testing.personas import api_client_for

pytestmark = [pytest.mark.django_db, pytest.mark.urls("solarhub.tests.urls")]


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["status_code"] == status
    assert body["error_code"] == code
    assert isinstance(body["detail"], str) and body["detail"]
    return body


def test_validation_error_lists_fields_in_camel_case():
    response = api_client_for().post("/api/test/echo", {"plantName": "x" * 30, "capacityKw": -1}, format="json")
    body = assert_error(response, 400, "VALIDATION_ERROR")
    assert set(body["errors"]) == {"plantName", "capacityKw"}
    assert "plantName" in body["detail"] or "capacityKw" in body["detail"]


def test_malformed_json_is_a_parse_error():
    response = api_client_for().post("/api/test/echo", data=b'{"plantName": ', content_type="application/json")
    assert_error(response, 400, "PARSE_ERROR")


def test_nul_bytes_and_wrong_types_are_400_not_500():
    client = api_client_for()
    response = client.post("/api/test/echo", {"plantName": "a\x00b", "capacityKw": "many"}, format="json")
    body = assert_error(response, 400, "VALIDATION_ERROR")
    assert body["errors"] == {"plantName": ["NUL characters are not allowed."]}  # refused by the parser
    response = client.post("/api/test/echo", {"plantName": "ab", "capacityKw": "many"}, format="json")
    assert "capacityKw" in assert_error(response, 400, "VALIDATION_ERROR")["errors"]
    response = client.post("/api/test/echo", ["not", "an", "object"], format="json")
    assert_error(response, 400, "VALIDATION_ERROR")


def test_unauthenticated_is_401():
    assert_error(api_client_for().get("/api/jobs"), 401, "NOT_AUTHENTICATED")


def test_garbage_bearer_token_is_401_token_invalid():
    client = api_client_for()
    client.credentials(HTTP_AUTHORIZATION="Bearer not.a.jwt")
    assert_error(client.get("/api/jobs"), 401, "TOKEN_INVALID")


def test_forbidden_is_403(customer):
    body = assert_error(api_client_for(customer).post("/api/jobs/selfcheck"), 403, "PERMISSION_DENIED")
    assert "administrators" in body["detail"]


def test_unknown_url_is_json_404_even_outside_the_api():
    assert_error(api_client_for().get("/api/no-such-thing"), 404, "NOT_FOUND")
    assert_error(api_client_for().get("/definitely/not/here"), 404, "NOT_FOUND")


def test_unknown_object_is_404(customer):
    assert_error(api_client_for(customer).get("/api/jobs/00000000-0000-0000-0000-000000000000"), 404, "NOT_FOUND")


def test_wrong_method_is_405():
    assert_error(api_client_for().delete("/health/ready"), 405, "METHOD_NOT_ALLOWED")


def test_unsupported_media_type_is_415():
    response = api_client_for().post("/api/test/echo", data="plantName=x", content_type="text/plain")
    assert_error(response, 415, "UNSUPPORTED_MEDIA_TYPE")


def test_throttled_is_429_with_retry_after():
    client = api_client_for()
    assert client.get("/api/test/throttled").status_code == 200
    response = client.get("/api/test/throttled")
    assert_error(response, 429, "THROTTLED")
    assert int(response["Retry-After"]) > 0


def test_unhandled_exception_is_logged_and_answers_500_without_details(caplog):
    with caplog.at_level(logging.ERROR, logger="solarhub.api"):
        response = api_client_for().get("/api/test/crash")
    body = assert_error(response, 500, "INTERNAL_ERROR")
    assert "secret" not in response.content.decode()
    assert "Traceback" not in response.content.decode()
    assert body["detail"] == "Internal server error."
    assert any("secret internal detail" in (r.exc_text or "") for r in caplog.records)


def test_oversized_body_is_413(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    payload = {"plantName": "x", "capacityKw": 1, "innerBlock": {"blob": "y" * 4096}}
    assert_error(api_client_for().post("/api/test/echo", payload, format="json"), 413, "PAYLOAD_TOO_LARGE")
