"""One error body everywhere: ``{"detail", "status_code", "error_code"}`` (+ ``"errors"``).

``error_body`` builds it; the Django-level handlers below answer errors raised outside DRF
(unknown URLs, DisallowedHost, crashes in non-API views) in the same JSON shape.
"""

from __future__ import annotations

import logging

from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt

logger = logging.getLogger("solarhub.api")

NOT_FOUND_URL_NAME = "solarhub-not-found"


def error_body(*, detail: str, status_code: int, error_code: str, errors: dict | None = None) -> dict:
    body: dict = {"detail": detail, "status_code": status_code, "error_code": error_code}
    if errors is not None:
        body["errors"] = errors
    return body


def json_error(*, detail: str, status_code: int, error_code: str) -> JsonResponse:
    return JsonResponse(error_body(detail=detail, status_code=status_code, error_code=error_code), status=status_code)


@csrf_exempt  # an unknown URL is a 404 for every method, not Django's HTML CSRF page for a POST
def not_found_view(request, *args, **kwargs):
    """Catch-all route (last in urls.py): unknown URLs answer JSON 404 even with DEBUG on."""
    return json_error(detail="Not found.", status_code=404, error_code="NOT_FOUND")


def csrf_failure(request, reason: str = ""):
    """CSRF_FAILURE_VIEW: the API answers JSON (its views are CSRF-exempt; only session-cookie
    requests to non-API views get here); the admin and allauth pages keep Django's page."""
    if request.path.startswith("/api/"):
        return json_error(detail=f"CSRF verification failed: {reason}", status_code=403, error_code="CSRF_FAILED")
    from django.views.csrf import csrf_failure as django_csrf_failure

    return django_csrf_failure(request, reason=reason)


def bad_request(request, exception=None):
    return json_error(detail="Bad request.", status_code=400, error_code="BAD_REQUEST")


def permission_denied(request, exception=None):
    return json_error(
        detail="You do not have permission to perform this action.", status_code=403, error_code="PERMISSION_DENIED"
    )


def page_not_found(request, exception=None):
    return not_found_view(request)


def server_error(request):
    return json_error(detail="Internal server error.", status_code=500, error_code="INTERNAL_ERROR")
