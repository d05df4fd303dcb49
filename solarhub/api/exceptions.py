"""DRF exception handler: every API error, expected or not, in the seed-001 error shape.

``error_code`` comes from the exception's DRF code (``not_authenticated`` → ``NOT_AUTHENTICATED``)
unless mapped below. Unhandled exceptions are logged with their traceback and answered 500
without one. Raise :class:`ApiError` (or a subclass) for domain errors with their own code.
"""

from __future__ import annotations

import logging

from django.core.exceptions import NON_FIELD_ERRORS, RequestDataTooBig
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import set_rollback

from plants.exceptions import PlantNotFound, PlantPermissionDenied

from .errors import error_body
from .renderers import camel_key

logger = logging.getLogger("solarhub.api")

# DRF codes renamed for the SPA (seed 001 shows VALIDATION_ERROR for 400s).
_CODE_OVERRIDES = {
    "invalid": "VALIDATION_ERROR",
    "token_not_valid": "TOKEN_INVALID",
    "error": "ERROR",
}


class ApiError(exceptions.APIException):
    """A domain error with a status and a stable ``error_code``."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = "Bad request."
    default_code = "bad_request"

    def __init__(self, detail: str | None = None, *, code: str | None = None, status_code: int | None = None):
        super().__init__(detail=detail, code=code)
        if status_code is not None:
            self.status_code = status_code
        self.error_code = (code or self.default_code).upper()


class PayloadTooLarge(ApiError):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "Request body too large."
    default_code = "payload_too_large"


class ServiceUnavailable(ApiError):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "Service temporarily unavailable, retry later."
    default_code = "service_unavailable"


def _first_message(errors) -> str | None:
    if isinstance(errors, dict):
        for key, value in errors.items():
            message = _first_message(value)
            if message:
                return message if key in ("non_field_errors", "detail") else f"{camel_key(str(key))}: {message}"
    elif isinstance(errors, list):
        for item in errors:
            message = _first_message(item)
            if message:
                return message
    elif errors:
        return str(errors)
    return None


def _name_unique_violations(exc: DjangoValidationError) -> DjangoValidationError:
    """Model validation reports a violated unique-together constraint under ``__all__`` (which
    camelizes to ``_All__``). Name the field instead: the last one of the constraint, by the
    convention that the scoping key comes first (``(plant, serial_number)`` → ``serial_number``).
    Other non-field errors go under DRF's ``non_field_errors``."""
    if not hasattr(exc, "error_dict") or NON_FIELD_ERRORS not in exc.error_dict:
        return exc
    errors = {key: list(value) for key, value in exc.error_dict.items() if key != NON_FIELD_ERRORS}
    for error in exc.error_dict[NON_FIELD_ERRORS]:
        fields = (error.params or {}).get("unique_check") if error.code == "unique_together" else None
        key = fields[-1] if fields else "non_field_errors"
        errors.setdefault(key, []).append(error)
    return DjangoValidationError(errors)


def _code_of(exc: exceptions.APIException) -> str:
    explicit = getattr(exc, "error_code", None)
    if explicit:
        return explicit
    codes = exc.get_codes()
    code = codes if isinstance(codes, str) else exc.default_code
    if (
        not isinstance(exc, exceptions.ValidationError)
        and isinstance(codes, dict)
        and isinstance(codes.get("code"), str)
    ):  # simplejwt nests its code
        code = codes["code"]
    return _CODE_OVERRIDES.get(code, str(code).upper())


def exception_handler(exc, context):
    # The plant-scoping domain errors (plants.exceptions), answered here and nowhere else:
    # invisible or missing → 404, visible but not allowed → 403.
    if isinstance(exc, PlantNotFound):
        exc = exceptions.NotFound(exc.message)
    elif isinstance(exc, PlantPermissionDenied):
        exc = exceptions.PermissionDenied(exc.message)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, RequestDataTooBig):
        exc = PayloadTooLarge()
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(as_serializer_error(_name_unique_violations(exc)))
    elif isinstance(exc, OperationalError | InterfaceError):
        # The database is unreachable or restarting: a retryable 503, not a 500. Whatever the
        # request was doing rolled back, so a client that retries loses nothing.
        logger.warning("Database unavailable during %s: %s", context.get("view").__class__.__name__, exc)
        exc = ServiceUnavailable("The database is temporarily unavailable; retry shortly.", code="database_unavailable")
        exc.wait = 5

    if not isinstance(exc, exceptions.APIException):
        view = context.get("view")
        logger.exception("Unhandled exception in %s", type(view).__name__ if view else "API view", exc_info=exc)
        set_rollback()
        return Response(
            error_body(detail="Internal server error.", status_code=500, error_code="INTERNAL_ERROR"),
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )

    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(exc.wait))

    if isinstance(exc, exceptions.ValidationError):
        errors = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        detail = _first_message(errors) or "Invalid input."
        body = error_body(detail=detail, status_code=exc.status_code, error_code=_code_of(exc), errors=errors)
    else:
        detail = exc.detail
        if isinstance(detail, dict):  # simplejwt: {"detail": ..., "code": ..., "messages": [...]}
            detail = detail.get("detail") or _first_message(detail)
        elif isinstance(detail, list):
            detail = _first_message(detail)
        body = error_body(detail=str(detail), status_code=exc.status_code, error_code=_code_of(exc))

    set_rollback()
    return Response(body, status=exc.status_code, headers=headers)
