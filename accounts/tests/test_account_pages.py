"""allauth's own account pages work beside the API: password reset by e-mail."""

from __future__ import annotations

import pytest
from django.core import mail

pytestmark = pytest.mark.django_db


def test_password_reset_by_email(client, customer):
    page = client.get("/accounts/password/reset/")
    assert page.status_code == 200
    response = client.post("/accounts/password/reset/", {"email": "CUSTOMER@example.com"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["customer@example.com"]
    assert "/accounts/password/reset/key/" in mail.outbox[0].body


def test_login_page_renders(client):
    assert client.get("/accounts/login/").status_code == 200
