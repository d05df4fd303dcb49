"""Query parameters of list routes: every one the API documents filters, and every other one is
refused — never silently dropped.

Why this exists: ``CamelCaseMiddleWare`` renames query keys to snake_case before any view sees
them (the SPA's ``?plantId`` arrives as ``plant_id``; seed 000's ``?plant_id`` stays as it is).
FilterSets that declared camelCase names therefore never matched, and django-filter ignores a
parameter it does not know, so ``/api/alarms?plantId=1`` returned every plant's alarms with the
suite green. The rules, in one place:

* FilterSets declare **snake_case** names (what the view receives); the OpenAPI schema shows
  them camelCase (``solarhub.api.schema``), which is what the SPA sends. Both spellings work.
* :class:`StrictFilterBackend` (the default filter backend) answers 400 ``UNKNOWN_PARAMETER``
  naming any query parameter the route does not take: its FilterSet's filters, paging
  (``page``, ``pageSize``, seed 000's ``skip``/``limit``), ``search``/``ordering`` where the
  view has them, and the view's own ``extra_query_params``. A malformed value is django-filter's
  400 ``VALIDATION_ERROR`` naming the filter; ids, integers and times parse as every other
  query parameter does (``solarhub.api.params``).
* Filters apply to lists only. DRF also runs the filter backends inside ``get_object``, which
  made ``/api/plants/{id}/devices?status=offline`` a 404 (the *plant* was filtered by status);
  an object lookup is never filtered here.
"""

from __future__ import annotations

from collections.abc import Iterable

import django_filters
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import exceptions
from rest_framework.filters import OrderingFilter, SearchFilter

from .exceptions import ApiError
from .renderers import camel_key

# Accepted on every paginated list (HeaderPageNumberPagination) and by DRF itself (?format).
PAGING_PARAMS = frozenset({"page", "page_size", "skip", "limit", "format"})


class UnknownParameter(exceptions.ValidationError, ApiError):
    """400 ``UNKNOWN_PARAMETER``, ``errors`` naming each parameter the route does not take."""

    status_code = 400
    default_code = "unknown_parameter"

    def __init__(self, unknown: Iterable[str], allowed: Iterable[str]):
        accepted = ", ".join(sorted(camel_key(name) for name in allowed)) or "none"
        errors = {name: [f"Unknown query parameter; this route takes: {accepted}."] for name in sorted(unknown)}
        exceptions.ValidationError.__init__(self, detail=errors, code="unknown_parameter")
        self.error_code = "UNKNOWN_PARAMETER"


def query_params_check(request, allowed: Iterable[str]) -> None:
    """400 ``UNKNOWN_PARAMETER`` when ``request`` carries a query parameter outside ``allowed``
    (snake_case names, as the middleware delivers them). For APIViews that read their own
    parameters; FilterSet routes get it from :class:`StrictFilterBackend`."""
    allowed = set(allowed) | PAGING_PARAMS
    unknown = set(request.query_params) - allowed
    if unknown:
        raise UnknownParameter(unknown, allowed)


def is_object_lookup(view) -> bool:
    kwarg = getattr(view, "lookup_url_kwarg", None) or getattr(view, "lookup_field", None)
    return bool(kwarg) and kwarg in (getattr(view, "kwargs", None) or {})


def view_query_params(view, request=None) -> set[str]:
    """Every query parameter a list view takes (snake_case)."""
    names = set(PAGING_PARAMS) | set(getattr(view, "extra_query_params", ()))
    filterset_class = getattr(view, "filterset_class", None)
    if filterset_class is not None:
        names |= set(filterset_class.base_filters)
    backends = getattr(view, "filter_backends", ())
    if any(issubclass(b, SearchFilter) for b in backends) and getattr(view, "search_fields", None):
        names.add(SearchFilter.search_param)
    if any(issubclass(b, OrderingFilter) for b in backends) and getattr(view, "ordering_fields", None):
        names.add(OrderingFilter.ordering_param)
    return names


class StrictFilterBackend(DjangoFilterBackend):
    """django-filter for lists, refusing unknown parameters; object lookups are not filtered."""

    def filter_queryset(self, request, queryset, view):
        if is_object_lookup(view):
            return queryset
        query_params_check(request, view_query_params(view, request))
        return super().filter_queryset(request, queryset, view)


def filter_list(request, queryset, *, filterset_class, search_fields=(), ordering_fields=(), extra=()):
    """The list filtering of a viewset, for a custom action listing another model (the plant's
    devices): the same FilterSet, search and ordering, and the same strictness."""

    class _View:
        pass

    view = _View()
    view.filterset_class = filterset_class
    view.search_fields = list(search_fields)
    view.ordering_fields = list(ordering_fields)
    view.extra_query_params = tuple(extra)
    view.filter_backends = [StrictFilterBackend, SearchFilter, OrderingFilter]
    view.kwargs = {}
    for backend in view.filter_backends:
        queryset = backend().filter_queryset(request, queryset, view)
    return queryset


def filterset_schema_parameters(filterset_class, *, search: bool = False, ordering: bool = False) -> list:
    """OpenAPI query parameters of ``filterset_class`` for a custom action (drf-spectacular only
    documents filters on list actions); names are camelized by the schema hook like the rest."""
    from drf_spectacular.utils import OpenApiParameter

    parameters = []
    for name, flt in filterset_class.base_filters.items():
        choices = getattr(flt, "extra", {}).get("choices")
        kind = int if isinstance(flt, django_filters.NumberFilter) else bool if "Boolean" in type(flt).__name__ else str
        parameters.append(
            OpenApiParameter(
                name,
                kind,
                enum=[value for value, _ in choices] if choices and not callable(choices) else None,
                description=flt.extra.get("help_text") or "",
            )
        )
    if search:
        parameters.append(OpenApiParameter(SearchFilter.search_param, str, description="A search term."))
    if ordering:
        parameters.append(OpenApiParameter(OrderingFilter.ordering_param, str, description="Field to order by."))
    return parameters
