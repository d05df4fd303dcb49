"""Bearer JWT authentication: simplejwt's, with a cheaper token check and user lookup.

A client sends the same access token with every request for its lifetime (15 minutes), so a
verified token is remembered by its exact bytes (per process, at most :data:`VERIFIED_MAX`):
the next request with those bytes skips the signature check and the claim parsing, not the
expiry — a remembered token past its ``exp`` (with simplejwt's leeway) is checked afresh, which
answers 401 (TOKEN_INVALID) as before. Identical bytes were verified already; nothing else
about a token can change (access tokens are not revocable by design; the password-change check
below still runs per request).

Every API request authenticates, so the lookup of the token's user is on every request's path.
simplejwt runs ``User.objects.get(id=...)``: composing and compiling that ORM query cost several
times running it (profiled: ~0.5 ms of a 1.1 ms authentication). On PostgreSQL it is one prepared SQL
text per process and ``Model.from_db`` — the hook Django itself uses to build instances from
rows — so the user is a complete, ordinary ``User``. The checks and their errors are
simplejwt's: unknown user (``user_not_found``), inactive user (``user_inactive``), and the
password-change revocation when ``CHECK_REVOKE_TOKEN`` is on.
"""

from __future__ import annotations

import time
from functools import cache

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils.translation import gettext_lazy as _
from rest_framework_simplejwt import authentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.utils import get_md5_hash_password

from solarhub.db import server_cursor


@cache
def _user_query() -> tuple[str, list[str]]:
    """``SELECT <every concrete column> FROM <user table> WHERE <USER_ID_FIELD> = %s`` and the
    field attnames in column order."""
    model = get_user_model()
    fields = model._meta.concrete_fields
    quote = connection.ops.quote_name
    key = model._meta.get_field(api_settings.USER_ID_FIELD)
    columns = ", ".join(quote(field.column) for field in fields)
    sql = f"SELECT {columns} FROM {quote(model._meta.db_table)} WHERE {quote(key.column)} = %s"  # noqa: S608 -- names from the model
    return sql, [field.attname for field in fields]


def user_by_token_id(user_id):
    """The user whose ``USER_ID_FIELD`` is ``user_id`` (as a token carries it), or None."""
    model = get_user_model()
    try:
        value = model._meta.get_field(api_settings.USER_ID_FIELD).to_python(user_id)
    except ValidationError:
        return None
    if connection.vendor != "postgresql":  # raw rows skip the backend's converters (SQLite dates)
        return model._default_manager.filter(**{api_settings.USER_ID_FIELD: value}).first()
    sql, attnames = _user_query()
    with server_cursor() as cursor:
        cursor.execute(sql, [value])
        row = cursor.fetchone()
    return model.from_db(connection.alias, attnames, row) if row else None


VERIFIED_MAX = 4096
_verified: dict[bytes, tuple[float, object]] = {}  # raw token → (valid until, epoch s; token)


def _valid_until(token) -> float | None:
    exp = token.payload.get("exp")
    if not isinstance(exp, int | float):
        return None
    return exp + _leeway_seconds()


def _leeway_seconds() -> float:
    leeway = api_settings.LEEWAY
    return leeway.total_seconds() if hasattr(leeway, "total_seconds") else float(leeway or 0)


class JWTAuthentication(authentication.JWTAuthentication):
    def get_validated_token(self, raw_token: bytes):
        remembered = _verified.get(raw_token)
        if remembered is not None and time.time() < remembered[0]:
            return remembered[1]
        token = super().get_validated_token(raw_token)
        valid_until = _valid_until(token)
        if valid_until is not None:
            if len(_verified) >= VERIFIED_MAX:
                _verified.clear()  # a burst of distinct tokens: start over (cheap, rare)
            _verified[raw_token] = (valid_until, token)
        return token

    def get_user(self, validated_token):
        try:
            user_id = validated_token[api_settings.USER_ID_CLAIM]
        except KeyError as exc:
            raise InvalidToken(_("Token contained no recognizable user identification")) from exc
        user = user_by_token_id(user_id)
        if user is None:
            raise AuthenticationFailed(_("User not found"), code="user_not_found")
        if api_settings.CHECK_USER_IS_ACTIVE and not user.is_active:
            raise AuthenticationFailed(_("User is inactive"), code="user_inactive")
        if api_settings.CHECK_REVOKE_TOKEN and validated_token.get(
            api_settings.REVOKE_TOKEN_CLAIM
        ) != get_md5_hash_password(user.password):
            raise AuthenticationFailed(_("The user's password has been changed."), code="password_changed")
        return user
