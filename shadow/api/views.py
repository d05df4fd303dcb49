"""Views of the shadow-analysis API (mounted at /api/ and /api/v1/).

Plant scoping: every queryset is restricted to the plants the user sees (``PlantScopedViewSet``,
a subquery), so another plant's run is 404 — its detail, panels and files alike. Requesting and
cancelling a run needs ``operate`` on the plant (owner, installer, engineer, operator), checked
inside the transaction by ``plant_get_for(lock=True)``; seed 000's ``complete`` (an externally
computed run) needs ``change_plant`` (the plant's editors). Files are streamed, never public.
"""

from __future__ import annotations

from django.db import transaction
from django.http import FileResponse, HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.decorators import action
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.response import Response

from plants.access import PlantAction
from plants.selectors import plant_get_for
from shadow import selectors, services
from shadow.choices import ShadowArtifact
from shadow.filters import ShadowRunFilter
from shadow.models import ShadowRun
from solarhub.api.filters import query_params_check
from solarhub.api.schema import ErrorSerializer
from solarhub.api.scoping import PlantScopedViewSet

from .serializers import (
    ShadowPanelSerializer,
    ShadowRunAcceptedSerializer,
    ShadowRunCompleteSerializer,
    ShadowRunCreateSerializer,
    ShadowRunSerializer,
)


class FileNegotiation(DefaultContentNegotiation):
    """The file routes answer their own content type; errors still render JSON."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


_FILES = {
    ShadowArtifact.HEATMAP: ("image/png", "heatmap.png"),
    ShadowArtifact.MATRIX: ("image/png", "matrix.png"),
    ShadowArtifact.CSV: ("text/csv; charset=utf-8", "result.csv"),
}


@extend_schema(tags=["shadow-analysis"])
class ShadowRunViewSet(PlantScopedViewSet):
    """Shadow analyses of the plants you can see (``?plantId``, ``?status``). ``POST`` queues a
    run on the plant's digital twin; it executes on a worker (``progress`` 0-100) and its
    ``status`` goes queued → running → completed/failed (or cancelled)."""

    queryset = ShadowRun.objects.select_related("job", "plant")
    serializer_class = ShadowRunSerializer
    filterset_class = ShadowRunFilter
    ordering_fields = ["created_at", "completed_at", "id"]
    lookup_value_regex = r"\d+"
    http_method_names = ["get", "post", "head", "options"]
    plant_actions = {
        "list": None,
        "retrieve": None,
        "panels": None,
        "heatmap": None,
        "matrix": None,
        "result_csv": None,
        "twin_glb": None,
        "create": PlantAction.OPERATE,
        "cancel": PlantAction.OPERATE,
        "complete": PlantAction.CHANGE_PLANT,
    }

    @extend_schema(
        request=ShadowRunCreateSerializer,
        responses={202: ShadowRunAcceptedSerializer, 400: OpenApiResponse(ErrorSerializer)},
    )
    def create(self, request, *args, **kwargs):
        """Queue a shadow analysis of the plant's twin (``operate`` on the plant). A plant without a
        twin is 400 ``NO_DIGITAL_TWIN`` saying how to generate one."""
        payload = ShadowRunCreateSerializer(data=request.data, context={"request": request})
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        run = services.shadow_run_request(
            by=request.user, plant_id=data["plant_id"].pk, twin_id=data.get("twin_id"), parameters=data["parameters"]
        )
        body = {"id": run.pk, "status": run.status, "status_url": f"/api/shadow-analysis/{run.pk}"}
        return Response(body, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses={200: ShadowRunSerializer, 409: OpenApiResponse(ErrorSerializer)})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Cancel a queued or running run (``operate``); a finished one is 409."""
        run = self.get_object()
        with transaction.atomic():
            plant_get_for(lock=True, user=request.user, plant_id=run.plant_id, action=PlantAction.OPERATE)
            services.shadow_run_cancel(run=run)
        return Response(ShadowRunSerializer(ShadowRun.objects.select_related("job").get(pk=run.pk)).data)

    @extend_schema(request=ShadowRunCompleteSerializer, responses={200: ShadowRunSerializer})
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        """Seed 000's completion step, for a run computed outside SolarHub: sets the status
        completed with the posted ``resultSummary`` (and ``assetUrl``). Plant editors only."""
        run = self.get_object()
        payload = ShadowRunCompleteSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        with transaction.atomic():
            plant_get_for(lock=True, user=request.user, plant_id=run.plant_id, action=PlantAction.CHANGE_PLANT)
            services.shadow_run_complete(
                run=run, result_summary=payload.validated_data["result_summary"],
                asset_url=payload.validated_data["asset_url"],
            )  # fmt: skip
        return Response(ShadowRunSerializer(ShadowRun.objects.select_related("job").get(pk=run.pk)).data)

    @extend_schema(responses={200: ShadowPanelSerializer(many=True), 404: OpenApiResponse(ErrorSerializer)})
    @action(detail=True, methods=["get"])
    def panels(self, request, pk=None):
        """Per-panel loss over the run's period (kWh, % of the panel's unshaded energy, mean shaded
        fraction), worst first; paginated (``?page``, ``?pageSize``)."""
        run = self.get_object()
        query_params_check(request, {"page", "page_size", "pageSize"})
        rows = selectors.shadow_run_panels(run=run)
        if rows is None:
            raise exceptions.NotFound("This run has no per-panel result (not computed here, or not finished).")
        rows.sort(key=lambda r: (-r["loss_kwh"], r["panel_id"]))
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(ShadowPanelSerializer(page, many=True).data)

    def _file(self, request, kind: ShadowArtifact):
        run = self.get_object()
        query_params_check(request, set())
        path = selectors.shadow_run_artifact_path(run=run, kind=kind)
        if path is None:
            raise exceptions.NotFound("This run has no such file (not computed here, or not finished).")
        media, name = _FILES[kind]
        return FileResponse(path.open("rb"), content_type=media, filename=f"shadow-{run.pk}-{name}")

    @extend_schema(responses={(200, "image/png"): OpenApiTypes.BINARY, 404: OpenApiResponse(ErrorSerializer)})
    @action(detail=True, methods=["get"], url_path="heatmap.png", content_negotiation_class=FileNegotiation)
    def heatmap(self, request, pk=None):
        """Plan view of the plant, panels coloured by their shading loss (matplotlib PNG)."""
        return self._file(request, ShadowArtifact.HEATMAP)

    @extend_schema(responses={(200, "image/png"): OpenApiTypes.BINARY, 404: OpenApiResponse(ErrorSerializer)})
    @action(detail=True, methods=["get"], url_path="matrix.png", content_negotiation_class=FileNegotiation)
    def matrix(self, request, pk=None):
        """Month x hour (plant-local) shading loss heatmap (matplotlib PNG)."""
        return self._file(request, ShadowArtifact.MATRIX)

    @extend_schema(
        responses={(200, "model/gltf-binary"): OpenApiTypes.BINARY, 404: OpenApiResponse(ErrorSerializer)},
        summary="The run's twin version as GLB, panels coloured by shading loss (vertex colours)",
    )
    @action(detail=True, methods=["get"], url_path="twin.glb", content_negotiation_class=FileNegotiation)
    def twin_glb(self, request, pk=None):
        """The twin at the run's version, each panel's vertices coloured by its loss (% of its
        unshaded energy) — open it in any glTF viewer."""
        run = self.get_object()
        query_params_check(request, set())
        content = selectors.shadow_run_loss_glb(run=run)
        if content is None:
            raise exceptions.NotFound("This run has no per-panel result (not computed here, or not finished).")
        response = HttpResponse(content, content_type="model/gltf-binary")
        response["Content-Disposition"] = f'inline; filename="shadow-{run.pk}-twin.glb"'
        return response

    @extend_schema(responses={(200, "text/csv"): OpenApiTypes.BINARY, 404: OpenApiResponse(ErrorSerializer)})
    @action(detail=True, methods=["get"], url_path="result.csv", content_negotiation_class=FileNegotiation)
    def result_csv(self, request, pk=None):
        """Per-panel loss as CSV."""
        return self._file(request, ShadowArtifact.CSV)
