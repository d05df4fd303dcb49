"""Bearer tokens on every API request (accounts.authentication): the user behind a token is the
stored user, complete; tokens of deleted, deactivated or unknown users are 401, never 500."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from accounts.authentication import JWTAuthentication, user_by_token_id
from solarhub.testing.personas import api_client_for

pytestmark = pytest.mark.django_db


def bearer(token) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def test_the_token_user_is_the_stored_user_with_every_field(installer):
    installer.company_name = "Solar Install Co"
    installer.save(update_fields=["company_name"])
    token = AccessToken.for_user(installer)
    with CaptureQueriesContext(connection) as queries:
        user = JWTAuthentication().get_user(token)
    assert len(queries) == 1
    assert user == installer and not user._state.adding and user._state.db == "default"
    for field in type(installer)._meta.concrete_fields:
        assert getattr(user, field.attname) == getattr(installer, field.attname), field.name
    user.name = "Renamed"
    user.save(update_fields=["name"])  # an ordinary model instance: it saves as one
    installer.refresh_from_db()
    assert installer.name == "Renamed"


def test_me_answers_for_the_token_user(customer):
    body = api_client_for(customer).get("/api/auth/me").json()
    assert (body["username"], body["email"]) == ("customer", "customer@example.com")


def test_a_deactivated_user_is_401_user_inactive(customer):
    client = api_client_for(customer)
    assert client.get("/api/auth/me").status_code == 200
    customer.is_active = False
    customer.save(update_fields=["is_active"])
    response = client.get("/api/auth/me")
    assert response.status_code == 401
    assert response.json() == {"detail": "User is inactive", "status_code": 401, "error_code": "AUTHENTICATION_FAILED"}


def test_a_deleted_user_is_401_user_not_found(customer):
    client = api_client_for(customer)
    customer.delete()
    response = client.get("/api/auth/me")
    assert response.status_code == 401
    assert response.json() == {"detail": "User not found", "status_code": 401, "error_code": "AUTHENTICATION_FAILED"}


@pytest.mark.parametrize("claim", ["not-a-number", "", "1; DROP TABLE accounts_user"])
def test_a_signed_token_with_a_foreign_user_id_is_401_not_500(customer, claim):
    token = RefreshToken.for_user(customer).access_token
    token["user_id"] = claim
    response = api_client_for().get("/api/auth/me", **bearer(token))
    assert (response.status_code, response.json()["error_code"]) == (401, "AUTHENTICATION_FAILED")
    assert user_by_token_id(claim) is None


def test_a_token_without_a_user_id_is_401(customer):
    token = RefreshToken.for_user(customer).access_token
    del token["user_id"]
    response = api_client_for().get("/api/auth/me", **bearer(token))
    assert response.status_code == 401


def test_a_remembered_token_still_expires(customer):
    token = RefreshToken.for_user(customer).access_token
    token.set_exp(lifetime=timedelta(seconds=2))
    client = api_client_for()
    assert client.get("/api/auth/me", **bearer(token)).status_code == 200
    assert client.get("/api/auth/me", **bearer(token)).status_code == 200  # remembered
    time.sleep(2.2)
    response = client.get("/api/auth/me", **bearer(token))
    assert response.status_code == 401
    assert response.json() == {
        "detail": "Given token not valid for any token type",
        "status_code": 401,
        "error_code": "TOKEN_INVALID",
    }


def test_a_token_with_the_same_claims_and_another_signature_is_refused(customer):
    token = str(RefreshToken.for_user(customer).access_token)
    client = api_client_for()
    assert client.get("/api/auth/me", **bearer(token)).status_code == 200
    header, payload, signature = token.split(".")
    forged = f"{header}.{payload}.{signature[:-4]}AAAA"
    assert forged != token
    assert client.get("/api/auth/me", **bearer(forged)).status_code == 401
    assert client.get("/api/auth/me", **bearer(token)).status_code == 200
