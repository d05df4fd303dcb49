"""Persona fixtures every permission test uses (NetBox/healthchecks style): ``customer``,
``installer``, ``plant_admin``, ``outsider`` and ``anonymous``, plus ``own_plant`` (owned by the
customer, installed by the installer) and ``other_plant`` (nobody's business of theirs)."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.choices import UserType
from accounts.services import user_create
from plants.models import Plant

__all__ = [
    "anonymous",
    "api_client_for",
    "customer",
    "installer",
    "make_plant",
    "other_installer",
    "other_plant",
    "outsider",
    "own_plant",
    "personas",
    "plant_admin",
]

PERSONAS = ("anonymous", "customer", "installer", "plant_admin", "outsider")


def api_client_for(user=None) -> APIClient:
    """An API client authenticated the way the SPA is: a Bearer access token."""
    client = APIClient()
    if user is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    return client


@pytest.fixture
def customer(db):
    return user_create(email="customer@example.com", password="x-Pass-1234", username="customer", name="Cus Tomer")


@pytest.fixture
def installer(db):
    return user_create(
        email="installer@example.com",
        password="x-Pass-1234",
        username="installer",
        user_type=UserType.INSTALLER,
        company_name="Sun Co",
    )


@pytest.fixture
def plant_admin(db):
    return user_create(
        email="admin@example.com", password="x-Pass-1234", username="padmin", user_type=UserType.PLANT_ADMIN
    )


@pytest.fixture
def outsider(db):
    """A customer with plants of their own elsewhere, none shared with the others."""
    return user_create(email="outsider@example.com", password="x-Pass-1234", username="outsider")


@pytest.fixture
def anonymous():
    return None


def make_plant(*, name: str, owner=None, installer=None, **fields) -> Plant:
    """A valid fixed-tilt plant with memberships synced, as the services would create it."""
    from plants.hooks import plant_created_send
    from plants.services import plant_memberships_sync

    defaults = {
        "plant_code": f"T-{name[:20].upper().replace(' ', '-')}",
        "latitude": 37.77,
        "longitude": -122.42,
        "timezone": "America/Los_Angeles",
        "total_power_output_kw": 500.0,
        "surface_tilt": 20.0,
        "surface_azimuth": 180.0,
    }
    plant = Plant.objects.create(name=name, owner=owner, installer=installer, **{**defaults, **fields})
    plant_created_send(plant=plant)  # as plant_create does (the default alarm rules)
    plant_memberships_sync(plant=plant)
    return plant


@pytest.fixture
def other_installer(db):
    return user_create(
        email="rival@example.com", password="x-Pass-1234", username="rival", user_type=UserType.INSTALLER
    )


@pytest.fixture
def own_plant(customer, installer):
    """Owned by ``customer``, installed by ``installer``."""
    return make_plant(name="Own plant", owner=customer, installer=installer)


@pytest.fixture
def other_plant(outsider, other_installer):
    """Owned by ``outsider``, installed by ``other_installer``: nobody else's business."""
    return make_plant(name="Other plant", owner=outsider, installer=other_installer)


@pytest.fixture
def personas(customer, installer, plant_admin, outsider) -> dict:
    return {
        "anonymous": None,
        "customer": customer,
        "installer": installer,
        "plant_admin": plant_admin,
        "outsider": outsider,
    }
