"""`seed_demo` creates the demo accounts make run prints, and running it again changes nothing."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command

from accounts.choices import UserType
from solarhub.demo import DEMO_USERS

pytestmark = pytest.mark.django_db


def test_seed_demo_is_idempotent_and_prints_working_credentials():
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    first = list(get_user_model().objects.order_by("id").values_list("id", "username", "password"))
    call_command("seed_demo", stdout=io.StringIO())
    assert list(get_user_model().objects.order_by("id").values_list("id", "username", "password")) == first

    printed = out.getvalue()
    for demo in DEMO_USERS:
        assert f"username={demo.username}" in printed and f"password={demo.password}" in printed
        user = authenticate(username=demo.username, password=demo.password)
        assert user is not None and user.user_type == demo.user_type
    admin = get_user_model().objects.get(username="admin")
    assert admin.user_type == UserType.PLANT_ADMIN and admin.is_staff and admin.is_superuser
    assert {demo.user_type for demo in DEMO_USERS} == {UserType.PLANT_ADMIN, UserType.INSTALLER, UserType.CUSTOMER}
