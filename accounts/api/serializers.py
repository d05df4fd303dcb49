"""Serializers of the accounts API. Shapes follow seed 001 (SPA) and seed 003 (auth/me)."""

from __future__ import annotations

import re

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import URLValidator
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.choices import REGISTRABLE_USER_TYPES, AlarmSeverity, NotificationChannel, Theme, UserType
from accounts.models import UserSetting
from accounts.services import PROFILE_FIELDS
from solarhub.api.scoping import VisiblePlantField

User = get_user_model()


class ProfileSerializer(serializers.Serializer):
    """Only the fields of the user's own type appear (seed 001)."""

    installation_id = serializers.CharField(required=False, allow_blank=True, max_length=64)
    address = serializers.CharField(required=False, allow_blank=True, max_length=255)
    company_name = serializers.CharField(required=False, allow_blank=True, max_length=150)
    license_number = serializers.CharField(required=False, allow_blank=True, max_length=64)
    phone_number = serializers.CharField(required=False, allow_blank=True, max_length=32)


def profile_of(user) -> dict:
    return {field: getattr(user, field) for field in PROFILE_FIELDS.get(user.user_type, ())}


class UserSerializer(serializers.ModelSerializer):
    """The user as seed 001 shows it inside auth responses."""

    user_type = serializers.CharField(read_only=True)
    profile = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = ["id", "username", "name", "email", "user_type", "profile"]
        read_only_fields = fields

    @extend_schema_field(ProfileSerializer)
    def get_profile(self, user) -> dict:
        return profile_of(user)


class UserProfileSerializer(UserSerializer):
    """``GET/PUT users/profile``: the user plus ``createdAt`` and ``lastLogin``."""

    created_at = serializers.DateTimeField(source="date_joined", read_only=True)

    class Meta(UserSerializer.Meta):
        fields = [*UserSerializer.Meta.fields, "created_at", "last_login"]
        read_only_fields = fields


class UserProfileUpdateSerializer(serializers.Serializer):
    """What a user may change about themselves. Anything else in the body is ignored."""

    name = serializers.CharField(required=False, max_length=150)
    profile = ProfileSerializer(required=False)


class AuthResponseSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="JWT access token: send as `Authorization: Bearer <token>`.")
    refresh = serializers.CharField(help_text="Refresh token for `auth/refresh` (single use: rotated).")
    expires_in = serializers.IntegerField(help_text="Access token lifetime in seconds.")
    user = UserSerializer()


class RegisterSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=150)
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(write_only=True, max_length=128, style={"input_type": "password"})
    user_type = serializers.ChoiceField(choices=REGISTRABLE_USER_TYPES)
    installation_id = serializers.CharField(required=False, allow_blank=True, max_length=64)
    address = serializers.CharField(required=False, allow_blank=True, max_length=255)
    company_name = serializers.CharField(required=False, allow_blank=True, max_length=150)
    license_number = serializers.CharField(required=False, allow_blank=True, max_length=64)
    phone_number = serializers.CharField(required=False, allow_blank=True, max_length=32)


LOGIN_IDENTIFIER_MISSING = "Send username or email."
LOGIN_IDENTIFIER_CONFLICT = "Contradicts username: send one of them, or the same value in both."


class _UsernameOrEmailSerializer(serializers.Serializer):
    """Sign in with ``username`` (a username or an e-mail address; seeds 001 and 003) or ``email``
    (seeds 002 and 004): one of them is required, and both sent must be the same."""

    # ``email`` is the very same identifier as an e-mail typed into ``username`` (sign-in and
    # lockout counters alike): ``validated_data["identifier"]`` is whichever was sent. Whether a
    # username and an e-mail sent together belong to one account is never looked up: the answer
    # would tell a caller which ones do. So they must agree as strings (case and spaces aside).

    username = serializers.CharField(
        max_length=254, required=False, allow_blank=True, help_text="Username or e-mail address."
    )
    email = serializers.EmailField(
        max_length=254, required=False, allow_blank=True, help_text="E-mail address: instead of `username`."
    )

    def validate(self, attrs):
        username, email = attrs.get("username") or "", attrs.get("email") or ""
        if not username and not email:
            raise serializers.ValidationError(
                {"username": [LOGIN_IDENTIFIER_MISSING], "email": [LOGIN_IDENTIFIER_MISSING]}, code="required"
            )
        if username and email and username.strip().lower() != email.strip().lower():
            raise serializers.ValidationError({"email": [LOGIN_IDENTIFIER_CONFLICT]}, code="invalid")
        attrs["identifier"] = username or email
        return attrs


class LoginSerializer(_UsernameOrEmailSerializer):
    password = serializers.CharField(max_length=128, style={"input_type": "password"})
    user_type = serializers.ChoiceField(choices=UserType.choices, required=False)


class OAuth2PasswordSerializer(_UsernameOrEmailSerializer):
    """RFC 6749 section 4.3 resource-owner password request (form encoded); ``email`` is
    accepted instead of ``username`` as in the JSON login."""

    grant_type = serializers.ChoiceField(choices=["password"], required=False)
    password = serializers.CharField(max_length=128)
    scope = serializers.CharField(required=False, allow_blank=True)


class OAuth2TokenSerializer(serializers.Serializer):
    access_token = serializers.CharField()
    token_type = serializers.CharField()
    expires_in = serializers.IntegerField()
    refresh_token = serializers.CharField()

    class Meta:
        ref_name = "OAuth2Token"


class RefreshSerializer(serializers.Serializer):
    refresh = serializers.CharField(max_length=4096)


class Seed003RefreshSerializer(serializers.Serializer):
    """``/api/v1/auth/refresh``: seed 003's login hands out ``refresh_token``, so that name is
    accepted beside ours (``refresh``)."""

    token_required = True

    refresh_token = serializers.CharField(max_length=4096, required=False)
    refresh = serializers.CharField(max_length=4096, required=False)

    def validate(self, attrs):
        token, ours = attrs.get("refresh_token"), attrs.get("refresh")
        if token and ours and token != ours:
            raise serializers.ValidationError({"refresh": ["Contradicts refresh_token: send one of them."]})
        if self.token_required and not (token or ours):
            raise serializers.ValidationError({"refresh_token": ["This field is required."]})
        attrs["token"] = token or ours
        return attrs


class Seed003LogoutSerializer(Seed003RefreshSerializer):
    """``/api/v1/auth/logout``: seed 003's logout is a client-side discard, with no body; a
    refresh token sent all the same is revoked."""

    token_required = False


class RefreshResponseSerializer(serializers.Serializer):
    token = serializers.CharField()
    refresh = serializers.CharField()
    expires_in = serializers.IntegerField()


class GoogleLoginSerializer(serializers.Serializer):
    token = serializers.CharField(max_length=8192, help_text="A Google ID token (JWT) from Google Identity Services.")
    user_type = serializers.ChoiceField(choices=REGISTRABLE_USER_TYPES, required=False)


class RoleSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    description = serializers.CharField()


_ROLES = {
    UserType.CUSTOMER: (1, "customer", "Plant owner: sees the plants they own"),
    UserType.INSTALLER: (2, "installer", "Installer: creates and manages the plants they install"),
    UserType.PLANT_ADMIN: (3, "plant_admin", "Platform administrator: every plant"),
}


class MeSerializer(UserSerializer):
    """Seed 003's ``auth/me`` (``active``, ``confirmedAt``, ``roles``) plus the SPA fields."""

    active = serializers.BooleanField(source="is_active", read_only=True)
    confirmed_at = serializers.SerializerMethodField()
    roles = serializers.SerializerMethodField()
    is_staff = serializers.BooleanField(read_only=True)

    class Meta(UserSerializer.Meta):
        fields = [
            *UserSerializer.Meta.fields,
            "active",
            "confirmed_at",
            "roles",
            "is_staff",
            "date_joined",
            "last_login",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_confirmed_at(self, user):
        from allauth.account.models import EmailAddress

        verified = EmailAddress.objects.filter(user=user, verified=True).exists()
        return serializers.DateTimeField().to_representation(user.date_joined) if verified else None

    @extend_schema_field(RoleSerializer(many=True))
    def get_roles(self, user) -> list[dict]:
        role_id, name, description = _ROLES[user.user_type]
        return [{"id": role_id, "name": name, "description": description}]


_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class QuietHoursSerializer(serializers.Serializer):
    enabled = serializers.BooleanField()
    start = serializers.RegexField(_HHMM, help_text="HH:MM, plant-local")
    end = serializers.RegexField(_HHMM, help_text="HH:MM, plant-local")


class ChannelsSerializer(serializers.Serializer):
    email = serializers.BooleanField(required=False)
    webhook = serializers.BooleanField(required=False)


@extend_schema_field({"type": "string", "maxLength": 500, "anyOf": [{"format": "uri"}, {"maxLength": 0}]})
class _URLOrBlankField(serializers.CharField):
    """A URL, or ``""`` for none (the schema says both; a URLField's schema would say only
    ``format: uri``, which ``""`` is not). Validated as a URL in ``validate_webhook_url``."""


class NotificationsSerializer(serializers.Serializer):
    channels = ChannelsSerializer(required=False)
    webhook_url = _URLOrBlankField(required=False, allow_blank=True, max_length=500)
    min_severity = serializers.ChoiceField(choices=AlarmSeverity.choices, required=False)
    quiet_hours = QuietHoursSerializer(required=False)
    reports = serializers.BooleanField(
        required=False, help_text="E-mail me the reports of my plants when they are produced."
    )

    def validate_webhook_url(self, value: str) -> str:
        if value and not value.startswith("https://"):
            raise serializers.ValidationError("Webhook URLs must use https://.")
        if value:
            try:
                URLValidator(schemes=["https"])(value)
            except DjangoValidationError:
                raise serializers.ValidationError("Enter a valid URL.") from None
        return value


class UserSettingSerializer(serializers.ModelSerializer):
    user_id = serializers.IntegerField(read_only=True)
    # only the caller's plants exist here: a foreign id answers as a missing one ("Unknown plant.")
    default_plant_id = VisiblePlantField(source="default_plant", allow_null=True, required=False)
    theme = serializers.ChoiceField(choices=Theme.choices, required=False)
    notifications = NotificationsSerializer(required=False)
    preferences = serializers.DictField(required=False)

    class Meta:
        model = UserSetting
        fields = [
            "id",
            "user_id",
            "default_plant_id",
            "theme",
            "notifications",
            "preferences",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "user_id", "created_at", "updated_at"]

    def validate_notifications(self, value: dict) -> dict:
        channels = value.get("channels")
        if channels is not None:
            value["channels"] = {
                **(self.instance.notifications.get("channels", {}) if self.instance else {}),
                **channels,
            }
        return value

    def validate_preferences(self, value: dict) -> dict:
        import json

        if len(json.dumps(value)) > 16_384:
            raise serializers.ValidationError("Preferences may hold at most 16 KB.")
        return value


__all__ = [
    "AuthResponseSerializer",
    "ChannelsSerializer",
    "GoogleLoginSerializer",
    "LoginSerializer",
    "MeSerializer",
    "NotificationChannel",
    "OAuth2PasswordSerializer",
    "OAuth2TokenSerializer",
    "RefreshResponseSerializer",
    "RefreshSerializer",
    "RegisterSerializer",
    "Seed003LogoutSerializer",
    "Seed003RefreshSerializer",
    "UserProfileSerializer",
    "UserProfileUpdateSerializer",
    "UserSerializer",
    "UserSettingSerializer",
]
