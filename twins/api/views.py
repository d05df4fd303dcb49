"""Views of the twins API (mounted at /api/ and /api/v1/).

Rights as the plant's devices: a twin is seen by everybody who sees its plant (404 otherwise)
and changed by those with device rights (installer, plant_admin; 403 for the other roles),
decided before the body is read. Scoping is :class:`PlantScopedViewSet`'s (one subquery);
creation and regeneration re-check the right inside the transaction (``plant_get_for(lock=True)``).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from django.db import transaction
from django.http import Http404, HttpResponse
from django.utils.dateparse import parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, renderers, status
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from plants.access import PlantAction
from plants.selectors import plant_get_for
from solarhub.api.filters import query_params_check
from solarhub.api.renderers import CamelCaseJSONRenderer
from solarhub.api.schema import ErrorSerializer
from solarhub.api.scoping import PlantScopedViewSet
from twins import selectors, services
from twins.choices import GltfFormat
from twins.export import twin_gltf
from twins.filters import DigitalTwinFilter
from twins.geometry import twin_meshes
from twins.models import DigitalTwin
from twins.r3f import twin_script

from .serializers import (
    DigitalTwinCreateSerializer,
    DigitalTwinDetailSerializer,
    DigitalTwinGenerateSerializer,
    DigitalTwinListSerializer,
    DigitalTwinUpdateSerializer,
    DigitalTwinVersionSerializer,
    TwinScriptSerializer,
)


class _BinaryRenderer(renderers.BaseRenderer):
    """The glTF file itself; an error on this route is still the JSON error body."""

    charset = None

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if isinstance(data, bytes | bytearray):
            return data
        response = (renderer_context or {}).get("response")
        if response is not None:
            response["Content-Type"] = "application/json"
        return CamelCaseJSONRenderer().render(data, "application/json", renderer_context)


class GlbRenderer(_BinaryRenderer):
    media_type = "model/gltf-binary"
    format = GltfFormat.GLB.value


class GltfRenderer(_BinaryRenderer):
    media_type = "model/gltf+json"
    format = GltfFormat.GLTF.value


_SPACE_OFFSET = re.compile(r" (\d{2}:?\d{2})$")


def moment_param(raw: str | None, name: str) -> datetime | None:
    """An ISO 8601 instant from the query (naive: UTC; an unencoded ``+`` arrives as a space)."""
    if not raw:
        return None
    text = _SPACE_OFFSET.sub(r"+\1", raw.strip())
    try:
        moment = parse_datetime(text) if "\x00" not in text else None
    except ValueError:
        moment = None
    if moment is None:
        raise exceptions.ValidationError({name: ["Not an ISO 8601 time, e.g. 2026-06-21T19:00:00Z."]})
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    if not 1900 <= moment.year <= 2200:
        raise exceptions.ValidationError({name: ["Between 1900 and 2200."]})
    return moment.astimezone(UTC)


_VERSION_PARAM = OpenApiParameter(
    "version", int, description="A kept version of the scene (default: the current one); see /versions."
)


@extend_schema_view(
    list=extend_schema(summary="Twins of the plants you may see (without their scenes)"),
    retrieve=extend_schema(summary="One twin with its scene (twinData)"),
    destroy=extend_schema(summary="Delete a twin and its versions (device rights)"),
)
@extend_schema(tags=["digital-twins"])
class DigitalTwinViewSet(PlantScopedViewSet):
    queryset = DigitalTwin.objects.all()
    filterset_class = DigitalTwinFilter
    http_method_names = ["get", "post", "put", "patch", "delete"]
    plant_actions = {
        "list": None,
        "retrieve": None,
        "versions": None,
        "script": None,
        "gltf": None,
        "create": PlantAction.MANAGE_DEVICES,
        "update": PlantAction.MANAGE_DEVICES,
        "partial_update": PlantAction.MANAGE_DEVICES,
        "destroy": PlantAction.MANAGE_DEVICES,
    }

    def get_queryset(self):
        queryset = super().get_queryset().order_by("id")
        if self.action == "list":
            return queryset.defer("twin_data")
        return queryset

    def get_serializer_class(self):
        return DigitalTwinListSerializer if self.action == "list" else DigitalTwinDetailSerializer

    def perform_content_negotiation(self, request, force=False):
        try:
            return super().perform_content_negotiation(request, force=force)
        except (exceptions.NotFound, Http404) as exc:  # ?format= names no renderer of this route
            if force:
                raise
            raise exceptions.ValidationError({"format": ["glb or gltf on /gltf; not taken elsewhere."]}) from exc

    @extend_schema(request=DigitalTwinCreateSerializer, responses={201: DigitalTwinDetailSerializer})
    def create(self, request, *args, **kwargs):
        """A twin for a plant from a scene you send (device rights on the plant)."""
        payload = DigitalTwinCreateSerializer(data=request.data, context={"request": request})
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        with transaction.atomic():
            plant = plant_get_for(
                lock=True, user=request.user, plant_id=data["plant_id"].pk, action=PlantAction.MANAGE_DEVICES
            )
            twin = services.twin_create(plant=plant, by=request.user, twin_data=data["twin_data"], name=data["name"])
        return Response(DigitalTwinDetailSerializer(twin).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=DigitalTwinUpdateSerializer, responses={200: DigitalTwinDetailSerializer})
    def update(self, request, *args, **kwargs):
        """Replace the scene (PUT) or change name and/or scene (PATCH): a new version."""
        twin = self.get_object()  # 404 / 403 before the body is looked at
        payload = DigitalTwinUpdateSerializer(instance=twin, data=request.data, partial=kwargs.get("partial", False))
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        with transaction.atomic():
            plant_get_for(lock=True, user=request.user, plant_id=twin.plant_id, action=PlantAction.MANAGE_DEVICES)
            twin = services.twin_update(
                twin=twin, by=request.user, twin_data=data.get("twin_data"), name=data.get("name")
            )
        return Response(DigitalTwinDetailSerializer(twin).data)

    @extend_schema(request=DigitalTwinUpdateSerializer, responses={200: DigitalTwinDetailSerializer})
    def partial_update(self, request, *args, **kwargs):
        return self.update(request, *args, partial=True, **kwargs)

    def perform_destroy(self, instance):
        services.twin_delete(twin=instance)

    @extend_schema(responses={200: DigitalTwinVersionSerializer(many=True)}, summary="Kept versions, newest first")
    @action(detail=True, methods=["get"], url_path="versions")
    def versions(self, request, pk=None):
        twin = self.get_object()
        query_params_check(request, set())
        return Response(DigitalTwinVersionSerializer(selectors.twin_versions(twin=twin), many=True).data)

    def _scene(self, request, twin) -> tuple[int, dict]:
        raw = request.query_params.get("version")
        version = None
        if raw not in (None, ""):
            if not raw.isdigit() or not 1 <= int(raw) <= 2**31:
                raise exceptions.ValidationError({"version": ["A positive version number."]})
            version = int(raw)
        found = selectors.twin_version_data(twin=twin, version=version)
        if found is None:
            raise exceptions.NotFound("That version of the twin is not kept.")
        return found

    @extend_schema(
        parameters=[_VERSION_PARAM],
        responses={200: TwinScriptSerializer},
        summary="The twin as a React-Three-Fiber component (seed 000's {script, twinId, plantId})",
    )
    @action(detail=True, methods=["get"], url_path="script")
    def script(self, request, pk=None):
        twin = self.get_object()
        query_params_check(request, {"version"})
        version, data = self._scene(request, twin)
        source = twin_script(
            twin_meshes(twin_data=data), twin_data=data, twin_id=twin.pk, plant_id=twin.plant_id, version=version
        )
        return Response({"script": source, "twin_id": twin.pk, "plant_id": twin.plant_id, "version": version})

    @extend_schema(
        parameters=[
            OpenApiParameter("format", str, enum=["glb", "gltf"], description="glb (default) or gltf (JSON)."),
            OpenApiParameter("at", OpenApiTypes.DATETIME, description="Pose the trackers at this instant (pvlib)."),
            _VERSION_PARAM,
        ],
        responses={
            (200, "model/gltf-binary"): OpenApiTypes.BINARY,
            (200, "model/gltf+json"): OpenApiTypes.BINARY,
            400: OpenApiResponse(ErrorSerializer),
        },
        summary="The twin as a glTF 2.0 file (nodes named by object id, extras with the metadata)",
    )
    @action(
        detail=True,
        methods=["get"],
        url_path="gltf",
        renderer_classes=[GlbRenderer, GltfRenderer, CamelCaseJSONRenderer],
    )
    def gltf(self, request, pk=None):
        twin = self.get_object()
        query_params_check(request, {"format", "at", "version"})
        fmt = request.query_params.get("format") or GltfFormat.GLB.value
        at = moment_param(request.query_params.get("at"), "at")
        version, data = self._scene(request, twin)
        content = twin_gltf(twin_meshes(twin=twin, twin_data=data, at=at), fmt=fmt, twin_id=twin.pk)
        media = GltfRenderer.media_type if fmt == GltfFormat.GLTF else GlbRenderer.media_type
        response = HttpResponse(content, content_type=media)
        response["Content-Disposition"] = f'inline; filename="twin-{twin.pk}-v{version}.{fmt}"'
        return response


@extend_schema(tags=["digital-twins"])
class PlantTwinGenerateView(APIView):
    """(Re)generate the plant's twin from its registry: 201 when it is new, 200 when it was
    regenerated (a new version). Objects you added (obstacles) are kept unless
    ``replaceObstacles: true``; ``obstacles`` adds scene objects. Device rights on the plant."""

    @extend_schema(
        request=DigitalTwinGenerateSerializer,
        responses={200: DigitalTwinDetailSerializer, 201: DigitalTwinDetailSerializer},
    )
    def post(self, request, plant_id: int):
        with transaction.atomic():
            plant = plant_get_for(lock=True, user=request.user, plant_id=plant_id, action=PlantAction.MANAGE_DEVICES)
            payload = DigitalTwinGenerateSerializer(data=request.data)
            payload.is_valid(raise_exception=True)
            data = payload.validated_data
            twin, created = services.twin_regenerate(
                plant=plant,
                by=request.user,
                replace_obstacles=data["replace_obstacles"],
                obstacles=data.get("obstacles"),
                name=data.get("name"),
            )
        return Response(
            DigitalTwinDetailSerializer(twin).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )
