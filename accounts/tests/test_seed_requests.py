"""The seeds' own requests, sent exactly as the seeds send them (issue 14).

* seeds 002 and 004 sign in with ``{email, password}``;
* seed 003's ``/api/v1/auth/login`` (OAuth2 form) and ``/api/v1/auth/login/json`` answer its
  token structure ``{access_token, refresh_token, token_type, expires_in}``, and its
  ``refresh`` / ``logout`` follow; ``/api/`` keeps seed 001's ``{token, refresh, expiresIn, user}``;
* seed 001's register sample (``password123``) is refused, naming the rule it fails.
"""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from accounts.services import user_create

pytestmark = pytest.mark.django_db

PASSWORD = "sunny-Panels-42"
SEED_001_SHAPE = {"token", "refresh", "expiresIn", "user"}
SEED_003_SHAPE = {"access_token", "refresh_token", "token_type", "expires_in"}


@pytest.fixture
def alice(db):
    return user_create(email="alice@example.com", password=PASSWORD, username="alice")


def _json(path: str, body: dict, client: APIClient | None = None, **extra):
    return (client or APIClient(**extra)).post(path, body, format="json")


def _form(path: str, body: dict, client: APIClient | None = None):
    # What seed 003 sends: Content-Type: application/x-www-form-urlencoded, username=admin&password=secret
    from urllib.parse import urlencode

    return (client or APIClient()).post(path, urlencode(body), content_type="application/x-www-form-urlencoded")


def _bearer(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


# --- seeds 002 / 004: {email, password} -----------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/auth/login", "/api/auth/login/json"])
def test_seed_002_and_004_sign_in_with_email_and_password(alice, path):
    response = _json(path, {"email": "alice@example.com", "password": PASSWORD})
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == SEED_001_SHAPE
    assert body["user"]["email"] == "alice@example.com"
    assert _bearer(body["token"]).get("/api/users/profile").json()["username"] == "alice"


def test_email_is_matched_as_typed_into_username_any_case(alice):
    response = _json("/api/auth/login", {"email": "ALICE@Example.com", "password": PASSWORD, "userType": "customer"})
    assert response.status_code == 200, response.content


def test_a_wrong_password_with_email_is_the_usual_401(alice):
    response = _json("/api/auth/login", {"email": "alice@example.com", "password": "wrong-password"})
    assert response.status_code == 401
    assert response.json() == {
        "detail": "Invalid username or password",
        "status_code": 401,
        "error_code": "INVALID_CREDENTIALS",
    }


def test_username_or_email_is_required(alice):
    response = _json("/api/auth/login", {"password": PASSWORD})
    assert response.status_code == 400
    body = response.json()
    assert body["error_code"] == "VALIDATION_ERROR"
    assert body["errors"] == {"username": ["Send username or email."], "email": ["Send username or email."]}


@pytest.mark.parametrize(
    "body",
    [
        {"username": "alice", "email": "alice@example.com"},  # one account, maybe, but never looked up
        {"username": "bob@example.com", "email": "alice@example.com"},
    ],
)
def test_username_and_email_that_contradict_are_a_400_naming_email(alice, body):
    response = _json("/api/auth/login", {**body, "password": PASSWORD})
    assert response.status_code == 400, response.content
    answer = response.json()
    assert answer["error_code"] == "VALIDATION_ERROR"
    assert list(answer["errors"]) == ["email"]
    assert answer["detail"].startswith("email: Contradicts username")


def test_username_and_email_that_agree_sign_in(alice):
    body = {"username": "alice@example.com", "email": " Alice@Example.com", "password": PASSWORD}
    assert _json("/api/auth/login", body).status_code == 200


def test_email_must_be_an_email_address(alice):
    response = _json("/api/auth/login", {"email": "alice", "password": PASSWORD})
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["email"]


def test_the_oauth2_form_accepts_email_too(alice):
    response = _form("/api/auth/token", {"grant_type": "password", "email": "alice@example.com", "password": PASSWORD})
    assert response.status_code == 200, response.content
    assert set(response.json()) == SEED_003_SHAPE


def test_email_shares_the_lockout_counters_of_that_e_mail_typed_as_username(settings, alice):
    settings.AUTH_MAX_FAILURES = 4
    office = "203.0.113.10"
    for body in (
        {"email": "alice@example.com"},
        {"username": "alice@example.com"},
        {"email": "ALICE@example.com"},
        {"username": " Alice@Example.com "},
    ):
        assert _json("/api/auth/login", {**body, "password": "wrong"}, REMOTE_ADDR=office).status_code == 401
    for body in ({"email": "alice@example.com"}, {"username": "alice@example.com"}):
        locked = _json("/api/auth/login", {**body, "password": PASSWORD}, REMOTE_ADDR=office)
        assert locked.status_code == 429, body
        assert locked.json()["error_code"] == "THROTTLED"
    assert _json("/api/auth/login", {"email": "alice@example.com", "password": PASSWORD}).status_code == 200, (
        "from another address"
    )


def test_a_success_by_email_clears_the_counter_of_that_e_mail_as_username(settings, alice):
    settings.AUTH_MAX_FAILURES = 3
    for _ in range(2):
        assert _json("/api/auth/login", {"username": "alice@example.com", "password": "wrong"}).status_code == 401
    assert _json("/api/auth/login", {"email": "alice@example.com", "password": PASSWORD}).status_code == 200
    for _ in range(2):
        assert _json("/api/auth/login", {"username": "alice@example.com", "password": "wrong"}).status_code == 401
    assert _json("/api/auth/login", {"email": "alice@example.com", "password": PASSWORD}).status_code == 200


# --- seed 003: /api/v1/auth/* ----------------------------------------------------------------------


def _assert_seed_003_tokens(response) -> dict:
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == SEED_003_SHAPE
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 15 * 60
    assert response["Cache-Control"] == "no-store"
    me = _bearer(body["access_token"]).get("/api/v1/auth/me")
    assert me.status_code == 200 and me.json()["username"] == "alice"
    return body


@pytest.mark.parametrize("path", ["/api/v1/auth/login", "/api/v1/auth/login/"])
def test_seed_003_form_login_answers_its_token_structure(alice, path):
    _assert_seed_003_tokens(_form(path, {"username": "alice", "password": PASSWORD}))


@pytest.mark.parametrize("path", ["/api/v1/auth/login/json", "/api/v1/auth/login/json/", "/api/v1/auth/login"])
def test_seed_003_json_login_answers_its_token_structure(alice, path):
    _assert_seed_003_tokens(_json(path, {"username": "alice", "password": PASSWORD}))


def test_seed_003_login_takes_email_too(alice):
    _assert_seed_003_tokens(_json("/api/v1/auth/login/json", {"email": "alice@example.com", "password": PASSWORD}))


@pytest.mark.parametrize("path", ["/api/auth/login", "/api/auth/login/json"])
def test_the_spa_mount_keeps_seed_001s_answer(alice, path):
    response = _json(path, {"username": "alice", "password": PASSWORD})
    assert response.status_code == 200
    assert set(response.json()) == SEED_001_SHAPE


def test_seed_003_login_failures_and_lockout_are_the_same_as_everywhere(settings, alice):
    settings.AUTH_MAX_FAILURES = 2
    wrong = _form("/api/v1/auth/login", {"username": "alice", "password": "wrong"})
    assert wrong.status_code == 401 and wrong.json()["error_code"] == "INVALID_CREDENTIALS"
    assert _json("/api/v1/auth/login/json", {"username": "alice", "password": "wrong"}).status_code == 401
    assert _json("/api/auth/login", {"username": "alice", "password": PASSWORD}).status_code == 429


@pytest.mark.parametrize("field", ["refresh_token", "refresh"])
def test_seed_003_refresh_takes_refresh_token_and_answers_its_token_structure(alice, settings, field):
    settings.JWT_REFRESH_REUSE_SECONDS = 0
    login = _assert_seed_003_tokens(_json("/api/v1/auth/login/json", {"username": "alice", "password": PASSWORD}))
    rotated = _assert_seed_003_tokens(_json("/api/v1/auth/refresh", {field: login["refresh_token"]}))
    assert rotated["refresh_token"] != login["refresh_token"]
    spent = _json("/api/v1/auth/refresh", {"refresh_token": login["refresh_token"]})
    assert spent.status_code == 401 and spent.json()["error_code"] == "TOKEN_INVALID"


def test_seed_003_refresh_without_a_token_is_400(alice):
    response = _json("/api/v1/auth/refresh", {})
    assert response.status_code == 400
    assert response.json()["error_code"] == "VALIDATION_ERROR"
    assert list(response.json()["errors"]) == ["refreshToken"]


def test_the_spa_mount_refresh_keeps_its_shape(alice):
    login = _json("/api/auth/login", {"username": "alice", "password": PASSWORD}).json()
    response = _json("/api/auth/refresh", {"refresh": login["refresh"]})
    assert response.status_code == 200
    assert set(response.json()) == {"token", "refresh", "expiresIn"}
    assert _json("/api/auth/refresh", {"refresh_token": response.json()["refresh"]}).status_code == 400


def test_seed_003_logout_is_a_client_side_discard_without_a_body(alice):
    login = _json("/api/v1/auth/login/json", {"username": "alice", "password": PASSWORD}).json()
    client = _bearer(login["access_token"])
    assert client.post("/api/v1/auth/logout").status_code == 204
    assert APIClient().post("/api/v1/auth/logout").status_code == 401, "still needs a signed-in caller"
    assert _json("/api/v1/auth/refresh", {"refresh_token": login["refresh_token"]}).status_code == 200, (
        "nothing was revoked: seed 003 discards tokens on the client"
    )


def test_seed_003_logout_with_a_refresh_token_revokes_it(alice):
    login = _json("/api/v1/auth/login/json", {"username": "alice", "password": PASSWORD}).json()
    client = _bearer(login["access_token"])
    assert _json("/api/v1/auth/logout", {"refresh_token": login["refresh_token"]}, client).status_code == 204
    assert _json("/api/v1/auth/refresh", {"refresh_token": login["refresh_token"]}).status_code == 401


def test_the_spa_mount_logout_still_needs_the_refresh_token(alice):
    login = _json("/api/auth/login", {"username": "alice", "password": PASSWORD}).json()
    response = _bearer(login["token"]).post("/api/auth/logout", {}, format="json")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["refresh"]


# --- seed 001's register sample: password123 -------------------------------------------------------

SEED_001_REGISTER = {
    "name": "John Smith",
    "email": "user@example.com",
    "password": "password123",
    "userType": "customer",
    "installationId": "INST-12345",
    "address": "123 Solar Street, CA",
}


def test_seed_001_register_sample_password123_is_refused_naming_the_rule():
    response = _json("/api/auth/register", SEED_001_REGISTER)
    assert response.status_code == 400
    assert response.json() == {
        "detail": "password: This password is too common.",
        "status_code": 400,
        "error_code": "VALIDATION_ERROR",
        "errors": {"password": ["This password is too common."]},
    }


@pytest.mark.parametrize(
    ("password", "rules"),
    [
        (
            "12345",
            [
                "This password is too short. It must contain at least 8 characters.",
                "This password is too common.",
                "This password is entirely numeric.",
            ],
        ),
        ("98765432101", ["This password is entirely numeric."]),
        ("user@example.com", ["The password is too similar to the email address."]),
        ("JohnSmith", ["The password is too similar to the name."]),
    ],
)
def test_a_weak_password_names_every_rule_it_fails(password, rules):
    response = _json("/api/auth/register", {**SEED_001_REGISTER, "password": password})
    assert response.status_code == 400
    body = response.json()
    assert body["error_code"] == "VALIDATION_ERROR"
    assert body["errors"] == {"password": rules}
    assert body["detail"] == "password: " + " ".join(rules)


def test_seed_001_register_sample_with_a_strong_password_registers():
    response = _json("/api/auth/register", {**SEED_001_REGISTER, "password": PASSWORD})
    assert response.status_code == 201, response.content
    assert set(response.json()) == SEED_001_SHAPE
