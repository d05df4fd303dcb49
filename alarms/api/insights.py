"""Read-side insights of the alarms app.

* ``GET /api/alarms/summary?plantId=`` — counts by state and severity plus seed 003's header
  block (``protectionInfo``/``warningInfo``/``faultInfo``); ``GET /api/v1/config/header`` is the
  header block alone, at seed 003's path.
* ``GET /api/alarms/analytics?plantId=&since=&until=`` — MTTA/MTTR, alarms per plant-local day,
  bad actors, chattering rules, time in flood, rate vs ISA-18.2, lost energy by cause.
* ``GET /api/v1/pcs/alert?plantId=&deviceId=`` and ``GET /api/v1/bess/alert/rack/{rackNumber}``
  — seed 003's status words, raw (16-char binary) and decoded through the bit maps.

Scoping: every view is a ``PlantScopedAPIView``; plants are looked up with
``plants.selectors.plant_get_for`` (404 otherwise, like the dashboard); without ``plantId`` the
summary and analytics cover every visible plant.
"""

from __future__ import annotations

import re
from datetime import timedelta

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.request import Request
from rest_framework.response import Response

from plants.choices import DeviceType
from plants.models import Device, Plant
from plants.querysets import restrict_to_plants
from plants.selectors import plant_get_for
from solarhub.api.exceptions import ApiError
from solarhub.api.params import InvalidParameter, id_param, iso, time_param
from solarhub.api.scoping import PlantScopedAPIView
from telemetry.api.dashboard import plant_for_request

from ..models import Alarm
from ..selectors import alarm_analytics, alarm_counts, alarm_header, pcs_alert_words, rack_alert_words

DEFAULT_ANALYTICS_DAYS = 30
MAX_ANALYTICS_DAYS = 366
_RACK = re.compile(r"^(?:rack)?0*(\d{1,4})$", re.IGNORECASE)


def _scope(request: Request) -> tuple[object, Plant | None]:
    """Visible alarms, narrowed to ``?plantId`` when given (404 when that plant is not visible)."""
    alarms = restrict_to_plants(Alarm.objects.all(), request.user)
    plant_id = id_param(request.query_params, "plant_id")
    if plant_id is None:
        return alarms, None
    plant = plant_get_for(user=request.user, plant_id=plant_id)
    return alarms.filter(plant=plant), plant


def _zone(request: Request, plant: Plant | None) -> str:
    if plant is not None:
        return plant.timezone
    zones = set(Plant.objects.visible_to(request.user).values_list("timezone", flat=True)[:50])
    return zones.pop() if len(zones) == 1 else "UTC"


# --- response documentation (drf-spectacular) ----------------------------------------------------


class _CountsByState(serializers.Serializer):
    active_unacknowledged = serializers.IntegerField()
    active_acknowledged = serializers.IntegerField()
    rtn_unacknowledged = serializers.IntegerField()
    cleared = serializers.IntegerField()
    shelved = serializers.IntegerField()
    closed = serializers.IntegerField()


class _CountsByLegacyState(serializers.Serializer):
    open = serializers.IntegerField()
    acknowledged = serializers.IntegerField()
    closed = serializers.IntegerField()


class _CountsBySeverity(serializers.Serializer):
    low = serializers.IntegerField()
    medium = serializers.IntegerField()
    high = serializers.IntegerField()
    critical = serializers.IntegerField()


class _HeaderGroup(serializers.Serializer):
    count = serializers.IntegerField()
    items = serializers.ListField(child=serializers.CharField(), help_text="At most 100 items; count is complete.")


class HeaderSerializer(serializers.Serializer):
    protection_info = _HeaderGroup()
    warning_info = _HeaderGroup()
    fault_info = _HeaderGroup()
    status = serializers.CharField()


class SummarySerializer(HeaderSerializer):
    plant_id = serializers.IntegerField(allow_null=True)
    total = serializers.IntegerField()
    open = serializers.IntegerField(help_text="Not closed.")
    active = serializers.IntegerField(help_text="Open and the condition present now.")
    by_state = _CountsByState()
    by_legacy_state = _CountsByLegacyState()
    by_severity = _CountsBySeverity(help_text="Open alarms only.")


class _Day(serializers.Serializer):
    date = serializers.DateField()
    count = serializers.IntegerField()


class _BadActor(serializers.Serializer):
    device_id = serializers.IntegerField(allow_null=True)
    device_name = serializers.CharField(allow_null=True)
    rule_id = serializers.IntegerField(allow_null=True)
    rule_name = serializers.CharField(allow_null=True)
    alarms = serializers.IntegerField()
    occurrences = serializers.IntegerField()
    lost_energy_kwh = serializers.FloatField(allow_null=True)


class _Chattering(serializers.Serializer):
    rule_id = serializers.IntegerField()
    rule_name = serializers.CharField()
    runs = serializers.IntegerField(help_text="Occurrences that were at least the 3rd of a (rule, device) in an hour.")
    devices = serializers.IntegerField()


class _Rate(serializers.Serializer):
    per_hour = serializers.FloatField()
    isa_guideline_per_hour = serializers.FloatField()
    exceeds_guideline = serializers.BooleanField()


class _Cause(serializers.Serializer):
    cause = serializers.CharField(help_text="The rule type, or manual.")
    lost_energy_kwh = serializers.FloatField()
    alarms = serializers.IntegerField()


class AnalyticsSerializer(serializers.Serializer):
    plant_id = serializers.IntegerField(allow_null=True)
    since = serializers.DateTimeField()
    until = serializers.DateTimeField()
    timezone = serializers.CharField()
    total = serializers.IntegerField()
    mtta_minutes = serializers.FloatField(allow_null=True)
    mtta_sample = serializers.IntegerField()
    mttr_minutes = serializers.FloatField(allow_null=True)
    mttr_sample = serializers.IntegerField()
    per_day = _Day(many=True)
    bad_actors = _BadActor(many=True)
    chattering = _Chattering(many=True)
    flood_minutes = serializers.FloatField(help_text="Time with more than 10 alarms opened in the past 10 minutes.")
    rate = _Rate()
    lost_energy_by_cause = _Cause(many=True)
    lost_energy_kwh = serializers.FloatField()
    status = serializers.CharField()


class _Flag(serializers.Serializer):
    bit = serializers.IntegerField()
    name = serializers.CharField()
    category = serializers.CharField()


class _PcsDecoded(serializers.Serializer):
    inverter_status = _Flag(many=True)
    inverter_inhibits1_status = _Flag(many=True)
    environment_status = _Flag(many=True)
    warning_status = _Flag(many=True)
    grid_status = _Flag(many=True)
    fault_status1 = _Flag(many=True)
    fault_status2 = _Flag(many=True)


class PcsAlertSerializer(serializers.Serializer):
    plant_id = serializers.IntegerField()
    device_id = serializers.IntegerField()
    device_name = serializers.CharField()
    timestamp = serializers.DateTimeField(allow_null=True)
    inverter_status = serializers.CharField(allow_null=True, help_text="16 chars, bit 0 rightmost.")
    inverter_inhibits1_status = serializers.CharField(allow_null=True)
    environment_status = serializers.CharField(allow_null=True)
    warning_status = serializers.CharField(allow_null=True)
    grid_status = serializers.CharField(allow_null=True)
    fault_status1 = serializers.CharField(allow_null=True)
    fault_status2 = serializers.CharField(allow_null=True)
    decoded = _PcsDecoded()
    status = serializers.CharField()


class RackAlertSerializer(serializers.Serializer):
    rackNumber = serializers.CharField()
    plantId = serializers.IntegerField()
    deviceId = serializers.IntegerField()
    deviceName = serializers.CharField()
    timestamp = serializers.DateTimeField(allow_null=True)
    batteryAlerts = serializers.DictField(
        child=serializers.CharField(allow_null=True),
        help_text="battery_<n>_protection|alarm|warning (keys verbatim): Normal, or the set flags' names.",
    )
    bamsAlerts = serializers.DictField(child=serializers.CharField())
    decoded = serializers.DictField(child=_Flag(many=True), help_text="Set flags per key of the two maps.")
    status = serializers.CharField()


_PLANT_OPTIONAL = OpenApiParameter("plantId", int, description="One plant (404 if not visible); default all visible.")
_PLANT_OR_ONLY = OpenApiParameter(
    "plantId", int, description="The plant; optional when you see exactly one plant (404 if not visible)."
)


@extend_schema(tags=["alarms"], parameters=[_PLANT_OPTIONAL], responses=SummarySerializer)
class AlarmSummaryView(PlantScopedAPIView):
    """Counts by state (all alarms) and by severity (open alarms), and seed 003's header block.

    Header groups: open, unshelved alarms. Decoded flags (``metadata.flags``) place an alarm by
    each flag's category ("Inverter 1: OVER_TEMP"); otherwise severity decides — critical →
    fault, high → protection, medium/low → warning — and the alarm's title is the item."""

    def get(self, request: Request) -> Response:
        alarms, plant = _scope(request)
        return Response(
            {
                "plant_id": plant.pk if plant else None,
                **alarm_counts(alarms=alarms),
                **alarm_header(alarms=alarms),
                "status": "success",
            }
        )


@extend_schema(tags=["alarms"], parameters=[_PLANT_OPTIONAL], responses=HeaderSerializer)
class ConfigHeaderView(PlantScopedAPIView):
    """Seed 003's ``/api/v1/config/header``: the header block of :class:`AlarmSummaryView`."""

    def get(self, request: Request) -> Response:
        alarms, _ = _scope(request)
        return Response({**alarm_header(alarms=alarms), "status": "success"})


@extend_schema(
    tags=["alarms"],
    parameters=[
        _PLANT_OPTIONAL,
        OpenApiParameter("since", str, description="ISO 8601 (default: until - 30 days)."),
        OpenApiParameter("until", str, description="ISO 8601, exclusive (default: now)."),
    ],
    responses=AnalyticsSerializer,
)
class AlarmAnalyticsView(PlantScopedAPIView):
    """Figures over the alarms opened in ``[since, until)`` (default: the last 30 days, at most
    366). Days are the plant's local days (UTC across plants in several zones)."""

    def get(self, request: Request) -> Response:
        alarms, plant = _scope(request)
        until = time_param(request.query_params, "until") or timezone.now()
        since = time_param(request.query_params, "since") or until - timedelta(days=DEFAULT_ANALYTICS_DAYS)
        if since >= until:
            raise exceptions.ValidationError({"since": ["since must be before until."]})
        if until - since > timedelta(days=MAX_ANALYTICS_DAYS):
            raise exceptions.ValidationError({"since": [f"The window is at most {MAX_ANALYTICS_DAYS} days."]})
        body = alarm_analytics(alarms=alarms, since=since, until=until, zone=_zone(request, plant))
        return Response({"plant_id": plant.pk if plant else None, **body, "status": "success"})


@extend_schema(
    tags=["alarms"],
    parameters=[_PLANT_OR_ONLY, OpenApiParameter("deviceId", int, description="One PCS of the plant.")],
    responses=PcsAlertSerializer,
)
class PcsAlertView(PlantScopedAPIView):
    """Seed 003's ``/pcs/alert``: the latest PCS status words of the plant (``?deviceId`` picks
    one PCS; default the plant's first), as 16-char binary strings (``null`` when never
    reported) plus ``decoded`` flags per word. 404 ``NO_PCS`` when the plant has none."""

    def get(self, request: Request) -> Response:
        plant = plant_for_request(request)
        devices = Device.objects.filter(plant=plant, type=DeviceType.PCS).order_by("id")
        device_id = id_param(request.query_params, "device_id")
        if device_id is not None:
            devices = devices.filter(pk=device_id)
        device = devices.first()
        if device is None:
            raise ApiError("The plant has no such PCS.", code="NO_PCS", status_code=404)
        words = pcs_alert_words(device=device)
        return Response(
            {
                "plant_id": plant.pk,
                "device_id": device.pk,
                "device_name": device.name,
                "timestamp": words["timestamp"],
                **words["words"],
                "decoded": words["decoded"],
                "status": "success",
            }
        )


def _racks_of(plant: Plant, raw: str | None):
    """(bess number or None, the racks numbered rack01...): the children of the ``raw``-th BESS
    (default the first, when it has racks), else all the plant's racks."""
    units = Device.objects.filter(plant=plant, type=DeviceType.BESS).order_by("id")
    racks = Device.objects.filter(plant=plant, type=DeviceType.BESS_RACK).order_by("id")
    if raw is not None:
        try:
            number = int(raw)
        except ValueError:
            number = 0
        unit = units[number - 1 : number].first() if number >= 1 else None
        if unit is None:
            raise InvalidParameter(
                "bess_number",
                f"The plant has {units.count()} BESS unit(s); got {raw!r}.",
                code="BESS_NUMBER_OUT_OF_RANGE",
            )
        return number, racks.filter(parent=unit)
    first = units.first()
    if first is not None and racks.filter(parent=first).exists():
        return 1, racks.filter(parent=first)
    return None, racks


@extend_schema(
    tags=["alarms"],
    parameters=[
        _PLANT_OR_ONLY,
        OpenApiParameter("rack_number", str, OpenApiParameter.PATH, description="rack01..."),
        OpenApiParameter("bessNumber", int, description="The BESS unit (1...) whose racks are numbered; default 1."),
    ],
    responses=RackAlertSerializer,
)
class BessRackAlertView(PlantScopedAPIView):
    """Seed 003's ``/bess/alert/rack/{rackNumber}``: racks are numbered within a BESS unit, as
    ``/bess/{n}`` numbers its columns — ``rack01`` is the first ``bess_rack`` child (by id) of the
    ``bessNumber``-th BESS (by id; default the first), so ``rack02`` here is ``Rack 02`` there.
    A plant whose racks hang under no BESS numbers them plant-wide. The data keys
    (``battery_1_protection``, ``bams_status``) are sent verbatim, the rest in camelCase.
    404 ``RACK_NOT_FOUND`` out of range; 400 ``BESS_NUMBER_OUT_OF_RANGE`` for a BESS it lacks."""

    def get(self, request: Request, rack_number: str) -> Response:
        plant = plant_for_request(request)
        match = _RACK.match(rack_number or "")
        if match is None:
            raise exceptions.ValidationError({"rack_number": ["rackNumber looks like rack01."]})
        index = int(match.group(1))
        bess_number, racks = _racks_of(plant, request.query_params.get("bess_number"))
        device = racks[index - 1 : index].first() if index >= 1 else None
        if device is None:
            raise ApiError(f"The plant has no rack {rack_number}.", code="RACK_NOT_FOUND", status_code=404)
        words = rack_alert_words(device=device)
        response = Response(
            {
                "rackNumber": f"rack{index:02d}",
                "bessNumber": bess_number,
                "plantId": plant.pk,
                "deviceId": device.pk,
                "deviceName": device.name,
                "timestamp": iso(words["timestamp"]),
                "batteryAlerts": words["battery"],
                "bamsAlerts": words["bams"],
                "decoded": words["decoded"],
                "status": "success",
            }
        )
        response.camelize = False
        return response
