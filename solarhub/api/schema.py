"""OpenAPI generation: every operation documents its errors, and the schema is camelCase
except the bodies that are deliberately not (the error body, RFC 6749 token responses)."""

from __future__ import annotations

import re

from drf_spectacular.contrib.djangorestframework_camel_case import camelize_serializer_fields
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.permissions import AllowAny

# Component names whose property names are sent verbatim (snake_case) on the wire.
VERBATIM_COMPONENTS = {"Error", "OAuth2Token", "IngestNothingStored"}
# ... and those whose name starts so: seed 003's site views (storage app), sent in its snake_case.
VERBATIM_PREFIXES = ("Seed003",)


@extend_schema_field(
    {
        "type": "object",
        "additionalProperties": {
            "anyOf": [{"type": "array", "items": {"type": "string"}}, {"type": "object"}],
        },
    }
)
class _FieldErrorsField(serializers.DictField):
    """Messages per request field: a list of strings, or for a nested object or list the same
    shape again (``{"coordinates": {"lat": [...]}}``, ``{"2": [...]}`` for the third item)."""


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="Human-readable message.")
    status_code = serializers.IntegerField(help_text="The HTTP status, repeated.")
    error_code = serializers.CharField(help_text="Stable UPPER_SNAKE code for the SPA, e.g. NOT_FOUND.")
    errors = _FieldErrorsField(
        required=False,
        help_text="Validation errors only: messages per request field (camelCase field names).",
    )

    class Meta:
        ref_name = "Error"


_DESCRIPTIONS = {
    "400": "Invalid input (error_code VALIDATION_ERROR, PARSE_ERROR, UNKNOWN_PARAMETER, ...); `errors` per field.",
    "401": "Missing, invalid or expired credentials (NOT_AUTHENTICATED, TOKEN_INVALID, INVALID_CREDENTIALS, ...).",
    "403": "Authenticated but not allowed (PERMISSION_DENIED).",
    "404": "Not found, or not visible to you (NOT_FOUND): a foreign id answers as a missing one.",
    "409": "Conflicts with the current state (e.g. ALARM_CLOSED, TOO_MANY_INVITATIONS).",
    "410": "Gone (e.g. INVITATION_EXPIRED).",
    "413": "Request body too large (PAYLOAD_TOO_LARGE).",
    "415": "Unsupported Content-Type (UNSUPPORTED_MEDIA_TYPE).",
    "429": "Too many requests (THROTTLED); see Retry-After.",
    "500": "Unexpected server error (INTERNAL_ERROR); no details are leaked.",
    "503": "Not available on this installation (e.g. GOOGLE_NOT_CONFIGURED until Google sign-in is configured).",
}
_ID_PARAMETER = re.compile(r"(^|_)(id|plant|device)$|Id$")


class SolarHubAutoSchema(AutoSchema):
    """Every operation lists the error statuses it can answer, each with the one error body.

    Derived from the operation itself: 400 when it takes a body or any query parameter (an
    unknown or malformed one is refused), 401 always (a bad token is refused before any view,
    sign-ins refuse bad credentials), 403 unless public, 404 when it takes an id (in the path or
    the query), 413/415 with a body, 429 when throttled, 500; plus a view's own
    ``schema_error_codes`` (409, 410, 503, ...)."""

    def _is_public(self) -> bool:
        try:
            permissions = self.view.get_permissions()
        except Exception:  # noqa: BLE001 -- schema generation must not fail on exotic views
            return False
        return bool(permissions) and all(isinstance(p, AllowAny) for p in permissions)

    def get_operation(self, *args, **kwargs):
        operation = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        parameters = operation.get("parameters", [])
        query = [p["name"] for p in parameters if p.get("in") == "query"]
        has_body = self.method in ("POST", "PUT", "PATCH")
        codes = []
        if has_body or query or (self.method == "GET" and self._is_list_view()):
            codes.append("400")
        codes.append("401")
        if not self._is_public():
            codes.append("403")
        if "{" in self.path or any(_ID_PARAMETER.search(name) for name in query):
            codes.append("404")
        codes += [str(code) for code in getattr(self.view, "schema_error_codes", ())]
        if has_body:
            codes += ["413", "415"]
        if self.view.get_throttles():
            codes.append("429")
        codes.append("500")
        responses = operation.setdefault("responses", {})
        for code in codes:
            if code in responses:
                continue
            response = self._get_response_for_code(ErrorSerializer, code, direction="response")
            response["description"] = _DESCRIPTIONS[code]
            responses[code] = response
        operation["responses"] = dict(sorted(responses.items()))
        return operation


def camelize_except_verbatim(result, generator, request, public):
    """drf-spectacular's camelCase hook, minus the components sent verbatim."""
    components = generator.registry._components
    saved = {
        key: dict(component.schema.get("properties", {}))
        for key, component in components.items()
        if key[1] == "schemas" and (key[0] in VERBATIM_COMPONENTS or key[0].startswith(VERBATIM_PREFIXES))
    }
    saved_required = {key: list(components[key].schema.get("required", [])) for key in saved}
    path_params = [
        (parameter, parameter["name"])
        for operations in result["paths"].values()
        for operation in operations.values()
        for parameter in operation.get("parameters", [])
        if parameter.get("in") == "path"
    ]
    result = camelize_serializer_fields(result, generator, request, public)
    for parameter, name in path_params:  # path parameters must match the {name} in the path
        parameter["name"] = name
    for key, properties in saved.items():
        components[key].schema["properties"] = properties
        if saved_required[key]:
            components[key].schema["required"] = saved_required[key]
    return result


def document_canonical_mount_only(endpoints):
    """``/api/v1/`` mirrors ``/api/`` exactly; documenting both would duplicate every
    operationId. The schema describes ``/api/`` and says so in its description."""
    return [endpoint for endpoint in endpoints if not endpoint[0].startswith("/api/v1/")]
