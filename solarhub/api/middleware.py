"""Optional trailing slash without redirects.

Seeds write paths without a trailing slash (``/api/auth/login``); clients often add one. A
redirect would turn a POST into a GET in many clients, so instead the request's ``path_info`` is
rewritten before URL resolution when only the other spelling resolves. Works for every method.
"""

from __future__ import annotations

from functools import lru_cache

from django.conf import settings
from django.urls import Resolver404, get_resolver

from .errors import NOT_FOUND_URL_NAME, json_error


@lru_cache(maxsize=8192)
def _resolves(urlconf: str | None, path: str) -> bool:
    try:
        match = get_resolver(urlconf).resolve(path)
    except Resolver404:
        return False
    return match.url_name != NOT_FOUND_URL_NAME


class OptionalTrailingSlashMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path_info
        if len(path) > 1:
            urlconf = getattr(request, "urlconf", None) or settings.ROOT_URLCONF
            if not _resolves(urlconf, path):
                alternative = path[:-1] if path.endswith("/") else path + "/"
                if _resolves(urlconf, alternative):
                    request.path_info = alternative
                    request.path = request.META.get("SCRIPT_NAME", "").rstrip("/") + alternative
        return self.get_response(request)


class RequestBodyLimitMiddleware:
    """413 for bodies over the limit, before anything reads them.

    Django enforces ``DATA_UPLOAD_MAX_MEMORY_SIZE`` only when ``request.body`` is read, but DRF's
    parsers read the stream directly, so without this a 1 GB JSON body would be parsed in full.
    A view may raise or lower its own limit with a ``max_body_bytes`` class attribute (ingest).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return json_error(detail="Invalid Content-Length header.", status_code=400, error_code="BAD_REQUEST")
        view_class = getattr(view_func, "cls", None) or getattr(view_func, "view_class", None)
        limit = getattr(view_class, "max_body_bytes", None) or settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if length > limit:
            return json_error(
                detail=f"Request body is {length} bytes; the limit here is {limit} bytes.",
                status_code=413,
                error_code="PAYLOAD_TOO_LARGE",
            )
        return None
