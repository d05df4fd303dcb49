"""Pagination that keeps seed 001's response bodies: lists are plain JSON arrays.

The SPA contract shows ``GET /api/plants`` answering ``[...]``, while architecture.md requires
every list to be paginated. Both hold with header pagination (as GitHub's API does): the body is
the page's array and ``X-Total-Count``, ``X-Page``, ``X-Page-Size`` and an RFC 8288 ``Link``
header carry the rest. ``?pageSize`` above ``API_MAX_PAGE_SIZE`` is a 400, not a silent clamp.
"""

from __future__ import annotations

from django.conf import settings
from django.core.paginator import Paginator
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response

from .exceptions import ApiError
from .params import MAX_ID, InvalidParameter, parse_int

MAX_OFFSET = 10**12 - 1  # ?skip: twelve digits, far beyond any table


class HeaderPageNumberPagination(PageNumberPagination):
    page_query_param = "page"
    page_size_query_param = "page_size"  # the SPA sends ?pageSize; CamelCaseMiddleWare underscores it

    @property
    def max_page_size(self) -> int:
        return settings.API_MAX_PAGE_SIZE

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None or raw == "":
            return self.page_size
        try:
            size = parse_int(raw, self.page_size_query_param, low=1, high=MAX_ID)
        except InvalidParameter:
            raise ApiError("pageSize must be a positive integer.", code="invalid_page_size") from None
        if size > self.max_page_size:
            raise ApiError(f"pageSize may be at most {self.max_page_size}.", code="page_size_too_large")
        return size

    def _offset_param(self, request, name: str, *, minimum: int, maximum: int | None) -> int | None:
        raw = request.query_params.get(name)
        if raw is None or raw == "":
            return None
        try:
            return parse_int(raw, name, low=minimum, high=MAX_OFFSET if maximum is None else maximum)
        except InvalidParameter:
            bound = f"{minimum}..{maximum}" if maximum is not None else f">= {minimum}"
            raise ApiError(f"{name} must be an integer {bound}.", code="invalid_page") from None

    def paginate_queryset(self, queryset, request, view=None):
        """The first page usually holds everything (a customer's few plants): fetch one row
        more than a page and skip the COUNT query when it fits. Other pages count as usual.
        Seed 000's ``?skip=&limit=`` (an offset and a count) work on every list too."""
        skip = self._offset_param(request, "skip", minimum=0, maximum=None)
        limit = self._offset_param(request, "limit", minimum=1, maximum=self.max_page_size)
        if skip is not None or limit is not None:
            if request.query_params.get(self.page_query_param) or request.query_params.get(self.page_size_query_param):
                raise ApiError("Use page/pageSize or skip/limit, not both.", code="invalid_page")
            return self._paginate_offset(queryset, request, skip or 0, limit or self.page_size)
        page_size = self.get_page_size(request)
        if request.query_params.get(self.page_query_param, "1") != "1" or not hasattr(queryset, "query"):
            return super().paginate_queryset(queryset, request, view)
        rows = list(queryset[: page_size + 1])
        if len(rows) > page_size:
            return super().paginate_queryset(queryset, request, view)
        self.request = request
        self.page = Paginator(rows, page_size).page(1)
        return list(self.page)

    def _paginate_offset(self, queryset, request, skip: int, limit: int):
        self.request = request
        total = queryset.count() if hasattr(queryset, "count") and hasattr(queryset, "query") else len(queryset)
        rows = list(queryset[skip : skip + limit])
        self.offset = (skip, limit, total)
        return rows

    @property
    def total(self) -> int:
        offset = getattr(self, "offset", None)
        return offset[2] if offset is not None else self.page.paginator.count

    def get_paginated_response(self, data):
        offset = getattr(self, "offset", None)
        if offset is not None:
            skip, limit, total = offset
            return Response(data, headers={"X-Total-Count": str(total), "X-Skip": str(skip), "X-Limit": str(limit)})
        links = []
        if self.get_next_link():
            links.append(f'<{self.get_next_link()}>; rel="next"')
        if self.get_previous_link():
            links.append(f'<{self.get_previous_link()}>; rel="prev"')
        headers = {
            "X-Total-Count": str(self.page.paginator.count),
            "X-Page": str(self.page.number),
            "X-Page-Size": str(self.page.paginator.per_page),
        }
        if links:
            headers["Link"] = ", ".join(links)
        return Response(data, headers=headers)

    def get_paginated_response_schema(self, schema):
        return schema

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": self.page_query_param,
                "required": False,
                "in": "query",
                "description": "Page number (1-based). Total count is in the X-Total-Count header.",
                "schema": {"type": "integer", "minimum": 1},
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "description": f"Items per page (default {self.page_size}, at most {settings.API_MAX_PAGE_SIZE}).",
                "schema": {"type": "integer", "minimum": 1, "maximum": settings.API_MAX_PAGE_SIZE},
            },
            {
                "name": "skip",
                "required": False,
                "in": "query",
                "description": "Seed 000's offset paging: items to skip (with limit; not with page/pageSize).",
                "schema": {"type": "integer", "minimum": 0},
            },
            {
                "name": "limit",
                "required": False,
                "in": "query",
                "description": f"Seed 000's offset paging: items to return (at most {settings.API_MAX_PAGE_SIZE}).",
                "schema": {"type": "integer", "minimum": 1, "maximum": settings.API_MAX_PAGE_SIZE},
            },
        ]
