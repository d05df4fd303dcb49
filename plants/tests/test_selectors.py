"""``device_visible_to`` (one hand-written statement for hot read paths) must answer exactly as
the ORM scope ``plant_ids_visible_to`` does, for every persona, a plain member, a deactivated
user and devices that do not exist."""

from __future__ import annotations

import pytest

from accounts.services import user_create
from plants.choices import PlantRole
from plants.models import Device, PlantMembership
from plants.selectors import device_visible_to, plant_ids_visible_to

pytestmark = pytest.mark.django_db


@pytest.fixture
def devices(own_plant, other_plant):
    own = Device.objects.create(plant=own_plant, type="inverter", name="Own inv", serial_number="OWN-1")
    other = Device.objects.create(plant=other_plant, type="inverter", name="Other inv", serial_number="OTH-1")
    return own, other


def _orm_answer(user, device: Device) -> bool:
    return Device.objects.filter(pk=device.pk, plant_id__in=plant_ids_visible_to(user)).exists()


def test_device_visible_to_agrees_with_the_orm_scope_for_every_persona(personas, devices, own_plant):
    viewer = user_create(email="viewer@example.com", password="x-Pass-1234", username="viewer")
    PlantMembership.objects.create(user=viewer, plant=own_plant, role=PlantRole.VIEWER)
    gone = user_create(email="gone@example.com", password="x-Pass-1234", username="gone")
    PlantMembership.objects.create(user=gone, plant=own_plant, role=PlantRole.VIEWER)
    gone.is_active = False
    gone.save(update_fields=["is_active"])
    users = {**personas, "viewer": viewer, "deactivated": gone}
    expected = {
        "anonymous": (False, False),
        "customer": (True, False),
        "installer": (True, False),
        "plant_admin": (True, True),
        "outsider": (False, True),
        "viewer": (True, False),
        "deactivated": (False, False),
    }
    own, other = devices
    for name, user in users.items():
        answers = tuple(device_visible_to(user, device_id=device.pk) is not None for device in (own, other))
        assert answers == expected[name], name
        assert answers == tuple(_orm_answer(user, device) for device in (own, other)), name


def test_device_visible_to_returns_the_plant_and_its_zone(customer, devices, own_plant):
    own, _ = devices
    found = device_visible_to(customer, device_id=own.pk)
    assert (found.id, found.plant_id, found.timezone) == (own.pk, own_plant.pk, own_plant.timezone)
    assert device_visible_to(customer, device_id=own.pk + 10_000) is None
