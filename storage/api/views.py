"""Views of the storage API (mounted at /api/ and /api/v1/).

Seed 003's site views (``bess/{n}``, ``pcs/{n}``, ``meters``, ``meters/aux``, ``inverter``,
``system/overview``, ``system/topology``, ``config/sidebar``, ``schedule...``, ``analysis...``)
answer in seed 003's snake_case (``response.camelize = False``) at both mounts; their plant is
``?plantId`` or, without it, the user's default plant, else their only plant (400
``PLANT_REQUIRED`` otherwise) — ``storage.selectors.common.storage_plant_for``. A plant the
caller cannot see is 404, like a missing one. The dispatch-event resource and the storage KPIs
are ordinary /api/ resources (camelCase).

Bad parameters are 400 ``VALIDATION_ERROR`` naming the parameter, or a specific code:
``BESS_NUMBER_OUT_OF_RANGE``, ``PCS_NUMBER_OUT_OF_RANGE``, ``RACK_OUT_OF_RANGE``,
``INVALID_MONTH``; a plant without a storage tariff answers the income views 404 ``NO_TARIFF``.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from plants.access import PlantAction
from plants.choices import DeviceType, MeterRole
from plants.models import Device, Plant
from plants.selectors import device_get_for, plant_get_for
from solarhub.api.exceptions import ApiError
from solarhub.api.params import (
    InvalidParameter,
    datetime_from_text,
    enum_param,
    id_param,
    int_param,
    parse_int,
    parse_time,
)
from solarhub.api.schema import ErrorSerializer
from solarhub.api.scoping import PlantScopedAPIView, PlantScopedViewSet

from ..choices import DispatchMode
from ..filters import DispatchEventFilter
from ..models import DispatchEvent
from ..selectors.analysis import freq_power, power_io, power_loss
from ..selectors.common import month_param, plant_tz, storage_plant_for
from ..selectors.dispatch import exec_rate_series, income_daily, income_monthly, schedule
from ..selectors.kpis import storage_kpis
from ..selectors.site import (
    aux_meter_day,
    bess_table,
    inverter_detail,
    meters_list,
    overview,
    pcs_detail,
    sidebar,
    topology,
)
from ..services import DISPATCH_FIELDS, dispatch_event_create, dispatch_event_update
from . import serializers as s

MAX_ANALYSIS_DAYS = 92
MAX_KPI_DAYS = 366
MAX_FREQ_MINUTES = 7 * 24 * 60
_RACK = re.compile(r"^(?:rack)?0*(\d{1,4})$", re.IGNORECASE)
_ERRORS = {400: ErrorSerializer, 401: ErrorSerializer, 404: ErrorSerializer}

_PLANT = OpenApiParameter(
    "plantId", int, description="The plant (404 if not visible); default your default plant, else your only plant."
)


def _seed(body: dict, code: int = 200) -> Response:
    """A seed-003 body, sent in its snake_case."""
    response = Response(body, status=code)
    response.camelize = False
    return response


def _local_date(request: Request, name: str, plant: Plant, *, required: bool = False) -> date:
    """A date or datetime parameter as a plant-local date (a time without offset is already
    local; one with an offset is converted); default today, plant-local."""
    raw = request.query_params.get(name)
    if raw is None or raw.strip() == "":
        if required:
            raise InvalidParameter(name, "This parameter is required.")
        return timezone.now().astimezone(plant_tz(plant)).date()
    moment = datetime_from_text(raw, dates=True)
    if moment is None or not 1970 <= moment.year <= 2199:
        raise InvalidParameter(name, "Not a date, e.g. 2024-01-01 or 2024-01-01 00:00:00.", code="INVALID_DATE")
    return moment.astimezone(plant_tz(plant)).date() if moment.tzinfo else moment.date()


class _StorageView(PlantScopedAPIView):
    def storage_plant(self) -> Plant:
        return storage_plant_for(user=self.request.user, plant_id=id_param(self.request.query_params, "plant_id"))


def _number(raw: str, name: str, code: str) -> int:
    return parse_int(raw, name, low=1, high=10_000, code=code)


@extend_schema(
    tags=["storage"],
    parameters=[_PLANT, OpenApiParameter("rack", str, description="One rack only: rack01, 1...")],
    responses={200: s.Seed003BessTableSerializer, **_ERRORS},
)
class BessView(_StorageView):
    """Seed 003's BESS table: the plant's n-th BESS (1.. by id), its racks as columns."""

    def get(self, request: Request, bess_number: str) -> Response:
        plant = self.storage_plant()
        number = _number(bess_number, "bess_number", "BESS_NUMBER_OUT_OF_RANGE")
        rack = None
        raw = request.query_params.get("rack")
        if raw:
            match = _RACK.match(raw.strip())
            if match is None:
                raise InvalidParameter("rack", "A rack looks like rack01.", code="INVALID_RACK")
            rack = int(match.group(1))
        return _seed(bess_table(plant=plant, bess_number=number, rack=rack))


@extend_schema(tags=["storage"], parameters=[_PLANT], responses={200: s.Seed003PcsDetailSerializer, **_ERRORS})
class PcsView(_StorageView):
    """Seed 003's PCS detail: live values and the decoded status words of the n-th PCS."""

    def get(self, request: Request, pcs_number: str) -> Response:
        plant = self.storage_plant()
        number = _number(pcs_number, "pcs_number", "PCS_NUMBER_OUT_OF_RANGE")
        return _seed(pcs_detail(plant=plant, pcs_number=number))


@extend_schema(
    tags=["storage"],
    parameters=[_PLANT, OpenApiParameter("role", str, enum=MeterRole.values, description="Only meters of this role.")],
    responses={200: s.Seed003MetersSerializer, **_ERRORS},
)
class MetersView(_StorageView):
    """Seed 003's meter list, from the meters' latest values."""

    def get(self, request: Request) -> Response:
        plant = self.storage_plant()
        role = enum_param(request.query_params, "role", MeterRole.values)
        return _seed(meters_list(plant=plant, role=role))


@extend_schema(
    tags=["storage"],
    parameters=[
        _PLANT,
        OpenApiParameter("time", str, description="Plant-local date YYYY-MM-DD (default today)."),
        OpenApiParameter("data_type", str, enum=["chart", "summary"], description="Default chart."),
    ],
    responses={200: s.Seed003AuxMeterSerializer, **_ERRORS},
)
class AuxMeterView(_StorageView):
    """Seed 003's aux meter day: the 5-minute chart or the day's summary."""

    def get(self, request: Request) -> Response:
        plant = self.storage_plant()
        data_type = enum_param(request.query_params, "data_type", ["chart", "summary"], default="chart")
        day = _local_date(request, "time", plant)
        return _seed(aux_meter_day(plant=plant, day=day, data_type=data_type))


@extend_schema(
    tags=["storage"],
    parameters=[_PLANT, OpenApiParameter("deviceId", int, description="The inverter (default the plant's first).")],
    responses={200: s.Seed003InverterSerializer, **_ERRORS},
)
class InverterView(_StorageView):
    """Seed 003's inverter detail. ``?deviceId`` names the inverter (404 when not a visible
    inverter); without it, the first inverter of the plant (404 ``NO_INVERTER`` when none)."""

    def get(self, request: Request) -> Response:
        device_id = id_param(request.query_params, "device_id")
        inverters = Device.objects.filter(type=DeviceType.INVERTER).select_related("plant", "inverter_datasheet")
        if device_id is not None:
            inverter = device_get_for(user=request.user, device_id=device_id, queryset=inverters)
        else:
            plant = self.storage_plant()
            inverter = inverters.filter(plant=plant).order_by("id").first()
            if inverter is None:
                raise ApiError("The plant has no inverter.", code="NO_INVERTER", status_code=404)
        return _seed(inverter_detail(inverter=inverter))


@extend_schema(tags=["storage"], parameters=[_PLANT], responses={200: s.Seed003SystemOverviewSerializer, **_ERRORS})
class SystemOverviewView(_StorageView):
    """Seed 003's system overview: power flows, SoC/SoH, today's energies, device states and the
    platform services."""

    def get(self, request: Request) -> Response:
        return _seed(overview(plant=self.storage_plant()))


@extend_schema(tags=["storage"], parameters=[_PLANT], responses={200: s.Seed003TopologySerializer, **_ERRORS})
class SystemTopologyView(_StorageView):
    """Seed 003's topology: the platform services and the plant's device graph with live status."""

    def get(self, request: Request) -> Response:
        return _seed(topology(plant=self.storage_plant()))


@extend_schema(tags=["storage"], parameters=[_PLANT], responses={200: s.Seed003SidebarSerializer, **_ERRORS})
class ConfigSidebarView(_StorageView):
    """Seed 003's sidebar: device counts of the plant and its ``cctv_url``."""

    def get(self, request: Request) -> Response:
        return _seed(sidebar(plant=self.storage_plant()))


# --- dispatch -----------------------------------------------------------------------------------


@extend_schema(
    tags=["storage"],
    parameters=[
        _PLANT,
        OpenApiParameter("mode", str, enum=["all", *DispatchMode.values], description="Default all."),
        OpenApiParameter("weeks", int, description="1..52 (default 1)."),
        OpenApiParameter("start", str, description="First plant-local day (default this week's Monday)."),
    ],
    responses={200: s.Seed003ScheduleSerializer, **_ERRORS},
)
class ScheduleView(_StorageView):
    """Seed 003's schedule: the plant's dispatch events starting in the window."""

    def get(self, request: Request) -> Response:
        plant = self.storage_plant()
        mode = enum_param(request.query_params, "mode", ["all", *DispatchMode.values], default="all")
        weeks = int_param(request.query_params, "weeks", default=1, low=1, high=52)
        start = _local_date(request, "start", plant) if request.query_params.get("start") else None
        today = timezone.now().astimezone(plant_tz(plant)).date()
        body = schedule(plant=plant, mode=None if mode == "all" else mode, weeks=weeks, start=start, today=today)
        return _seed(body)


@extend_schema(
    tags=["storage"],
    parameters=[_PLANT, OpenApiParameter("start_time", str, description="The plant-local day (default today).")],
    responses={200: s.Seed003IncomeDailySerializer, **_ERRORS},
)
class IncomeDailyView(_StorageView):
    """Seed 003's daily income per plant-local hour (README: the income formula)."""

    def get(self, request: Request) -> Response:
        plant = self.storage_plant()
        return _seed(income_daily(plant=plant, day=_local_date(request, "start_time", plant)))


@extend_schema(
    tags=["storage"],
    parameters=[_PLANT, OpenApiParameter("start_time", str, required=True, description="The month, YYYY-MM.")],
    responses={200: s.Seed003IncomeMonthlySerializer, **_ERRORS},
)
class IncomeMonthlyView(_StorageView):
    """Seed 003's monthly income per plant-local day."""

    def get(self, request: Request) -> Response:
        plant = self.storage_plant()
        month = month_param(request.query_params.get("start_time"), "start_time")
        return _seed(income_monthly(plant=plant, month=month))


@extend_schema(
    tags=["storage"],
    parameters=[
        _PLANT,
        OpenApiParameter("date", str, required=True, description="The plant-local day."),
        OpenApiParameter("data_type", str, enum=["exec_rate", "roll_exec_rate", "hour_exec_rate"]),
    ],
    responses={200: s.Seed003ExecRateSerializer, **_ERRORS},
)
class ExecRateView(_StorageView):
    """Seed 003's execution-rate series of a day's awarded blocks."""

    def get(self, request: Request) -> Response:
        plant = self.storage_plant()
        data_type = enum_param(
            request.query_params, "data_type", ["exec_rate", "roll_exec_rate", "hour_exec_rate"], default="exec_rate"
        )
        day = _local_date(request, "date", plant, required=True)
        return _seed(exec_rate_series(plant=plant, day=day, data_type=data_type))


# --- analysis -----------------------------------------------------------------------------------


@extend_schema(
    tags=["storage"],
    parameters=[
        _PLANT,
        OpenApiParameter("start_time", str, required=True, description="First plant-local day."),
        OpenApiParameter("days", int, description=f"1..{MAX_ANALYSIS_DAYS} (default 7)."),
    ],
    responses={200: s.Seed003PowerLossSerializer, **_ERRORS},
)
class PowerLossView(_StorageView):
    """Seed 003's power loss: charge, discharge, loss, efficiency and aux energy per day."""

    def get(self, request: Request) -> Response:
        plant = self.storage_plant()
        first = _local_date(request, "start_time", plant, required=True)
        days = int_param(request.query_params, "days", default=7, low=1, high=MAX_ANALYSIS_DAYS)
        return _seed(power_loss(plant=plant, first=first, days=days))


@extend_schema(
    tags=["storage"],
    parameters=[
        _PLANT,
        OpenApiParameter("select_time", str, required=True, description="The plant-local day (monthly: its month)."),
        OpenApiParameter("data_type", str, enum=["daily", "monthly"], description="Default daily."),
    ],
    responses={200: s.Seed003PowerIoSerializer, **_ERRORS},
)
class PowerIoView(_StorageView):
    """Seed 003's charge/discharge energy, per hour of a day or per day of a month."""

    def get(self, request: Request) -> Response:
        plant = self.storage_plant()
        data_type = enum_param(request.query_params, "data_type", ["daily", "monthly"], default="daily")
        day = _local_date(request, "select_time", plant, required=True)
        return _seed(power_io(plant=plant, day=day, data_type=data_type))


@extend_schema(
    tags=["storage"],
    parameters=[
        _PLANT,
        OpenApiParameter("date_period", int, required=True, description=f"Window in minutes, 5..{MAX_FREQ_MINUTES}."),
        OpenApiParameter("select_time", str, description="End of the window in selectTimeMode (ISO 8601)."),
        OpenApiParameter("select_mode", str, enum=["normalMode", "selectTimeMode"], description="Default normalMode."),
    ],
    responses={200: s.Seed003FreqPowerSerializer, **_ERRORS},
)
class FreqPowerView(_StorageView):
    """Seed 003's frequency/power chart: 5-minute means as ``[epoch_ms, value]`` and the
    nominal-frequency baseline. normalMode: the window ending now; selectTimeMode: ending at
    ``select_time``."""

    def get(self, request: Request) -> Response:
        plant = self.storage_plant()
        raw = request.query_params.get("date_period")
        if raw is None or raw == "":
            raise InvalidParameter("date_period", "This parameter is required.")
        period = parse_int(raw, "date_period", low=5, high=MAX_FREQ_MINUTES)
        mode = enum_param(request.query_params, "select_mode", ["normalMode", "selectTimeMode"], default="normalMode")
        select_time = None
        if request.query_params.get("select_time"):
            select_time = parse_time(request.query_params["select_time"], "select_time")
        if mode == "selectTimeMode" and select_time is None:
            raise InvalidParameter("select_time", "selectTimeMode needs select_time.")
        end = select_time if mode == "selectTimeMode" else timezone.now()
        return _seed(freq_power(plant=plant, period_minutes=period, end=end, select_time=select_time, mode=mode))


# --- storage KPIs and dispatch events (ordinary /api/ resources, camelCase) --------------------------


@extend_schema(
    tags=["storage"],
    parameters=[
        OpenApiParameter("start", str, description="First plant-local day (default 30 days ago)."),
        OpenApiParameter(
            "end", str, description=f"Last plant-local day, inclusive (default yesterday; at most {MAX_KPI_DAYS} days)."
        ),
    ],
    responses={200: s.StorageKpisSerializer, **_ERRORS},
)
class StorageKpisView(PlantScopedAPIView):
    """Battery KPIs of the plant over plant-local days (README: the KPI definitions)."""

    def get(self, request: Request, plant_id: int) -> Response:
        plant = self.plant
        today = timezone.now().astimezone(plant_tz(plant)).date()
        end = _local_date(request, "end", plant) if request.query_params.get("end") else today - timedelta(days=1)
        start = _local_date(request, "start", plant) if request.query_params.get("start") else end - timedelta(days=29)
        if start > end:
            raise InvalidParameter("start", "start must not be after end.")
        if (end - start).days + 1 > MAX_KPI_DAYS:
            raise InvalidParameter("start", f"The window is at most {MAX_KPI_DAYS} days.")
        return Response(storage_kpis(plant=plant, first=start, last=end))


@extend_schema(tags=["storage"])
class DispatchEventViewSet(PlantScopedViewSet):
    """Dispatch events (seed 003's schedule rows) of the plants you see (``?plantId``,
    ``?mode``, ``?isGet``, ``?since``/``?until`` on ``timeStart``). Writing needs ``operate``."""

    queryset = DispatchEvent.objects.all()
    serializer_class = s.DispatchEventSerializer
    filterset_class = DispatchEventFilter
    ordering_fields = ["time_start", "id"]
    ordering = ["time_start", "id"]
    lookup_value_regex = r"\d+"
    plant_actions = {
        "list": None,
        "retrieve": None,
        "create": PlantAction.OPERATE,
        "update": PlantAction.OPERATE,
        "partial_update": PlantAction.OPERATE,
        "destroy": PlantAction.OPERATE,
    }

    def get_serializer_class(self):
        return (
            s.DispatchEventUpdateSerializer
            if self.action in ("update", "partial_update")
            else s.DispatchEventSerializer
        )

    @extend_schema(request=s.DispatchEventSerializer, responses={201: s.DispatchEventSerializer, **_ERRORS})
    def create(self, request, *args, **kwargs):
        payload = s.DispatchEventSerializer(data=request.data, context={"request": request})
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        plant = data.pop("plant")
        event = dispatch_event_create(
            by=request.user, plant_id=plant.pk, **{k: v for k, v in data.items() if k in DISPATCH_FIELDS}
        )
        return Response(s.DispatchEventSerializer(event).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.DispatchEventUpdateSerializer, responses={200: s.DispatchEventSerializer, **_ERRORS})
    def update(self, request, *args, **kwargs):
        event = self.get_object()
        payload = s.DispatchEventUpdateSerializer(
            event, data=request.data, partial=kwargs.get("partial", False), context={"request": request}
        )
        payload.is_valid(raise_exception=True)
        fields = {k: v for k, v in payload.validated_data.items() if k in DISPATCH_FIELDS}
        event = dispatch_event_update(by=request.user, event=event, **fields)
        return Response(s.DispatchEventSerializer(event).data)

    def perform_destroy(self, instance: DispatchEvent) -> None:
        with transaction.atomic():
            plant_get_for(lock=True, user=self.request.user, plant_id=instance.plant_id, action=PlantAction.OPERATE)
            instance.delete()
