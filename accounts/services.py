"""Writes of the accounts app: keyword-only, typed functions named <entity>_<action>."""

from __future__ import annotations

import logging
import re
import secrets
import time
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model, user_logged_in
from django.contrib.auth.password_validation import validate_password
from django.core.cache import cache
from django.db import IntegrityError, transaction
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.utils import datetime_from_epoch, get_md5_hash_password

from .choices import UserType

logger = logging.getLogger("solarhub.accounts")

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


REFRESH_REUSE_KEY = "refresh-reuse:{jti}"


class _SignedRefreshToken(RefreshToken):
    """A refresh token checked for signature, expiry and type, but not read against the
    blacklist: the blacklist INSERT (the claim) decides whether it is still unspent."""

    def check_blacklist(self) -> None:
        return None


def _refresh_token_decode(*, raw: str) -> RefreshToken:
    try:
        return _SignedRefreshToken(raw)
    except TokenError as exc:
        raise RefreshTokenInvalid(str(exc)) from None


def _outstanding_token(*, refresh: RefreshToken, raw: str) -> OutstandingToken:
    """The token's OutstandingToken row (every token we mint has one; made if missing). Read
    before, not inside, the claiming transaction: see :func:`_refresh_token_claim`."""
    try:
        outstanding, _ = OutstandingToken.objects.get_or_create(
            jti=refresh.payload.get(jwt_settings.JTI_CLAIM),
            defaults={
                "user_id": refresh.payload.get(jwt_settings.USER_ID_CLAIM),
                "token": raw,
                "expires_at": datetime_from_epoch(refresh.payload["exp"]),
            },
        )
    except IntegrityError:  # its user is gone
        raise RefreshTokenInvalid("Token is invalid") from None
    return outstanding


def _refresh_token_claim(*, outstanding: OutstandingToken) -> None:
    """Blacklist the token: the claim. Call inside a transaction, as its first statement.

    simplejwt checks the blacklist and then blacklists in two steps, so N concurrent refreshes
    with one token could all succeed. Here the INSERT into the blacklist is the claim: its
    one-to-one unique index lets exactly one transaction win; on PostgreSQL the others wait on
    the index until the winner commits (or rolls back) and then get IntegrityError (or win).
    On SQLite the write lock serialises them: a write as the first statement of a deferred
    transaction waits for it (after a read SQLite would refuse at once, "database is locked",
    rather than risk a deadlock), as BEGIN IMMEDIATE does.
    """
    BlacklistedToken.objects.create(token=outstanding)


def _reuse_offer(*, jti: str, child_jti: str, user_id, tokens: dict[str, Any]) -> None:
    """Remember, for JWT_REFRESH_REUSE_SECONDS, the pair that rotating ``jti`` issued. Called
    inside the rotating transaction, so that it is in the cache before the concurrent losers of
    the claim wake up at the commit."""
    window = settings.JWT_REFRESH_REUSE_SECONDS
    if not window:
        return
    entry = {"tokens": tokens, "child_jti": child_jti, "user_id": user_id, "rotated_at": time.time()}
    try:
        cache.set(REFRESH_REUSE_KEY.format(jti=jti), entry, timeout=window)
    except Exception:  # noqa: BLE001 -- a cache outage must not undo the rotation; losers get 401
        logger.warning("refresh reuse: could not cache the rotated pair", exc_info=True)


def _reuse_withdraw(*, jti: str) -> None:
    try:
        cache.delete(REFRESH_REUSE_KEY.format(jti=jti))
    except Exception:  # do not mask the error that rolled the rotation back
        logger.error("refresh reuse: could not withdraw the pair of a rolled-back rotation", exc_info=True)


def _reuse_entry(*, jti: str) -> dict[str, Any] | None:
    window = settings.JWT_REFRESH_REUSE_SECONDS
    if not window:
        return None
    entry = cache.get(REFRESH_REUSE_KEY.format(jti=jti))
    if not entry or time.time() - entry["rotated_at"] > window:
        return None
    return entry


def _reuse_pair(*, jti: str) -> dict[str, Any] | None:
    """The pair that rotating ``jti`` issued, while within the reuse interval and while that
    family is alive: the issued refresh token not revoked (logged out, blacklisted in the admin,
    or rotated on) and its user active. Only rotation makes an entry, so a token that was itself
    logged out never gets one."""
    entry = _reuse_entry(jti=jti)
    if entry is None:
        return None
    if BlacklistedToken.objects.filter(token__jti=entry["child_jti"]).exists():
        return None
    if not get_user_model().objects.filter(pk=entry["user_id"], is_active=True).exists():
        return None
    return dict(entry["tokens"])


def _reuse_family_revoke(*, jti: str) -> bool:
    """Logging out with a token rotated within the reuse interval logs out what its rotation
    issued (and, were that rotated on too within its interval, what that issued). False when
    ``jti`` has no reuse entry."""
    entry = _reuse_entry(jti=jti)
    if entry is None:
        return False
    for _ in range(16):  # a chain of rotations inside one short interval; bounded all the same
        cache.delete(REFRESH_REUSE_KEY.format(jti=jti))
        jti = entry["child_jti"]
        child = OutstandingToken.objects.filter(jti=jti).first()
        if child is not None:
            BlacklistedToken.objects.get_or_create(token=child)
        entry = _reuse_entry(jti=jti)
        if entry is None:
            break
    return True


def _refresh_token_rotate(
    *, outstanding: OutstandingToken, user_id, password_digest: str | None = None
) -> dict[str, Any] | None:
    """Claim the token and issue the new pair in one transaction; None (token spent all the
    same) when the user is inactive or gone, or changed their password since the token was
    issued (its ``hash_password`` digest no longer matches). IntegrityError when the token was
    spent already."""
    claimed = False
    try:
        with transaction.atomic():
            _refresh_token_claim(outstanding=outstanding)
            claimed = True
            user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
            if user is None:
                return None
            if jwt_settings.CHECK_REVOKE_TOKEN and password_digest != get_md5_hash_password(user.password):
                return None
            new_refresh = RefreshToken.for_user(user)
            tokens = {
                "token": str(new_refresh.access_token),
                "refresh": str(new_refresh),
                "expires_in": int(jwt_settings.ACCESS_TOKEN_LIFETIME.total_seconds()),
            }
            _reuse_offer(
                jti=outstanding.jti,
                child_jti=new_refresh.payload[jwt_settings.JTI_CLAIM],
                user_id=user.pk,
                tokens=tokens,
            )
    except BaseException:
        # Rolled back after this request won the claim (never when it lost it: the entry would
        # be the winner's): the pair it may have offered was never issued; nobody may get it.
        if claimed:
            _reuse_withdraw(jti=outstanding.jti)
        raise
    return tokens


def auth_tokens_refresh(*, raw_refresh: str) -> dict[str, Any]:
    """Rotate: the presented refresh token is spent, a new pair is issued. Reusing a spent
    token fails — except within JWT_REFRESH_REUSE_SECONDS of its rotation, which answers the
    same pair the rotation issued (Auth0's reuse interval: an SPA's tabs refreshing at once all
    get one pair, and none of them is signed out). Deactivated or deleted users cannot refresh."""
    refresh = _refresh_token_decode(raw=raw_refresh)
    outstanding = _outstanding_token(refresh=refresh, raw=raw_refresh)
    try:
        tokens = _refresh_token_rotate(
            outstanding=outstanding,
            user_id=refresh.payload.get(jwt_settings.USER_ID_CLAIM),
            password_digest=refresh.payload.get(jwt_settings.REVOKE_TOKEN_CLAIM),
        )
    except IntegrityError:
        # Spent: rotated (perhaps a moment ago, by a concurrent request) or logged out.
        tokens = _reuse_pair(jti=outstanding.jti)
        if tokens is None:
            raise RefreshTokenInvalid("Token is blacklisted") from None
        return tokens
    if tokens is None:
        raise RefreshTokenInvalid("User is inactive or gone, or the password changed")
    return tokens


def auth_logout(*, user, raw_refresh: str) -> None:
    """Blacklist the user's refresh token; it can never be refreshed again. A token of another
    user is refused (nobody can log somebody else out). A token rotated within the reuse
    interval logs out the tokens its rotation issued instead."""
    refresh = _refresh_token_decode(raw=raw_refresh)
    if str(refresh.payload.get(jwt_settings.USER_ID_CLAIM)) != str(user.pk):
        raise RefreshTokenInvalid("Token belongs to another user")
    outstanding = _outstanding_token(refresh=refresh, raw=raw_refresh)
    try:
        with transaction.atomic():
            _refresh_token_claim(outstanding=outstanding)
    except IntegrityError:
        if not _reuse_family_revoke(jti=outstanding.jti):
            raise RefreshTokenInvalid("Token is blacklisted") from None


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


def user_tokens_revoke(*, user_id) -> int:
    """Blacklist every outstanding, unexpired refresh token of the user (a password change or
    reset: accounts.signals); returns how many were still alive."""
    from django.utils import timezone

    alive = OutstandingToken.objects.filter(user_id=user_id, expires_at__gt=timezone.now(), blacklistedtoken=None)
    tokens = list(alive)
    BlacklistedToken.objects.bulk_create([BlacklistedToken(token=t) for t in tokens], ignore_conflicts=True)
    return len(tokens)


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
