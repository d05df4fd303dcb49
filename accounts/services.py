"""Writes of the accounts app: keyword-only, typed functions named <entity>_<action>."""

from __future__ import annotations

import re
import secrets
from typing import Any

from django.contrib.auth import get_user_model, user_logged_in
from django.contrib.auth.password_validation import validate_password
from django.db import IntegrityError, transaction
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.utils import datetime_from_epoch

from .choices import UserType

CUSTOMER_PROFILE_FIELDS = ("installation_id", "address")
INSTALLER_PROFILE_FIELDS = ("company_name", "license_number", "phone_number")
PROFILE_FIELDS = {
    UserType.CUSTOMER: CUSTOMER_PROFILE_FIELDS,
    UserType.INSTALLER: INSTALLER_PROFILE_FIELDS,
    UserType.PLANT_ADMIN: (),
}


class EmailAlreadyExists(Exception):
    """Raised when an e-mail address (compared case-insensitively) is already registered."""


class RefreshTokenInvalid(Exception):
    """A refresh token that is malformed, expired, already used (rotated) or logged out."""


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


def user_register(*, email: str, password: str, user_type: str, name: str = "", **profile: Any):
    """Self-service registration (customers and installers only; never plant_admin).

    The password is checked with Django's validators against the would-be user, so it may not
    resemble the e-mail or name. Duplicate e-mails, whatever their case, raise
    :class:`EmailAlreadyExists` — also when two registrations race (the unique index decides).
    """
    if user_type not in (UserType.CUSTOMER, UserType.INSTALLER):
        raise ValueError("user_type must be customer or installer")
    User = get_user_model()
    allowed = {key: value for key, value in profile.items() if key in PROFILE_FIELDS[user_type]}
    if User.objects.filter(email__iexact=email).exists():
        raise EmailAlreadyExists(email)
    validate_password(password, user=User(email=email, name=name, username=email.split("@")[0]))
    try:
        return user_create(email=email, password=password, user_type=user_type, name=name, **allowed)
    except IntegrityError:
        if User.objects.filter(email__iexact=email).exists():
            raise EmailAlreadyExists(email) from None
        raise


def user_update_profile(*, user, name: str | None = None, profile: dict[str, Any] | None = None):
    """Change what a user may change about themselves: their name and the profile fields of
    their own user type. Nothing else (user type, staff flags, e-mail) is reachable here."""
    changed: list[str] = []
    if name is not None:
        user.name = name
        changed.append("name")
    for key, value in (profile or {}).items():
        if key in PROFILE_FIELDS.get(user.user_type, ()):
            setattr(user, key, value)
            changed.append(key)
    if changed:
        user.save(update_fields=changed)
    return user


def auth_tokens_issue(*, user, request=None) -> dict[str, Any]:
    """A fresh access/refresh pair for a signed-in user; records the sign-in (last_login)."""
    refresh = RefreshToken.for_user(user)  # also stored as an OutstandingToken
    user_logged_in.send(sender=user.__class__, request=request, user=user)
    return {
        "token": str(refresh.access_token),
        "refresh": str(refresh),
        "expires_in": int(jwt_settings.ACCESS_TOKEN_LIFETIME.total_seconds()),
    }


def _refresh_token_consume(*, raw: str) -> RefreshToken:
    """Validate a refresh token and blacklist it, atomically.

    simplejwt checks the blacklist and then blacklists in two steps, so N concurrent refreshes
    with one token could all succeed. Here the INSERT into the blacklist is the claim: its
    one-to-one unique index lets exactly one transaction win; the others get IntegrityError.
    """
    try:
        refresh = RefreshToken(raw)  # signature, expiry, type, and the blacklist (read)
    except TokenError as exc:
        raise RefreshTokenInvalid(str(exc)) from None
    jti = refresh.payload.get(jwt_settings.JTI_CLAIM)
    user_id = refresh.payload.get(jwt_settings.USER_ID_CLAIM)
    try:
        with transaction.atomic():
            outstanding, _ = OutstandingToken.objects.get_or_create(
                jti=jti,
                defaults={
                    "user_id": user_id,
                    "token": raw,
                    "expires_at": datetime_from_epoch(refresh.payload["exp"]),
                },
            )
            BlacklistedToken.objects.create(token=outstanding)
    except IntegrityError:
        raise RefreshTokenInvalid("Token is blacklisted") from None
    return refresh


def auth_tokens_refresh(*, raw_refresh: str) -> dict[str, Any]:
    """Rotate: the presented refresh token is spent, a new pair is issued. Reusing a spent
    token fails. Deactivated or deleted users cannot refresh."""
    refresh = _refresh_token_consume(raw=raw_refresh)
    User = get_user_model()
    user = User.objects.filter(pk=refresh.payload.get(jwt_settings.USER_ID_CLAIM), is_active=True).first()
    if user is None:
        raise RefreshTokenInvalid("User is inactive or gone")
    new_refresh = RefreshToken.for_user(user)
    return {
        "token": str(new_refresh.access_token),
        "refresh": str(new_refresh),
        "expires_in": int(jwt_settings.ACCESS_TOKEN_LIFETIME.total_seconds()),
    }


def auth_logout(*, user, raw_refresh: str) -> None:
    """Blacklist the user's refresh token; it can never be refreshed again. A token of another
    user is refused (nobody can log somebody else out)."""
    try:
        refresh = RefreshToken(raw_refresh)
    except TokenError as exc:
        raise RefreshTokenInvalid(str(exc)) from None
    if str(refresh.payload.get(jwt_settings.USER_ID_CLAIM)) != str(user.pk):
        raise RefreshTokenInvalid("Token belongs to another user")
    _refresh_token_consume(raw=raw_refresh)


def user_setting_update(*, user, data: dict[str, Any]):
    """Update the user's settings; ``notifications`` is merged key by key over the current ones."""
    from .selectors import user_setting_get

    setting = user_setting_get(user=user)
    for field in ("theme", "default_plant", "preferences"):
        if field in data:
            setattr(setting, field, data[field])
    if "notifications" in data:
        merged = {**setting.notifications, **data["notifications"]}
        setting.notifications = merged
    setting.save()
    return setting


def expired_tokens_flush() -> int:
    """Delete expired outstanding (and so blacklisted) refresh tokens; returns how many."""
    from django.utils import timezone

    deleted, _ = OutstandingToken.objects.filter(expires_at__lte=timezone.now()).delete()
    return deleted


__all__ = [
    "EmailAlreadyExists",
    "RefreshTokenInvalid",
    "auth_logout",
    "auth_tokens_issue",
    "auth_tokens_refresh",
    "expired_tokens_flush",
    "user_create",
    "user_register",
    "user_setting_update",
    "user_update_profile",
    "username_from_email",
]
