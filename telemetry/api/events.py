"""``GET /api/devices/{id}/events``: a device's events (seed 004's ``device_events``), newest
first, header-paginated like every other list (``X-Total-Count``, ``Link``). An invisible
device is 404 (the plant scope filters the lookup itself)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions
from rest_framework.request import Request

from solarhub.api.pagination import HeaderPageNumberPagination
from solarhub.api.params import list_param, time_param
from solarhub.api.scoping import PlantScopedAPIView
from telemetry.choices import EventSeverity
from telemetry.models import DeviceEvent

from .serializers import DeviceEventSerializer


@extend_schema(
    tags=["telemetry"],
    parameters=[
        OpenApiParameter("since", str, description="Events at or after this time (ISO 8601)."),
        OpenApiParameter("until", str, description="Events before this time (ISO 8601)."),
        OpenApiParameter("severity", str, description="info, minor, major or critical; comma list allowed."),
        OpenApiParameter("page", int),
        OpenApiParameter("pageSize", int),
    ],
    responses=DeviceEventSerializer(many=True),
)
class DeviceEventListView(PlantScopedAPIView):
    """The device's events, newest first; ``since``/``until`` bound the time, ``severity``
    filters. Three queries: the device lookup (scoped, in ``initial``), the page, and the count beyond page 1."""

    def get(self, request: Request, device_id: int):
        params = request.query_params
        queryset = DeviceEvent.objects.filter(device_id=device_id)
        since, until = time_param(params, "since"), time_param(params, "until")
        if since is not None and until is not None and since >= until:
            raise exceptions.ValidationError({"since": ["since must be before until."]})
        if since is not None:
            queryset = queryset.filter(ts__gte=since)
        if until is not None:
            queryset = queryset.filter(ts__lt=until)
        severities = list_param(params, "severity", choices=EventSeverity.values, max_length=100, lower=True)
        if severities is not None:
            queryset = queryset.filter(severity__in=severities)
        paginator = HeaderPageNumberPagination()
        page = paginator.paginate_queryset(queryset.order_by("-ts", "-id"), request, view=self)
        return paginator.get_paginated_response(DeviceEventSerializer(page, many=True).data)
