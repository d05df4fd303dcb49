"""``X-Api-Key`` authentication for data loggers: a per-plant ingest key."""

from __future__ import annotations

from rest_framework import authentication, exceptions


class IngestKeyPrincipal:
    """Who is calling when a logger authenticates with a plant key (not a person)."""

    is_authenticated = True
    is_active = True
    is_superuser = False
    is_staff = False
    user_type = None

    def __init__(self, key):
        self.key = key
        self.pk = self.id = f"ingest-key:{key.pk}"
        self.plant_id = key.plant_id

    def __str__(self) -> str:
        return f"ingest key {self.key.prefix}"


class IngestKeyAuthentication(authentication.BaseAuthentication):
    header = "HTTP_X_API_KEY"

    def authenticate(self, request):
        from .services import ingest_key_authenticate

        raw = request.META.get(self.header)
        if raw is None:
            return None
        key = ingest_key_authenticate(plaintext=raw)
        if key is None:
            raise exceptions.AuthenticationFailed("Invalid or revoked API key.", code="invalid_api_key")
        return IngestKeyPrincipal(key), key

    def authenticate_header(self, request) -> str:
        return 'ApiKey realm="ingest"'
