"""Views of the accounts API: sign-in flows (seed 001 + seed 003), profile, settings."""

from __future__ import annotations

from django.contrib.auth import authenticate, get_user_model
from django.core.exceptions import ValidationError as DjangoValidationError
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, PolymorphicProxySerializer, extend_schema
from rest_framework import exceptions, status
from rest_framework.authentication import BaseAuthentication
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import services
from accounts.selectors import user_setting_get
from accounts.throttling import (
    AuthRateThrottle,
    sign_in_failure_record,
    sign_in_lockout_check,
    sign_in_success_record,
)
from solarhub.api.exceptions import ApiError
from solarhub.api.permissions import IsPlantAdmin

from .serializers import (
    AuthResponseSerializer,
    GoogleLoginSerializer,
    LoginSerializer,
    MeSerializer,
    OAuth2PasswordSerializer,
    OAuth2TokenSerializer,
    RefreshResponseSerializer,
    RefreshSerializer,
    RegisterSerializer,
    Seed003LogoutSerializer,
    Seed003RefreshSerializer,
    UserProfileSerializer,
    UserProfileUpdateSerializer,
    UserSerializer,
    UserSettingSerializer,
)

INVALID_CREDENTIALS = "Invalid username or password"
SEED_003_NAMESPACE = "v1"  # solarhub/urls.py mounts the API patterns at /api/v1/ under this namespace


def _seed003_mount(request) -> bool:
    """Whether ``/api/v1/`` (seed 003's mount) resolved the request, not ``/api/`` (seed 001's).

    Both mounts share one set of URL patterns (and so one permission-matrix entry per route);
    the few auth paths whose answers the two seeds define differently ask this: ``auth/login``
    and ``auth/login/json`` answer seed 003's token structure there, ``auth/refresh`` takes and
    answers it, and ``auth/logout`` needs no body (seed 003's client-side discard)."""
    match = getattr(request, "resolver_match", None)
    return match is not None and SEED_003_NAMESPACE in match.namespaces


class _BearerChallenge(BaseAuthentication):
    """Authenticates nobody, but makes credential failures 401 with a Bearer challenge. Sign-in
    endpoints must not validate a stale Authorization header the SPA may still send."""

    def authenticate(self, request):
        return None

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="api"'


class _PublicAuthView(APIView):
    permission_classes = [AllowAny]
    authentication_classes = [_BearerChallenge]
    throttle_classes = [AuthRateThrottle]


def _invalid_credentials() -> exceptions.AuthenticationFailed:
    return exceptions.AuthenticationFailed(INVALID_CREDENTIALS, code="invalid_credentials")


def _auth_body(user, tokens: dict) -> dict:
    return {**tokens, "user": UserSerializer(user).data}


def _password_sign_in(request, *, username: str, password: str, user_type: str | None):
    """Shared by the JSON login, the OAuth2 form login and the token endpoint. ``username`` is
    what was sent as ``username`` or as ``email``: one identifier, so one set of lockout counters
    (``_UsernameOrEmailSerializer``). Every failure — unknown user, wrong password, inactive,
    user type mismatch — looks the same (no enumeration) and counts towards the lockout
    (accounts/throttling.py); these are the only failures that do.

    A wrong ``userType`` counts even with the right password: were it free, the lockout itself
    would be a password oracle (guesses sent with a wrong type that stop adding up to a lockout
    are right), and the answer must not differ from a wrong password's in any way."""
    sign_in_lockout_check(request=request, username=username)
    user = authenticate(request, username=username, password=password)
    if user is None or (user_type and user.user_type != user_type):
        sign_in_failure_record(request=request, username=username)
        raise _invalid_credentials()
    sign_in_success_record(request=request, username=username)
    return user, services.auth_tokens_issue(user=user, request=request)


def _oauth2_response(tokens: dict) -> Response:
    """RFC 6749's token response, which is also seed 003's token structure (``/api/v1/``)."""
    response = Response(
        {
            "access_token": tokens["token"],
            "token_type": "bearer",
            "expires_in": tokens["expires_in"],
            "refresh_token": tokens["refresh"],
        },
        headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
    )
    response.camelize = False  # RFC 6749 field names, verbatim
    return response


class _WeakPassword(exceptions.ValidationError):
    """Django's password validators refused the password: ``errors.password`` lists each failed
    rule's message."""


@extend_schema(tags=["auth"], request=RegisterSerializer, responses={201: AuthResponseSerializer})
class RegisterView(_PublicAuthView):
    """Register a customer or an installer (seed 001). Answers like login, with 201. A password
    that fails Django's validators (length, common, numeric, similar to the e-mail or name) is a
    400 VALIDATION_ERROR whose ``errors.password`` and ``detail`` name every rule it failed."""

    def handle_exception(self, exc):
        response = super().handle_exception(exc)
        if isinstance(exc, _WeakPassword):  # the error format's detail names the first message only
            response.data["detail"] = "password: " + " ".join(str(message) for message in exc.detail["password"])
        return response

    def post(self, request):
        serializer = RegisterSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        try:
            user = services.user_register(
                email=data.pop("email"),
                password=data.pop("password"),
                user_type=data.pop("user_type"),
                name=data.pop("name"),
                **data,
            )
        except services.EmailAlreadyExists:
            raise ApiError("Email already exists", code="email_exists") from None
        except DjangoValidationError as exc:
            raise _WeakPassword({"password": list(exc.messages)}) from None
        tokens = services.auth_tokens_issue(user=user, request=request)
        return Response(_auth_body(user, tokens), status=status.HTTP_201_CREATED)


_LOGIN_RESPONSE = OpenApiResponse(
    PolymorphicProxySerializer(
        component_name="LoginResponse",
        serializers=[AuthResponseSerializer, OAuth2TokenSerializer],
        resource_type_field_name=None,
    ),
    description="JSON body on `/api/`: seed 001's `{token, refresh, expiresIn, user}` (`AuthResponse`). "
    "Form body (OAuth2 password flow), and any body on the `/api/v1/` mount (seed 003's "
    "`/api/v1/auth/login` and `/api/v1/auth/login/json`): `{access_token, token_type, expires_in, "
    "refresh_token}` (`OAuth2Token`; RFC 6749's token response, which is seed 003's token structure, "
    "snake_case as sent).",
)
_LOGIN_SCHEMA = extend_schema(
    tags=["auth"],
    request={"application/json": LoginSerializer, "application/x-www-form-urlencoded": OAuth2PasswordSerializer},
    responses={200: _LOGIN_RESPONSE},
)


@_LOGIN_SCHEMA
class LoginView(_PublicAuthView):
    """Sign in with ``username`` (a username or an e-mail) or ``email`` (seeds 002 and 004), and
    ``password``. One of ``username`` and ``email`` is required; sending both with different
    values is a 400 naming ``email``. ``userType``, when given, must match the account's type. A
    form-encoded body is the OAuth2 password flow. Under ``/api/v1/`` (seed 003) every body
    answers seed 003's token structure ``{access_token, refresh_token, token_type, expires_in}``;
    the user is at ``/api/v1/auth/me``."""

    def post(self, request):
        if request.content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            return _oauth2_token(request)
        serializer = LoginSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user, tokens = _password_sign_in(
            request,
            username=serializer.validated_data["identifier"],
            password=serializer.validated_data["password"],
            user_type=serializer.validated_data.get("user_type"),
        )
        if _seed003_mount(request):
            return _oauth2_response(tokens)
        return Response(_auth_body(user, tokens))


@_LOGIN_SCHEMA
class LoginJsonView(LoginView):
    """Seed 003's JSON login: the same as ``auth/login`` (seed 001's answer under ``/api/``,
    seed 003's token structure under ``/api/v1/``)."""


def _oauth2_token(request) -> Response:
    serializer = OAuth2PasswordSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    _, tokens = _password_sign_in(
        request,
        username=serializer.validated_data["identifier"],
        password=serializer.validated_data["password"],
        user_type=None,
    )
    return _oauth2_response(tokens)


@extend_schema(tags=["auth"], request=OAuth2PasswordSerializer, responses={200: OAuth2TokenSerializer})
class TokenView(_PublicAuthView):
    """OAuth2 password flow token endpoint (Swagger UI's Authorize button): form-encoded
    ``grant_type=password&username=…&password=…`` → RFC 6749 token response."""

    parser_classes = [FormParser, MultiPartParser]

    def post(self, request):
        return _oauth2_token(request)


@extend_schema(
    tags=["auth"],
    request=RefreshSerializer,
    responses={
        200: OpenApiResponse(
            RefreshResponseSerializer,
            description="`{token, refresh, expiresIn}`. Under `/api/v1/` (seed 003) the body may name the token "
            "`refresh_token` (seed 003's login hands it out so) or `refresh`, and the answer is seed 003's token "
            "structure `{access_token, token_type, expires_in, refresh_token}` (`OAuth2Token`).",
        )
    },
)
class RefreshView(_PublicAuthView):
    """Exchange a refresh token for a new pair. The old refresh token is spent (rotation):
    using it again answers 401 — except within ``JWT_REFRESH_REUSE_SECONDS`` of its rotation,
    when it answers the very pair the rotation issued (tabs of one SPA refreshing at once).

    A refused refresh token is not a sign-in failure: it is signed and cannot be guessed, so it
    never counts towards the password lockout; the per-address AuthRateThrottle bounds the rate."""

    def post(self, request):
        seed003 = _seed003_mount(request)
        serializer = (Seed003RefreshSerializer if seed003 else RefreshSerializer)(data=request.data)
        serializer.is_valid(raise_exception=True)
        raw = serializer.validated_data["token" if seed003 else "refresh"]
        try:
            tokens = services.auth_tokens_refresh(raw_refresh=raw)
        except services.RefreshTokenInvalid:
            raise exceptions.AuthenticationFailed(
                "Refresh token is invalid, expired or already used.", code="token_not_valid"
            ) from None
        return _oauth2_response(tokens) if seed003 else Response(tokens)


@extend_schema(
    tags=["auth"],
    request=RefreshSerializer,
    responses={
        204: OpenApiResponse(
            description='Logged out. Under `/api/v1/` (seed 003: "client-side token discard") the body is '
            "optional: without one nothing is revoked (the access token expires on its own); a `refresh_token` "
            "(or `refresh`) sent is revoked as here."
        )
    },
)
class LogoutView(APIView):
    """Log out: the given refresh token is blacklisted and can never be refreshed again. A token
    rotated within ``JWT_REFRESH_REUSE_SECONDS`` (a tab that lost a refresh race) logs out the
    tokens its rotation issued instead. Under ``/api/v1/`` the token is optional (seed 003)."""

    permission_classes = [IsAuthenticated]

    def post(self, request):
        seed003 = _seed003_mount(request)
        serializer = (Seed003LogoutSerializer if seed003 else RefreshSerializer)(data=request.data)
        serializer.is_valid(raise_exception=True)
        raw = serializer.validated_data["token" if seed003 else "refresh"]
        if raw is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        try:
            services.auth_logout(user=request.user, raw_refresh=raw)
        except services.RefreshTokenInvalid:
            raise ApiError("Refresh token is invalid, expired or already used.", code="token_invalid") from None
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=["auth"], request=GoogleLoginSerializer, responses={200: AuthResponseSerializer})
class GoogleLoginView(_PublicAuthView):
    """Sign in with a Google ID token (verified against Google's certificates, audience = our
    client id). Creates the account on first use or links the account with that verified e-mail.

    A refused ID token is not a password guess (it is Google's signature) and does not count
    towards the password lockout; the per-address AuthRateThrottle bounds the rate. Until
    GOOGLE_CLIENT_ID is configured it answers 503 GOOGLE_NOT_CONFIGURED."""

    schema_error_codes = (409, 503)  # a concurrent first sign-in; not configured

    def post(self, request):
        from accounts.google import GoogleSignInError, google_sign_in

        serializer = GoogleLoginSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            user = google_sign_in(
                request=request,
                id_token=serializer.validated_data["token"],
                user_type=serializer.validated_data.get("user_type"),
            )
        except GoogleSignInError as exc:
            if exc.status_code == status.HTTP_401_UNAUTHORIZED:
                raise exceptions.AuthenticationFailed(exc.detail, code=exc.error_code.lower()) from None
            raise ApiError(exc.detail, code=exc.error_code.lower(), status_code=exc.status_code) from None
        tokens = services.auth_tokens_issue(user=user, request=request)
        return Response(_auth_body(user, tokens))


@extend_schema(tags=["auth"], responses={200: MeSerializer})
class MeView(APIView):
    """The signed-in user (seed 003)."""

    def get(self, request):
        return Response(MeSerializer(request.user).data)


@extend_schema(tags=["users"])
class UserProfileView(APIView):
    """Your own profile (seed 001). PUT changes ``name`` and the ``profile`` fields of your user
    type; user type, e-mail and flags cannot be changed here (they are ignored)."""

    @extend_schema(responses={200: UserProfileSerializer})
    def get(self, request):
        return Response(UserProfileSerializer(request.user).data)

    @extend_schema(request=UserProfileUpdateSerializer, responses={200: UserProfileSerializer})
    def put(self, request):
        serializer = UserProfileUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = services.user_update_profile(
            user=request.user,
            name=serializer.validated_data.get("name"),
            profile=serializer.validated_data.get("profile"),
        )
        return Response(UserProfileSerializer(user).data)

    patch = put


@extend_schema(tags=["settings"])
class MySettingsView(APIView):
    """Your UI and notification settings (seed 000), created with defaults on first read."""

    @extend_schema(responses={200: UserSettingSerializer})
    def get(self, request):
        setting = user_setting_get(user=request.user)
        return Response(UserSettingSerializer(setting, context={"request": request}).data)

    @extend_schema(request=UserSettingSerializer, responses={200: UserSettingSerializer})
    def put(self, request):
        setting = user_setting_get(user=request.user)
        serializer = UserSettingSerializer(setting, data=request.data, partial=True, context={"request": request})
        serializer.is_valid(raise_exception=True)
        setting = services.user_setting_update(user=request.user, data=serializer.validated_data)
        return Response(UserSettingSerializer(setting, context={"request": request}).data)

    patch = put


@extend_schema(tags=["settings"], responses={200: UserSettingSerializer})
class UserSettingsView(APIView):
    """Another user's settings (plant_admin only)."""

    permission_classes = [IsPlantAdmin]

    def get(self, request, user_id: int):
        user = get_object_or_404(get_user_model(), pk=user_id)
        return Response(UserSettingSerializer(user_setting_get(user=user), context={"request": request}).data)
