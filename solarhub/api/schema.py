"""OpenAPI generation: every operation documents its errors, and the schema is camelCase
except the bodies that are deliberately not (the error body, RFC 6749 token responses)."""

from __future__ import annotations

from drf_spectacular.contrib.djangorestframework_camel_case import camelize_serializer_fields
from drf_spectacular.openapi import AutoSchema
from rest_framework import serializers
from rest_framework.permissions import AllowAny

# Component names whose property names are sent verbatim (snake_case) on the wire.
VERBATIM_COMPONENTS = {"Error", "ValidationErrorResponse", "OAuth2Token"}


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="Human-readable message.")
    status_code = serializers.IntegerField(help_text="The HTTP status, repeated.")
    error_code = serializers.CharField(help_text="Stable UPPER_SNAKE code for the SPA, e.g. NOT_FOUND.")

    class Meta:
        ref_name = "Error"


class ValidationErrorSerializer(ErrorSerializer):
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Messages per request field (camelCase field names).",
    )

    class Meta:
        ref_name = "ValidationErrorResponse"


_DESCRIPTIONS = {
    "400": "Invalid input (error_code VALIDATION_ERROR, PARSE_ERROR, ...).",
    "401": "Missing or invalid credentials (NOT_AUTHENTICATED, TOKEN_INVALID, ...).",
    "403": "Authenticated but not allowed (PERMISSION_DENIED).",
    "404": "Not found, or not visible to you (NOT_FOUND).",
    "413": "Request body too large (PAYLOAD_TOO_LARGE).",
    "415": "Unsupported Content-Type (UNSUPPORTED_MEDIA_TYPE).",
    "429": "Too many requests (THROTTLED); see Retry-After.",
    "500": "Unexpected server error (INTERNAL_ERROR); no details are leaked.",
}


class SolarHubAutoSchema(AutoSchema):
    def _is_public(self) -> bool:
        try:
            permissions = self.view.get_permissions()
        except Exception:  # noqa: BLE001 -- schema generation must not fail on exotic views
            return False
        return bool(permissions) and all(isinstance(p, AllowAny) for p in permissions)

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        codes = []
        has_body = self.method in ("POST", "PUT", "PATCH")
        if has_body or self._get_filter_parameters() or (self.method == "GET" and self._is_list_view()):
            codes.append("400")
        if not self._is_public():
            codes += ["401", "403"]
        if "{" in self.path:
            codes.append("404")
        if has_body:
            codes += ["413", "415"]
        if self.view.get_throttles():
            codes.append("429")
        codes.append("500")
        for code in codes:
            if code in responses:
                continue
            serializer = ValidationErrorSerializer if code == "400" else ErrorSerializer
            response = self._get_response_for_code(serializer, code, direction=direction)
            response["description"] = _DESCRIPTIONS[code]
            responses[code] = response
        return responses


def camelize_except_verbatim(result, generator, request, public):
    """drf-spectacular's camelCase hook, minus the components sent verbatim."""
    components = generator.registry._components
    saved = {
        key: dict(component.schema.get("properties", {}))
        for key, component in components.items()
        if key[1] == "schemas" and key[0] in VERBATIM_COMPONENTS
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
