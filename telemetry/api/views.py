"""Views of the telemetry API: the REST ingest door and ingest-key management."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, PolymorphicProxySerializer, extend_schema
from rest_framework import exceptions, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.parsers import BaseParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.authentication import JWTAuthentication
from plants.access import PlantAction
from plants.selectors import plant_get_for, plant_ids_allowing
from solarhub.api.exceptions import PayloadTooLarge
from solarhub.api.parsers import IngestJSONParser
from solarhub.api.schema import ErrorSerializer
from solarhub.api.scoping import PlantScopedAPIView
from telemetry import services
from telemetry.authentication import IngestKeyAuthentication, IngestKeyPrincipal
from telemetry.events import MAX_EVENTS
from telemetry.ingest import MAX_READINGS, telemetry_ingest
from telemetry.models import IngestKey

from .serializers import (
    IngestKeyCreatedSerializer,
    IngestKeyCreateSerializer,
    IngestKeySerializer,
    IngestNothingStoredSerializer,
    IngestRequestSerializer,
    IngestResultSerializer,
)


class CSVTextParser(BaseParser):
    media_type = "text/csv"

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return stream.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            raise exceptions.ParseError("CSV must be UTF-8.") from None


@extend_schema(
    tags=["telemetry"],
    request={"application/json": IngestRequestSerializer, "text/csv": {"type": "string"}},
    responses={
        200: IngestResultSerializer,
        400: OpenApiResponse(
            PolymorphicProxySerializer(
                component_name="IngestRefused",
                serializers=[IngestNothingStoredSerializer, ErrorSerializer],
                resource_type_field_name=None,
            ),
            description="Nothing stored (NOTHING_STORED, with the per-value errors), or a body that is no batch.",
        ),
    },
    parameters=[
        OpenApiParameter("X-Api-Key", str, OpenApiParameter.HEADER, required=False, description="Plant ingest key")
    ],
)
class IngestView(APIView):
    """Push readings and device events: a user JWT with ingest rights on the plant, or a plant's
    ``X-Api-Key``. JSON ``{"plantId"?, "readings": [{"deviceId"|"serialNumber", "timestamp",
    "metrics": {key: number}}], "events"?: [{"deviceId"|"serialNumber", "timestamp", "eventType",
    "code"?, "message"?, "severity"?}]}`` or ``text/csv`` (readings only). At most 10,000 readings
    and 10,000 events / 10 MB (413 beyond). Bad values are reported per value in ``errors`` (bad
    events in ``events.errors``) and never drop the good ones; replays change nothing (events are
    unique per device, timestamp, type and code)."""

    authentication_classes = [IngestKeyAuthentication, JWTAuthentication, SessionAuthentication]
    permission_classes = [IsAuthenticated]
    parser_classes = [IngestJSONParser, CSVTextParser]
    max_body_bytes = settings.TELEMETRY_MAX_BODY_BYTES

    def post(self, request):
        data = request.data
        events = None
        if isinstance(data, str):
            readings, plant_id = services.readings_from_csv(data), request.query_params.get("plantId")
        elif isinstance(data, dict) and (
            isinstance(data.get("readings"), list) or isinstance(data.get("events"), list)
        ):
            readings, events, plant_id = data.get("readings", []), data.get("events"), data.get("plantId")
            if not isinstance(readings, list):
                raise exceptions.ValidationError({"readings": ["Must be a list of readings."]})
            if events is not None and not isinstance(events, list):
                raise exceptions.ValidationError({"events": ["Must be a list of events."]})
        else:
            raise exceptions.ValidationError({"readings": ['Send {"readings": [...], "events": [...]} or text/csv.']})
        if len(readings) > MAX_READINGS:
            raise PayloadTooLarge(f"At most {MAX_READINGS} readings per request; this one has {len(readings)}.")
        if events is not None and len(events) > MAX_EVENTS:
            raise PayloadTooLarge(f"At most {MAX_EVENTS} events per request; this one has {len(events)}.")
        result = telemetry_ingest(plant_ids=self._writable_plants(request, plant_id), readings=readings, events=events)
        body = result.as_dict()
        if result.stored_nothing:
            body.update(detail="No reading was stored.", status_code=400, error_code="NOTHING_STORED")
            return Response(body, status=status.HTTP_400_BAD_REQUEST)
        return Response(body)

    def _writable_plants(self, request, plant_id):
        user = request.user
        if isinstance(user, IngestKeyPrincipal):
            if plant_id not in (None, "", user.plant_id, str(user.plant_id)):
                raise exceptions.PermissionDenied("This key belongs to another plant.")
            return [user.plant_id]
        if plant_id not in (None, ""):
            if not str(plant_id).isdigit():
                raise exceptions.ValidationError({"plantId": ["Must be an integer."]})
            return [plant_get_for(user=user, plant_id=int(plant_id), action=PlantAction.INGEST).pk]
        return plant_ids_allowing(user, PlantAction.INGEST)


_KEYS = {"GET": PlantAction.MANAGE_KEYS, "POST": PlantAction.MANAGE_KEYS, "DELETE": PlantAction.MANAGE_KEYS}


@extend_schema(tags=["telemetry"])
class IngestKeyListView(PlantScopedAPIView):
    """The plant's ingest keys (never the keys themselves), and creating one (shown once). Only
    those who manage the plant's keys (owner, installer, plant admins) see them."""

    plant_actions = _KEYS

    @extend_schema(responses=IngestKeySerializer(many=True))
    def get(self, request, plant_id: int):
        return Response(IngestKeySerializer(IngestKey.objects.filter(plant=self.plant), many=True).data)

    @extend_schema(request=IngestKeyCreateSerializer, responses={201: IngestKeyCreatedSerializer})
    def post(self, request, plant_id: int):
        plant = self.plant
        serializer = IngestKeyCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        key, plaintext = services.ingest_key_create(
            by=request.user, plant_id=plant.pk, name=serializer.validated_data["name"]
        )
        body = IngestKeySerializer(key).data
        body["key"] = plaintext
        return Response(body, status=status.HTTP_201_CREATED)


@extend_schema(tags=["telemetry"], request=None, responses={204: None})
class IngestKeyDetailView(PlantScopedAPIView):
    plant_actions = _KEYS

    def delete(self, request, plant_id: int, key_id: int):
        services.ingest_key_revoke(by=request.user, plant_id=self.plant.pk, key_id=key_id)
        return Response(status=status.HTTP_204_NO_CONTENT)
