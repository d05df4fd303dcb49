"""Demo data for `make run` (the ``seed_demo`` command). Idempotent: running it again changes
nothing. Later issues add plants, devices and telemetry here."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction

from accounts.choices import UserType
from accounts.services import user_create


@dataclass(frozen=True)
class DemoUser:
    username: str
    email: str
    password: str
    user_type: str
    name: str
    profile: dict


DEMO_USERS = [
    DemoUser("admin", "admin@solarhub.local", "solarhub-admin", UserType.PLANT_ADMIN, "Platform Admin", {}),
    DemoUser(
        "installer1",
        "installer@solarco.example",
        "solarhub-installer",
        UserType.INSTALLER,
        "Solar Install Co",
        {"company_name": "Solar Install Co", "license_number": "LIC-789", "phone_number": "+1-555-0123"},
    ),
    DemoUser(
        "demo",
        "demo@solarhub.example",
        "solarhub-demo",
        UserType.CUSTOMER,
        "John Smith",
        {"installation_id": "INST-12345", "address": "123 Solar Street, CA"},
    ),
]


@transaction.atomic
def demo_seed() -> list[tuple[DemoUser, bool]]:
    """Create the demo accounts that are missing; returns ``(user, created)`` pairs."""
    User = get_user_model()
    outcome = []
    for demo in DEMO_USERS:
        exists = User.objects.filter(username=demo.username).exists()
        if not exists:
            user = user_create(
                username=demo.username,
                email=demo.email,
                password=demo.password,
                user_type=demo.user_type,
                name=demo.name,
                **demo.profile,
            )
            if demo.user_type == UserType.PLANT_ADMIN:
                user.is_superuser = True
                user.save(update_fields=["is_superuser"])
        outcome.append((demo, not exists))
    return outcome
