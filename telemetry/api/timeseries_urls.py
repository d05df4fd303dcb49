"""Time-series reading routes (device/plant series, batch)."""

from django.urls import path

from . import timeseries

urlpatterns = [
    path("devices/<int:device_id>/timeseries", timeseries.DeviceTimeseriesView.as_view(), name="device-timeseries"),
    path(
        "devices/<int:device_id>/timeseries/batch",
        timeseries.DeviceTimeseriesBatchView.as_view(),
        name="device-timeseries-batch",
    ),
    path("plants/<int:plant_id>/timeseries", timeseries.PlantTimeseriesView.as_view(), name="plant-timeseries"),
]
