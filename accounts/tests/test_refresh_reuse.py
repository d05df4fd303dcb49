"""The refresh-token reuse interval (JWT_REFRESH_REUSE_SECONDS), through HTTP as the SPA sends it.

Within the interval after a rotation, presenting the rotated token again answers the very pair
the rotation issued; after it, or once that family is revoked, 401. Concurrency (ten tabs at
once, on a real server) is in test_protection.py.
"""

from __future__ import annotations

import time

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from accounts import services
from accounts.services import user_create

pytestmark = pytest.mark.django_db

PASSWORD = "sunny-Panels-42"


@pytest.fixture
def user(db, settings):
    settings.JWT_REFRESH_REUSE_SECONDS = 15
    return user_create(email="tabs@example.com", password=PASSWORD, username="tabs")


def post(path: str, body: dict, client: APIClient | None = None):
    return (client or APIClient()).post(path, body, format="json")


def login() -> dict:
    response = post("/api/auth/login", {"username": "tabs", "password": PASSWORD, "userType": "customer"})
    assert response.status_code == 200, response.content
    return response.json()


def refresh(token: str):
    return post("/api/auth/refresh", {"refresh": token})


def signed_in(tokens: dict) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['token']}")
    return client


def assert_refused(response) -> None:
    assert response.status_code == 401, response.content
    assert response.json()["error_code"] == "TOKEN_INVALID"


def test_within_the_interval_a_rotated_token_answers_the_same_pair(user):
    first = login()
    winner = refresh(first["refresh"])
    assert winner.status_code == 200
    for _ in range(3):
        again = refresh(first["refresh"])
        assert again.status_code == 200
        assert again.json() == winner.json(), "the same pair, not a new one"
    assert OutstandingToken.objects.count() == 2, "reuse issues nothing"
    assert signed_in(again.json()).get("/api/auth/me").status_code == 200
    assert refresh(winner.json()["refresh"]).status_code == 200, "the family goes on as usual"


def test_after_the_interval_a_rotated_token_is_401(user, settings):
    settings.JWT_REFRESH_REUSE_SECONDS = 1
    first = login()
    assert refresh(first["refresh"]).status_code == 200
    time.sleep(1.5)
    assert_refused(refresh(first["refresh"]))


def test_interval_zero_disables_reuse(user, settings):
    settings.JWT_REFRESH_REUSE_SECONDS = 0
    first = login()
    rotated = refresh(first["refresh"])
    assert rotated.status_code == 200
    assert rotated.json()["refresh"] != first["refresh"]
    assert_refused(refresh(first["refresh"]))
    assert refresh(rotated.json()["refresh"]).status_code == 200


def test_a_logged_out_token_gets_no_pair_even_within_the_interval(user):
    tokens = login()
    assert post("/api/auth/logout", {"refresh": tokens["refresh"]}, signed_in(tokens)).status_code == 204
    assert_refused(refresh(tokens["refresh"]))
    assert_refused(refresh(tokens["refresh"]))


def test_logging_out_the_new_token_ends_the_old_tokens_reuse(user):
    first = login()
    rotated = refresh(first["refresh"]).json()
    assert post("/api/auth/logout", {"refresh": rotated["refresh"]}, signed_in(rotated)).status_code == 204
    assert_refused(refresh(first["refresh"]))
    assert_refused(refresh(rotated["refresh"]))


def test_logging_out_with_the_just_rotated_token_logs_out_what_it_was_rotated_into(user):
    """A tab that lost the race still holds the old token; its logout must end the session."""
    first = login()
    rotated = refresh(first["refresh"]).json()
    assert post("/api/auth/logout", {"refresh": first["refresh"]}, signed_in(first)).status_code == 204
    assert_refused(refresh(rotated["refresh"]))
    assert_refused(refresh(first["refresh"]))


def test_logging_out_with_a_token_rotated_long_ago_is_refused(user, settings):
    settings.JWT_REFRESH_REUSE_SECONDS = 0
    first = login()
    rotated = refresh(first["refresh"]).json()
    response = post("/api/auth/logout", {"refresh": first["refresh"]}, signed_in(first))
    assert response.status_code == 400 and response.json()["error_code"] == "TOKEN_INVALID"
    assert refresh(rotated["refresh"]).status_code == 200


def test_a_token_rotated_on_ends_the_reuse_of_its_parent(user):
    first = login()
    second = refresh(first["refresh"]).json()
    assert refresh(second["refresh"]).status_code == 200
    assert_refused(refresh(first["refresh"]))


def test_a_blacklisted_successor_ends_the_reuse(user):
    """Revoked in the admin (or anywhere else a token is blacklisted): no pair."""
    first = login()
    rotated = refresh(first["refresh"]).json()
    RefreshToken(rotated["refresh"]).blacklist()
    assert_refused(refresh(first["refresh"]))


def test_a_deactivated_user_gets_no_pair(user):
    first = login()
    assert refresh(first["refresh"]).status_code == 200
    user.is_active = False
    user.save()
    assert_refused(refresh(first["refresh"]))


def test_a_forged_token_with_a_rotated_jti_gets_no_pair(user):
    first = login()
    assert refresh(first["refresh"]).status_code == 200
    header, payload, signature = first["refresh"].split(".")
    forged = f"{header}.{payload}.{signature[::-1]}"
    assert_refused(refresh(forged))


def test_a_rotation_rolled_back_after_caching_hands_its_pair_to_nobody(user, monkeypatch):
    """The pair is cached inside the rotating transaction (so concurrent losers find it when
    the winner commits); when that transaction rolls back, the entry goes with it."""
    first = login()
    offer = services._reuse_offer

    def offer_then_fail(**kwargs):
        offer(**kwargs)
        assert cache.get(services.REFRESH_REUSE_KEY.format(jti=kwargs["jti"]))
        raise RuntimeError("connection lost before the commit")

    monkeypatch.setattr(services, "_reuse_offer", offer_then_fail)
    failed = refresh(first["refresh"])
    assert failed.status_code == 500 and failed.json()["error_code"] == "INTERNAL_ERROR"
    jti = RefreshToken(first["refresh"])["jti"]  # not blacklisted: the rotation never happened
    assert cache.get(services.REFRESH_REUSE_KEY.format(jti=jti)) is None
    assert not BlacklistedToken.objects.exists()
    monkeypatch.setattr(services, "_reuse_offer", offer)
    assert refresh(first["refresh"]).status_code == 200
