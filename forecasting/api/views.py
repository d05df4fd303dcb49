"""Views of the forecasting API (mounted at /api/ and /api/v1/).

Plant scoping: lists and details filter by ``plant_ids_visible_to`` (a subquery); plants are
looked up through ``plants.selectors.plant_get_for`` (``PlantScopedAPIView``): a plant you cannot
see is 404, a visible plant where your role does not allow ``operate`` is 403 (running and
posting forecasts), re-checked with ``lock=True`` inside the transaction.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.db import transaction
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, generics, status
from rest_framework.response import Response

from forecasting import selectors, services
from forecasting.filters import ForecastFilter
from forecasting.jobs import forecast_run_request
from plants.access import PlantAction
from plants.selectors import plant_get_for
from solarhub.api.params import time_param
from solarhub.api.schema import ErrorSerializer
from solarhub.api.scoping import PlantScopedAPIView
from solarhub.jobs.api.serializers import JobAcceptedSerializer, job_accepted_body

from .serializers import (
    AccuracyQuerySerializer,
    AccuracyResponseSerializer,
    ExpectedPowerQuerySerializer,
    ExpectedPowerResponseSerializer,
    ForecastAccuracySerializer,
    ForecastRunSerializer,
    GenerationForecastCreateSerializer,
    GenerationForecastDetailSerializer,
    GenerationForecastSerializer,
    PlantCalibrationSerializer,
)

DEFAULT_EXPECTED_RANGE = timedelta(hours=24)


@extend_schema(tags=["predicted-generation"])
class ForecastListView(generics.ListCreateAPIView):
    """``GET``: forecasts of the plants you may see, newest forecast date first (``?plantId``,
    ``?horizon``, ``?source``, ``?forecastDate``). ``POST``: store an externally computed
    forecast (seed 000), which needs the ``operate`` right on the plant."""

    filterset_class = ForecastFilter
    serializer_class = GenerationForecastSerializer

    def get_queryset(self):
        return selectors.forecast_list_visible_to(self.request.user).order_by("-forecast_date", "-id")

    @extend_schema(request=GenerationForecastCreateSerializer, responses={201: GenerationForecastDetailSerializer})
    def post(self, request):
        payload = GenerationForecastCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        with transaction.atomic():
            plant = plant_get_for(user=request.user, plant_id=data["plant_id"], action=PlantAction.OPERATE, lock=True)
            forecast = services.forecast_create(
                plant=plant,
                by=request.user,
                forecast_date=data["forecast_date"],
                horizon=data["horizon"],
                data_points=data["data_points"],
                summary=data.get("summary"),
                resolution=data.get("resolution"),
            )
        return Response(GenerationForecastDetailSerializer(forecast).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["predicted-generation"])
class ForecastDetailView(generics.RetrieveAPIView):
    """One forecast with the model configuration it used. Invisible → 404."""

    serializer_class = GenerationForecastDetailSerializer

    def get_queryset(self):
        return selectors.forecast_list_visible_to(self.request.user).select_related(None)


@extend_schema(tags=["predicted-generation"])
class ForecastRunView(PlantScopedAPIView):
    """Start a forecast run (a job): 202 ``{id, status, statusUrl}``; the finished job's
    ``result`` is ``{forecastId}``. Parameters, the plant record and posted weather are checked
    before the job is queued, so mistakes are a 400 here rather than a failed job later. The
    same request while an identical run is still queued answers that job."""

    @extend_schema(request=ForecastRunSerializer, responses={202: JobAcceptedSerializer})
    def post(self, request):
        payload = ForecastRunSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        job, _created = forecast_run_request(
            by=request.user,
            plant_id=data["plant_id"],
            horizon=data["horizon"],
            source=data["source"],
            start=data.get("start"),
            weather=data.get("weather"),
        )
        return Response(job_accepted_body(job, request), status=status.HTTP_202_ACCEPTED)


@extend_schema(tags=["predicted-generation"])
class ForecastAccuracyView(PlantScopedAPIView):
    """Accuracy of a plant's past forecasts over time (MAE, RMSE, nMAE by capacity, bias, skill
    against smart persistence), oldest first, and the point-weighted overall figures."""

    @extend_schema(
        parameters=[AccuracyQuerySerializer],
        responses={200: AccuracyResponseSerializer, 400: OpenApiResponse(ErrorSerializer)},
    )
    def get(self, request):
        query = AccuracyQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        plant = self.plant_for(query.validated_data["plant_id"])
        horizon = query.validated_data.get("horizon")
        rows = selectors.forecast_accuracy_list(plant=plant, horizon=horizon)
        return Response(
            {
                "plant_id": plant.pk,
                "horizon": horizon,
                "capacity_kw": plant.total_power_output_kw,
                "timezone": plant.timezone,
                "results": ForecastAccuracySerializer(rows, many=True).data,
                "overall": selectors.accuracy_overall(rows, capacity_kw=plant.total_power_output_kw),
            }
        )


# The pvlib model and the weather sources know nothing outside these years.
_EXPECTED_EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
_EXPECTED_LATEST = datetime(2101, 1, 1, tzinfo=UTC) - timedelta(microseconds=1)


@extend_schema(tags=["predicted-generation"])
class PlantExpectedPowerView(PlantScopedAPIView):
    """Modelled AC power from the plant's measured weather vs its actual AC power, per 5-minute
    bucket (hourly beyond ~17 days, at most 92 days), with the ratio, over ``[start, end)``
    (default the last 24 h)."""

    @extend_schema(
        parameters=[ExpectedPowerQuerySerializer],
        responses={
            200: ExpectedPowerResponseSerializer,
            400: OpenApiResponse(
                ErrorSerializer,
                description="Bad range (VALIDATION_ERROR, RANGE_TOO_LONG) or plant record (PLANT_CONFIG_INVALID).",
            ),
        },
    )
    def get(self, request, plant_id: int):
        plant = self.plant
        query = ExpectedPowerQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        bounds = {"earliest": _EXPECTED_EARLIEST, "latest": _EXPECTED_LATEST}
        end = time_param(query.validated_data, "end", **bounds)
        start = time_param(query.validated_data, "start", **bounds)
        end = end or (start + DEFAULT_EXPECTED_RANGE if start else timezone.now())
        start = start or end - DEFAULT_EXPECTED_RANGE
        if start >= end:
            raise exceptions.ValidationError({"start": ["start must be before end."]})
        return Response(selectors.plant_expected_power(plant=plant, start=start, end=end))


@extend_schema(tags=["predicted-generation"])
class PlantCalibrationListView(PlantScopedAPIView):
    """The plant's self-calibration fits, newest first: the factor (and hour-of-day shape), the
    held-out RMSE before/after and whether forecasts apply it."""

    @extend_schema(responses={200: PlantCalibrationSerializer(many=True)})
    def get(self, request, plant_id: int):
        return Response(PlantCalibrationSerializer(selectors.plant_calibration_list(plant=self.plant), many=True).data)
