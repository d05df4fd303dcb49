"""Views of the reports API (mounted at /api/ and /api/v1/).

Plant scoping: every queryset is restricted to the plants the user sees (``PlantScopedViewSet``,
a subquery), so another plant's report is 404 — its list, detail and files alike. Creating and
deleting reports needs ``operate`` on the plant (owner, installer, engineer, operator), checked
inside the transaction by ``plant_get_for(lock=True)``; seed 000's ``complete`` (an externally produced
report) needs ``change_plant`` (the plant's editors: installer, platform admins). Files are
streamed by ``download`` — never a public media URL.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.decorators import action
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.response import Response
from rest_framework.views import APIView

from plants.access import PlantAction
from plants.selectors import plant_get_for
from reports import services
from reports.choices import CONTENT_TYPES, ReportStatus
from reports.filters import ReportFilter
from reports.kpis import plant_kpis
from reports.models import ReportJob
from reports.selectors import plant_visible_get
from solarhub.api.scoping import PlantScopedViewSet
from telemetry.rollups.buckets import zone

from .serializers import (
    DownloadQuerySerializer,
    KpiQuerySerializer,
    ReportCompleteSerializer,
    ReportCreateSerializer,
    ReportSerializer,
    default_period,
)


class FileFormatNegotiation(DefaultContentNegotiation):
    """``?format=`` names the report file here, not a DRF renderer: errors still render JSON."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


@extend_schema(tags=["reports"])
class ReportViewSet(PlantScopedViewSet):
    """Performance reports of the plants you can see (``?plantId``, ``?status``, ``?reportType``).
    ``POST`` queues a report (or, with ``schedule``, creates a schedule); the job runs on a worker
    and the report's ``status`` goes pending → running → completed/failed."""

    queryset = ReportJob.objects.select_related("job")
    serializer_class = ReportSerializer
    filterset_class = ReportFilter
    ordering_fields = ["created_at", "period_start", "id"]
    lookup_value_regex = r"\d+"
    http_method_names = ["get", "post", "delete", "head", "options"]
    plant_actions = {
        "list": None,
        "retrieve": None,
        "download": None,
        "create": PlantAction.OPERATE,
        "destroy": PlantAction.OPERATE,
        "complete": PlantAction.CHANGE_PLANT,
    }

    @extend_schema(request=ReportCreateSerializer, responses={201: ReportSerializer})
    def create(self, request, *args, **kwargs):
        payload = ReportCreateSerializer(data=request.data, context={"request": request})
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        params = dict(data.get("params") or {})
        with transaction.atomic():
            plant = plant_get_for(
                lock=True, user=request.user, plant_id=data["plant_id"].pk, action=PlantAction.OPERATE
            )
            period = None
            if not data["schedule"]:
                if "start" in params:
                    period = (params["start"], params["end"])
                else:
                    period = default_period(data["report_type"], tz=zone(plant.timezone))
            for key in ("start", "end"):
                if key in params:
                    params[key] = params[key].isoformat()
            report = services.report_create(
                plant=plant,
                by=request.user,
                name=data["name"],
                description=data["description"],
                report_type=data["report_type"],
                params=params,
                period=period,
                schedule=data["schedule"],
            )
        report = ReportJob.objects.select_related("job").get(pk=report.pk)
        return Response(ReportSerializer(report).data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance: ReportJob) -> None:
        with transaction.atomic():
            plant_get_for(lock=True, user=self.request.user, plant_id=instance.plant_id, action=PlantAction.OPERATE)
            services.report_delete(report=instance)

    @extend_schema(request=ReportCompleteSerializer, responses={200: ReportSerializer})
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        """Seed 000's completion step, for a report produced outside SolarHub: sets the status
        completed and its ``artifactUrl``."""
        report = self.get_object()
        payload = ReportCompleteSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        with transaction.atomic():
            plant_get_for(lock=True, user=request.user, plant_id=report.plant_id, action=PlantAction.CHANGE_PLANT)
            services.report_complete(
                report=report, artifact_url=payload.validated_data["artifact_url"],
                summary=payload.validated_data.get("summary"),
            )  # fmt: skip
        return Response(ReportSerializer(ReportJob.objects.select_related("job").get(pk=report.pk)).data)

    @extend_schema(
        parameters=[DownloadQuerySerializer],
        responses={
            (200, "application/pdf"): OpenApiTypes.BINARY,
            (200, CONTENT_TYPES["xlsx"]): OpenApiTypes.BINARY,
            (200, "text/csv"): OpenApiTypes.BINARY,
        },
    )
    @action(detail=True, methods=["get"], content_negotiation_class=FileFormatNegotiation)
    def download(self, request, pk=None):
        """Stream one of the report's files (``?format=pdf|xlsx|csv``, default pdf) to anyone who
        sees the plant. A format the report was not produced in is 404."""
        report = self.get_object()
        query = DownloadQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        fmt = query.validated_data["format"]
        relative = report.artifacts.get(fmt) if report.status == ReportStatus.COMPLETED else None
        path = Path(settings.MEDIA_ROOT) / relative if relative else None
        if path is None or not path.is_file():
            raise exceptions.NotFound(f"This report has no {fmt} file.")
        filename = f"{report.plant.plant_code}-{report.period_start}-{report.period_end}.{fmt}"
        return FileResponse(path.open("rb"), as_attachment=True, filename=filename, content_type=CONTENT_TYPES[fmt])


@extend_schema(tags=["reports"])
class PlantKpiView(APIView):
    """IEC 61724-1 KPIs of the plant per plant-local day or month and in total, from our own
    rollups: energy, export, yields, PR and temperature-corrected PR, capacity factor, peak
    power, time- and energy-based availability (per inverter too), the loss waterfall and the
    data completeness of each KPI (``flagged`` lists those computed from < 90 % data)."""

    @extend_schema(
        parameters=[KpiQuerySerializer],
        responses={200: OpenApiResponse(OpenApiTypes.OBJECT, description="KPIs; see docs/kpis.md.")},
    )
    def get(self, request, plant_id: int):
        plant = plant_visible_get(user=request.user, plant_id=plant_id)
        if plant is None:
            raise exceptions.NotFound("Plant not found.")
        query = KpiQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        return Response(plant_kpis(plant=plant, start=data["start"], end=data["end"], granularity=data["granularity"]))
