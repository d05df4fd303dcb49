"""A password change or reset, by any path, ends every session: refresh tokens are blacklisted
and access tokens issued before are refused at once (their password digest no longer matches)."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.management import call_command
from django.urls import reverse
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from accounts.services import user_create

pytestmark = pytest.mark.django_db(transaction=True)  # revocation runs on commit

PASSWORD, NEW_PASSWORD = "Old-Pass-1234!", "New-Pass-5678!"


@pytest.fixture
def user():
    return user_create(email="pat@example.com", password=PASSWORD, username="pat", name="Pat")


def _sign_in(password: str = PASSWORD) -> dict:
    response = APIClient().post("/api/auth/login", {"username": "pat", "password": password}, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def _me(access: str) -> int:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client.get("/api/auth/me").status_code


def _refresh(refresh: str) -> int:
    return APIClient().post("/api/auth/refresh", {"refresh": refresh}, format="json").status_code


def _assert_sessions_ended(sessions: list[dict], user) -> None:
    for tokens in sessions:
        assert _me(tokens["token"]) == 401
        assert _refresh(tokens["refresh"]) == 401
    alive = OutstandingToken.objects.filter(user=user).exclude(id__in=BlacklistedToken.objects.values("token_id"))
    assert not alive.exists()
    fresh = _sign_in(NEW_PASSWORD)  # the new password works, and its tokens do
    assert _me(fresh["token"]) == 200 and _refresh(fresh["refresh"]) == 200


def test_set_password_and_save_ends_every_session(user):
    """What every path (API, admin, allauth, changepassword, shell) ends in."""
    sessions = [_sign_in(), _sign_in()]
    assert all(_me(s["token"]) == 200 for s in sessions)
    user.set_password(NEW_PASSWORD)
    user.save()
    _assert_sessions_ended(sessions, user)


def test_the_admin_password_form_ends_every_session(user, plant_admin, client):
    sessions = [_sign_in()]
    client.force_login(plant_admin)
    url = reverse("admin:auth_user_password_change", args=[user.pk])
    response = client.post(url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"})
    assert response.status_code == 302, response.content[:500]
    _assert_sessions_ended(sessions, user)


def test_an_allauth_password_reset_ends_every_session(user, client):
    sessions = [_sign_in()]
    assert client.post("/accounts/password/reset/", {"email": "pat@example.com"}).status_code == 302
    link = next(word for word in mail.outbox[-1].body.split() if "/accounts/password/reset/key/" in word)
    path = link[link.index("/accounts/") :]
    form = client.get(path, follow=True)
    assert form.status_code == 200
    response = client.post(form.redirect_chain[-1][0] if form.redirect_chain else path, {
        "password1": NEW_PASSWORD, "password2": NEW_PASSWORD,
    })  # fmt: skip
    assert response.status_code == 302, response.content[:500]
    _assert_sessions_ended(sessions, user)


def test_changepassword_command_ends_every_session(user, monkeypatch):
    sessions = [_sign_in()]
    monkeypatch.setattr("getpass.getpass", lambda prompt="": NEW_PASSWORD)
    call_command("changepassword", "pat")
    _assert_sessions_ended(sessions, user)


def test_saving_a_user_without_a_password_change_keeps_sessions(user):
    tokens = _sign_in()
    user.name = "Patricia"
    user.save()
    assert _me(tokens["token"]) == 200 and _refresh(tokens["refresh"]) == 200
