"""Reads of the accounts app."""

from __future__ import annotations

from django.db import IntegrityError

from .models import UserSetting


def user_setting_get(*, user) -> UserSetting:
    """The user's settings row, created with defaults on first read (concurrency-safe)."""
    try:
        setting, _ = UserSetting.objects.get_or_create(user=user)
    except IntegrityError:  # two first reads raced; the other one created it
        setting = UserSetting.objects.get(user=user)
    return setting
