"""Views of the alarms API (mounted at /api/ and /api/v1/): alarms with their lifecycle actions
and history, and alarm rules with a dry run. Plant scoping and the 404-vs-403 rule come from
``solarhub.api.scoping``; every write goes through ``alarms.services``."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, status
from rest_framework.decorators import action
from rest_framework.response import Response

from plants.access import PlantAction
from plants.selectors import plant_get_for
from solarhub.api.scoping import PlantScopedViewSet

from .. import services
from ..evaluation import rule_test
from ..filters import AlarmFilter, AlarmRuleFilter
from ..models import Alarm, AlarmRule
from .serializers import (
    AlarmCreateSerializer,
    AlarmEventSerializer,
    AlarmRuleSerializer,
    AlarmSerializer,
    AlarmUpdateSerializer,
    AssignSerializer,
    CommentSerializer,
    RuleTestSerializer,
    ShelveSerializer,
)

_OPERATE = PlantAction.OPERATE


class AlarmViewSet(PlantScopedViewSet):
    """Alarms of the plants you can see. Acknowledge/clear/close/shelve/comment/assign need the
    ``operate`` right on the plant (owner, installer, engineer, operator); DELETE is for platform
    admins only (alarm history is an audit record)."""

    queryset = Alarm.objects.all()
    serializer_class = AlarmSerializer
    filterset_class = AlarmFilter
    ordering_fields = ["triggered_at", "severity", "state", "id"]
    lookup_value_regex = r"\d+"
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    schema_error_codes = (409,)  # ALARM_CLOSED
    plant_actions = {
        "list": None,
        "retrieve": None,
        "events": None,
        "create": _OPERATE,
        "partial_update": _OPERATE,
        "destroy": PlantAction.DELETE_PLANT,
        "acknowledge": _OPERATE,
        "clear": _OPERATE,
        "close": _OPERATE,
        "shelve": _OPERATE,
        "comment": _OPERATE,
        "assign": _OPERATE,
    }

    def _done(self, alarm: Alarm, code=status.HTTP_200_OK) -> Response:
        return Response(AlarmSerializer(Alarm.objects.get(pk=alarm.pk)).data, status=code)

    @extend_schema(request=AlarmCreateSerializer, responses={201: AlarmSerializer})
    def create(self, request, *args, **kwargs):
        serializer = AlarmCreateSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        with transaction.atomic():
            plant = plant_get_for(user=request.user, plant_id=data["plant"].pk, action=_OPERATE, lock=True)
            alarm = services.alarm_create_manual(
                plant=plant,
                by=request.user,
                title=data["title"],
                message=data.get("message", ""),
                severity=data["severity"],
                device=data.get("device"),
                metadata=data.get("metadata"),
            )
        return self._done(alarm, status.HTTP_201_CREATED)

    @extend_schema(request=AlarmUpdateSerializer, responses=AlarmSerializer)
    def partial_update(self, request, *args, **kwargs):
        alarm = self.get_object()
        serializer = AlarmUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return self._done(services.alarm_update(alarm=alarm, by=request.user, data=serializer.validated_data))

    def update(self, request, *args, **kwargs):  # PUT is not offered (http_method_names)
        raise exceptions.MethodNotAllowed(request.method)

    def destroy(self, request, *args, **kwargs):
        services.alarm_delete(alarm=self.get_object(), by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=CommentSerializer, responses=AlarmSerializer)
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, pk=None):
        body = _valid(CommentSerializer, request)
        return self._done(services.alarm_acknowledge(alarm=self.get_object(), by=request.user, comment=body["comment"]))

    @extend_schema(request=CommentSerializer, responses=AlarmSerializer)
    @action(detail=True, methods=["post"])
    def clear(self, request, pk=None):
        body = _valid(CommentSerializer, request)
        return self._done(services.alarm_clear(alarm=self.get_object(), by=request.user, comment=body["comment"]))

    @extend_schema(request=CommentSerializer, responses=AlarmSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        body = _valid(CommentSerializer, request)
        return self._done(services.alarm_close(alarm=self.get_object(), by=request.user, comment=body["comment"]))

    @extend_schema(request=ShelveSerializer, responses=AlarmSerializer)
    @action(detail=True, methods=["post"])
    def shelve(self, request, pk=None):
        alarm = self.get_object()
        body = _valid(ShelveSerializer, request)
        until = body.get("until") or timezone.now() + timedelta(minutes=body["minutes"])
        return self._done(services.alarm_shelve(alarm=alarm, by=request.user, until=until, comment=body["comment"]))

    @extend_schema(request=CommentSerializer, responses={201: AlarmEventSerializer})
    @action(detail=True, methods=["post"])
    def comment(self, request, pk=None):
        alarm = self.get_object()
        body = _valid(CommentSerializer, request)
        event = services.alarm_comment(alarm=alarm, by=request.user, comment=body["comment"])
        return Response(AlarmEventSerializer(event).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=AssignSerializer, responses=AlarmSerializer)
    @action(detail=True, methods=["post"])
    def assign(self, request, pk=None):
        alarm = self.get_object()
        body = _valid(AssignSerializer, request)
        return self._done(
            services.alarm_assign(
                alarm=alarm, by=request.user, assignee_id=body["assignee_id"], comment=body["comment"]
            )
        )

    @extend_schema(responses=AlarmEventSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None)
    def events(self, request, pk=None):
        alarm = self.get_object()
        return Response(AlarmEventSerializer(alarm.events.all(), many=True).data)


def _valid(serializer_class, request) -> dict:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class AlarmRuleViewSet(PlantScopedViewSet):
    """Alarm rules of a plant. Anyone who sees the plant reads them; owners, installers and
    engineers create, edit and delete them (``manage_alarm_rules``)."""

    queryset = AlarmRule.objects.all()
    serializer_class = AlarmRuleSerializer
    filterset_class = AlarmRuleFilter
    ordering_fields = ["id", "name", "severity"]
    lookup_value_regex = r"\d+"
    plant_actions = {
        "list": None,
        "retrieve": None,
        "create": PlantAction.MANAGE_ALARM_RULES,
        "update": PlantAction.MANAGE_ALARM_RULES,
        "partial_update": PlantAction.MANAGE_ALARM_RULES,
        "destroy": PlantAction.MANAGE_ALARM_RULES,
        "test": None,
    }

    def perform_create(self, serializer):
        with transaction.atomic():
            plant_get_for(
                user=self.request.user,
                plant_id=serializer.validated_data["plant"].pk,
                action=PlantAction.MANAGE_ALARM_RULES,
                lock=True,
            )
            serializer.save(created_by=self.request.user)

    @extend_schema(request=RuleTestSerializer, responses={200: dict})
    @action(detail=True, methods=["post"])
    def test(self, request, pk=None):
        """Evaluate the rule against the last 24 h (or ``hours``) of data without opening alarms."""
        rule = self.get_object()
        body = _valid(RuleTestSerializer, request)
        return Response(rule_test(rule=rule, window=timedelta(hours=body["hours"])))
