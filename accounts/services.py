"""Writes of the accounts app: keyword-only, typed functions named <entity>_<action>."""

from __future__ import annotations

import re
import secrets

from django.contrib.auth import get_user_model
from django.db import transaction

from .choices import UserType


def username_from_email(*, email: str) -> str:
    """A free username derived from the e-mail's local part (``jane.doe@x`` → ``jane.doe``)."""
    User = get_user_model()
    base = re.sub(r"[^\w.+-]", "", (email or "").split("@")[0].lower())[:120] or "user"
    candidate = base
    while User.objects.filter(username__iexact=candidate).exists():
        candidate = f"{base}-{secrets.token_hex(3)}"
    return candidate


@transaction.atomic
def user_create(
    *,
    email: str,
    password: str | None,
    user_type: str = UserType.CUSTOMER,
    username: str | None = None,
    name: str = "",
    **profile: str,
):
    """Create a user; plant_admin users are Django staff (they work in the admin)."""
    User = get_user_model()
    is_admin = user_type == UserType.PLANT_ADMIN
    return User.objects.create_user(
        username=username,
        email=email,
        password=password,
        name=name,
        user_type=user_type,
        is_staff=is_admin,
        **profile,
    )
