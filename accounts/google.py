"""Sign-in with a Google ID token (the SPA's "Sign in with Google" button posts the credential).

Verification is allauth's (``providers.google.views._verify_and_decode``: Google's certificates,
signature, ``aud``, ``iss``, ``exp``, ``jti`` replay). That code trusts the token header's ``alg``
and lets malformed input escape as arbitrary exceptions, so this module screens the header first
(RS256 with a ``kid`` only) and turns every failure into a :class:`GoogleSignInError`.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import jwt
import requests
from allauth.account.models import EmailAddress
from allauth.socialaccount import app_settings as socialaccount_settings
from allauth.socialaccount.adapter import get_adapter
from allauth.socialaccount.models import SocialAccount
from allauth.socialaccount.providers.google import views as google_views
from allauth.socialaccount.providers.oauth2.client import OAuth2Error
from django.contrib.auth import get_user_model
from django.core.exceptions import MultipleObjectsReturned, ObjectDoesNotExist
from django.db import IntegrityError, transaction

from .choices import UserType
from .services import user_create

if TYPE_CHECKING:
    from django.http import HttpRequest

    from .models import User

logger = logging.getLogger("solarhub.accounts.google")

PROVIDER = "google"
# Google ID tokens are ~1.2 kB; anything far larger is not one and is not worth parsing.
MAX_TOKEN_LENGTH = 8192
SIGN_UP_USER_TYPES = frozenset({UserType.CUSTOMER, UserType.INSTALLER})


class GoogleSignInError(Exception):
    """A sign-in refusal the API answers as ``{detail, status_code, error_code}``."""

    def __init__(self, detail: str, *, error_code: str, status_code: int) -> None:
        super().__init__(detail)
        self.detail = detail
        self.error_code = error_code
        self.status_code = status_code


def _invalid_token() -> GoogleSignInError:
    return GoogleSignInError("Invalid Google ID token.", error_code="GOOGLE_TOKEN_INVALID", status_code=401)


def _invalid_credentials() -> GoogleSignInError:
    # Same answer as a wrong password: a caller must not learn which e-mails have accounts.
    return GoogleSignInError("Invalid username or password", error_code="INVALID_CREDENTIALS", status_code=401)


def _google_app(request: HttpRequest) -> Any:
    """The configured Google SocialApp; 503 when there is none, so a missing client id never
    degrades into accepting tokens minted for some other audience."""
    try:
        app = get_adapter().get_app(request, provider=PROVIDER)
    except (ObjectDoesNotExist, MultipleObjectsReturned):
        app = None
    if app is None or not app.client_id:
        raise GoogleSignInError(
            "Google sign-in is not configured.", error_code="GOOGLE_NOT_CONFIGURED", status_code=503
        )
    return app


def _screen_header(id_token: Any) -> None:
    """Reject before allauth sees it anything that is not a compact RS256 JWT with a string ``kid``:
    allauth decodes with ``algorithms=[header alg]``, so an HS256 token would be checked with the
    public certificate as HMAC secret, and a missing ``kid`` raises a bare KeyError."""
    if not isinstance(id_token, str) or not id_token or len(id_token) > MAX_TOKEN_LENGTH or id_token.count(".") != 2:
        raise _invalid_token()
    try:
        header = jwt.get_unverified_header(id_token)
    except (jwt.PyJWTError, ValueError, TypeError) as exc:
        raise _invalid_token() from exc
    kid = header.get("kid")
    if header.get("alg") != "RS256" or not isinstance(kid, str) or not kid:
        raise _invalid_token()


def verify_id_token(*, request: HttpRequest, id_token: Any) -> dict[str, Any]:
    """The verified claims of a Google ID token, or a GoogleSignInError (401, or 503 when Google's
    certificates cannot be fetched: the token may be fine, the caller should retry)."""
    app = _google_app(request)
    _screen_header(id_token)
    try:
        claims = google_views._verify_and_decode(app, id_token, verify_signature=True)
    except (OAuth2Error, jwt.PyJWTError) as exc:
        raise _invalid_token() from exc
    except requests.RequestException as exc:
        logger.warning("Google certificates unavailable: %s", exc)
        raise GoogleSignInError(
            "Google sign-in is temporarily unavailable.", error_code="GOOGLE_UNAVAILABLE", status_code=503
        ) from exc
    except Exception as exc:
        # A malformed certificate document, a cache outage, an unforeseen token shape: log it, and
        # answer 401 rather than 500 -- nothing unverified gets past this point either way.
        logger.exception("Google ID token verification failed unexpectedly")
        raise _invalid_token() from exc
    if not isinstance(claims, dict):
        raise _invalid_token()
    return claims


def _identity(claims: dict[str, Any]) -> tuple[str, str, str]:
    """``(sub, email, name)`` from verified claims; only a Google-verified e-mail may be linked
    to (or create) an account, or anyone could claim an address they do not own."""
    sub, email = claims.get("sub"), claims.get("email")
    if not isinstance(sub, str) or not sub or len(sub) > socialaccount_settings.UID_MAX_LENGTH:
        raise _invalid_token()
    verified = claims.get("email_verified") in (True, "true")  # older tokens carry the string
    if not isinstance(email, str) or "@" not in email or len(email) > 254 or not verified:
        raise GoogleSignInError(
            "The Google account has no verified e-mail address.",
            error_code="GOOGLE_EMAIL_NOT_VERIFIED",
            status_code=401,
        )
    name = claims.get("name")
    return sub, email, (name if isinstance(name, str) else "")[:150]


def _mark_email_verified(*, user: User, email: str) -> None:
    """Record the address as verified for allauth (Google vouched for it), primary if none is."""
    address = EmailAddress.objects.filter(user=user, email__iexact=email).first()
    if address is None:
        has_primary = EmailAddress.objects.filter(user=user, primary=True).exists()
        address = EmailAddress(user=user, email=email.lower(), primary=not has_primary)
    if not address.verified and address.can_set_verified():
        address.verified = True
    address.save()


def _check_may_sign_in(*, user: User, user_type: str | None) -> None:
    # Platform staff (plant_admin, superusers) sign in with their password only: a Google
    # account must never become a second way into the admin.
    staff = user.is_staff or user.is_superuser or user.user_type == UserType.PLANT_ADMIN
    if not user.is_active or staff or (user_type is not None and user.user_type != user_type):
        raise _invalid_credentials()


@transaction.atomic
def _find_or_create_user(*, sub: str, email: str, name: str, claims: dict[str, Any], user_type: str | None) -> User:
    account = SocialAccount.objects.select_related("user").filter(provider=PROVIDER, uid=sub).first()
    if account is not None:
        _check_may_sign_in(user=account.user, user_type=user_type)
        account.extra_data = claims
        account.save(update_fields=["extra_data", "last_login"])
        return account.user
    user = get_user_model().objects.filter(email__iexact=email).first()
    if user is not None:
        # Checked before linking: a refused sign-in must leave no trace on the account.
        _check_may_sign_in(user=user, user_type=user_type)
    else:
        user = user_create(email=email, password=None, user_type=user_type or UserType.CUSTOMER, name=name)
    SocialAccount.objects.create(user=user, provider=PROVIDER, uid=sub, extra_data=claims)
    _mark_email_verified(user=user, email=email)
    return user


def google_sign_in(*, request: HttpRequest, id_token: str, user_type: str | None) -> User:
    """The user a Google ID token signs in: linked by Google ``sub``, else by the verified e-mail,
    else newly created (``user_type`` or customer). Raises GoogleSignInError, nothing else."""
    if user_type is not None and user_type not in SIGN_UP_USER_TYPES:
        # Checked first, so that a rejected request does not spend the token's jti.
        raise GoogleSignInError(
            "userType must be customer or installer.", error_code="VALIDATION_ERROR", status_code=400
        )
    claims = verify_id_token(request=request, id_token=id_token)
    sub, email, name = _identity(claims)
    for attempt in range(2):
        try:
            return _find_or_create_user(sub=sub, email=email, name=name, claims=claims, user_type=user_type)
        except IntegrityError:
            # A concurrent first sign-in for the same person won the race; its rows now exist.
            if attempt:
                logger.exception("Google sign-in kept conflicting for sub %s", sub)
    raise GoogleSignInError("Sign-in conflicted, please retry.", error_code="CONFLICT", status_code=409)
