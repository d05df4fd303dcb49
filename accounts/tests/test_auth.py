"""Sign-in flows of seed 001 and seed 003, round-tripped with their exact field names."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from accounts.choices import UserType
from solarhub.testing.personas import api_client_for

pytestmark = pytest.mark.django_db
User = get_user_model()

CUSTOMER_BODY = {
    "name": "John Smith",
    "email": "user@example.com",
    "password": "sunny-Panels-42",
    "userType": "customer",
    "installationId": "INST-12345",
    "address": "123 Solar Street, CA",
}
INSTALLER_BODY = {
    "name": "Jane Installer",
    "email": "installer@solarco.com",
    "password": "sunny-Panels-42",
    "userType": "installer",
    "companyName": "Solar Install Co",
    "licenseNumber": "LIC-789",
    "phoneNumber": "+1-555-0123",
}


def post(path, body, client=None, **kwargs):
    return (client or APIClient()).post(path, body, format="json", **kwargs)


def test_register_customer_exactly_as_seed_001():
    response = post("/api/auth/register", CUSTOMER_BODY)
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {"token", "refresh", "expiresIn", "user"}
    user = body["user"]
    assert set(user) == {"id", "username", "name", "email", "userType", "profile"}
    assert user["username"] == "user"  # generated from the e-mail
    assert (user["name"], user["email"], user["userType"]) == ("John Smith", "user@example.com", "customer")
    assert user["profile"] == {"installationId": "INST-12345", "address": "123 Solar Street, CA"}
    # the token works
    me = APIClient()
    me.credentials(HTTP_AUTHORIZATION=f"Bearer {body['token']}")
    assert me.get("/api/users/profile").json()["email"] == "user@example.com"


def test_register_installer_exactly_as_seed_001():
    response = post("/api/auth/register", INSTALLER_BODY)
    assert response.status_code == 201, response.content
    assert response.json()["user"]["profile"] == {
        "companyName": "Solar Install Co",
        "licenseNumber": "LIC-789",
        "phoneNumber": "+1-555-0123",
    }
    assert User.objects.get(email="installer@solarco.com").user_type == UserType.INSTALLER


def test_register_duplicate_email_any_case_is_400_email_exists():
    assert post("/api/auth/register", CUSTOMER_BODY).status_code == 201
    response = post("/api/auth/register", {**CUSTOMER_BODY, "email": "USER@Example.com"})
    assert response.status_code == 400
    assert response.json() == {"detail": "Email already exists", "status_code": 400, "error_code": "EMAIL_EXISTS"}
    assert User.objects.filter(email__iexact="user@example.com").count() == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"userType": "plant_admin"}, "userType"),
        ({"password": "password"}, "password"),
        ({"password": "12345678901"}, "password"),
        ({"password": "user@example.com"}, "password"),
        ({"email": "not-an-email"}, "email"),
    ],
)
def test_register_rejects_bad_input(change, field):
    response = post("/api/auth/register", {**CUSTOMER_BODY, **change})
    assert response.status_code == 400
    assert response.json()["error_code"] == "VALIDATION_ERROR"
    assert field in response.json()["errors"]
    assert not User.objects.exists()


def test_register_ignores_staff_flags_and_foreign_profile_fields():
    body = {**CUSTOMER_BODY, "isStaff": True, "isSuperuser": True, "companyName": "Sneaky"}
    assert post("/api/auth/register", body).status_code == 201
    user = User.objects.get(email="user@example.com")
    assert not user.is_staff and not user.is_superuser and user.company_name == ""


@pytest.fixture
def demo(db):
    response = post("/api/auth/register", CUSTOMER_BODY)
    assert response.status_code == 201
    return User.objects.get(email="user@example.com")


@pytest.mark.parametrize("username", ["user", "user@example.com", "USER@EXAMPLE.COM"])
def test_login_with_username_or_email(demo, username):
    response = post("/api/auth/login", {"username": username, "password": "sunny-Panels-42", "userType": "customer"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"token", "refresh", "expiresIn", "user"}
    assert body["expiresIn"] == 15 * 60
    assert body["user"]["profile"] == {"installationId": "INST-12345", "address": "123 Solar Street, CA"}
    demo.refresh_from_db()
    assert demo.last_login is not None


@pytest.mark.parametrize(
    "body",
    [
        {"username": "user", "password": "wrong-password"},
        {"username": "nobody", "password": "sunny-Panels-42"},
        {"username": "user", "password": "sunny-Panels-42", "userType": "installer"},
    ],
)
def test_login_failures_all_look_the_same(demo, body):
    response = post("/api/auth/login", body)
    assert response.status_code == 401
    assert response.json() == {
        "detail": "Invalid username or password",
        "status_code": 401,
        "error_code": "INVALID_CREDENTIALS",
    }
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_inactive_user_cannot_sign_in(demo):
    demo.is_active = False
    demo.save()
    assert post("/api/auth/login", {"username": "user", "password": "sunny-Panels-42"}).status_code == 401


def test_stale_authorization_header_does_not_block_login(demo):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer expired.or.garbage")
    assert post("/api/auth/login", {"username": "user", "password": "sunny-Panels-42"}, client).status_code == 200


def test_login_json_is_the_same_as_login(demo):
    # Under /api/v1/ both answer seed 003's token structure instead: test_seed_requests.py
    response = post("/api/auth/login/json", {"username": "user", "password": "sunny-Panels-42"})
    assert response.status_code == 200
    assert set(response.json()) == {"token", "refresh", "expiresIn", "user"}


@pytest.mark.parametrize("path", ["/api/auth/login", "/api/auth/token", "/api/v1/auth/login"])
def test_oauth2_password_flow_returns_rfc6749_fields(demo, path):
    response = APIClient().post(path, {"grant_type": "password", "username": "user", "password": "sunny-Panels-42"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "refresh_token"}
    assert body["token_type"] == "bearer" and body["expires_in"] == 900
    assert response["Cache-Control"] == "no-store"
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {body['access_token']}")
    assert client.get("/api/v1/auth/me").status_code == 200


def test_oauth2_password_flow_rejects_wrong_password(demo):
    response = APIClient().post("/api/auth/token", {"username": "user", "password": "nope"})
    assert response.status_code == 401
    assert response.json()["error_code"] == "INVALID_CREDENTIALS"


def _login(username="user", password="sunny-Panels-42") -> dict:
    response = post("/api/auth/login", {"username": username, "password": password})
    assert response.status_code == 200, response.content
    return response.json()


def test_refresh_rotates_and_a_reused_token_is_401(demo, settings):
    settings.JWT_REFRESH_REUSE_SECONDS = 0  # the reuse interval: test_refresh_reuse.py
    first = _login()
    response = post("/api/auth/refresh", {"refresh": first["refresh"]})
    assert response.status_code == 200, response.content
    rotated = response.json()
    assert set(rotated) == {"token", "refresh", "expiresIn"}
    assert rotated["refresh"] != first["refresh"]
    reuse = post("/api/auth/refresh", {"refresh": first["refresh"]})
    assert reuse.status_code == 401
    assert reuse.json()["error_code"] == "TOKEN_INVALID"
    assert post("/api/auth/refresh", {"refresh": rotated["refresh"]}).status_code == 200


@pytest.mark.parametrize("garbage", ["", "abc", "a.b.c", "x" * 5000])
def test_refresh_with_garbage_is_4xx(demo, garbage):
    response = post("/api/auth/refresh", {"refresh": garbage})
    assert response.status_code in (400, 401)
    assert response.json()["error_code"]


def test_an_access_token_is_not_a_refresh_token(demo):
    assert post("/api/auth/refresh", {"refresh": _login()["token"]}).status_code == 401


def test_logout_kills_the_refresh_token(demo):
    tokens = _login()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['token']}")
    assert post("/api/auth/logout", {"refresh": tokens["refresh"]}, client).status_code == 204
    assert post("/api/auth/refresh", {"refresh": tokens["refresh"]}).status_code == 401


def test_nobody_can_log_out_somebody_else(demo, customer):
    victim = _login()
    attacker = api_client_for(customer)
    response = post("/api/auth/logout", {"refresh": victim["refresh"]}, attacker)
    assert response.status_code == 400
    assert post("/api/auth/refresh", {"refresh": victim["refresh"]}).status_code == 200


def test_logout_needs_authentication(demo):
    assert post("/api/auth/logout", {"refresh": _login()["refresh"]}).status_code == 401


def test_me_has_seed_003_fields(demo):
    body = api_client_for(demo).get("/api/v1/auth/me").json()
    assert body["username"] == "user" and body["email"] == "user@example.com"
    assert body["active"] is True
    assert body["roles"] == [{"id": 1, "name": "customer", "description": body["roles"][0]["description"]}]
    assert "confirmedAt" in body and "password" not in body


def test_profile_get_and_put_as_seed_001(demo):
    client = api_client_for(demo)
    got = client.get("/api/users/profile").json()
    assert set(got) == {"id", "username", "name", "email", "userType", "profile", "createdAt", "lastLogin"}
    assert got["createdAt"].endswith("Z")
    response = client.put(
        "/api/users/profile",
        {
            "name": "John Updated Smith",
            "profile": {"installationId": "INST-54321", "address": "456 New Solar Avenue, CA"},
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["name"] == "John Updated Smith"
    assert response.json()["profile"] == {"installationId": "INST-54321", "address": "456 New Solar Avenue, CA"}


def test_profile_put_cannot_escalate_or_change_identity(demo):
    client = api_client_for(demo)
    response = client.put(
        "/api/users/profile",
        {
            "userType": "plant_admin",
            "isStaff": True,
            "isSuperuser": True,
            "email": "other@example.com",
            "username": "root",
            "profile": {"companyName": "not mine"},
        },
        format="json",
    )
    assert response.status_code == 200
    demo.refresh_from_db()
    assert (demo.user_type, demo.is_staff, demo.is_superuser) == (UserType.CUSTOMER, False, False)
    assert (demo.email, demo.username, demo.company_name) == ("user@example.com", "user", "")


def test_no_response_ever_contains_a_password_hash_or_another_users_token(demo, customer):
    client = api_client_for(demo)
    other_token = _login()["refresh"]
    for path in ("/api/users/profile", "/api/auth/me", "/api/settings/me"):
        text = client.get(path).content.decode()
        assert "pbkdf2" not in text and "md5$" not in text and '"password"' not in text
        assert other_token not in text
    assert (
        demo.password
        not in post("/api/auth/login", {"username": "user", "password": "sunny-Panels-42"}).content.decode()
    )


def test_expired_tokens_are_flushed(demo):
    from datetime import timedelta

    from django.utils import timezone
    from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

    from accounts.tasks import flush_expired_tokens
    from solarhub.celery import app

    _login()
    OutstandingToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    fresh = _login()
    assert flush_expired_tokens.delay().get() >= 1
    assert OutstandingToken.objects.count() == 1
    assert post("/api/auth/refresh", {"refresh": fresh["refresh"]}).status_code == 200
    schedule = app.conf.beat_schedule["flush-expired-tokens"]
    assert schedule["task"] == "accounts.flush_expired_tokens"
