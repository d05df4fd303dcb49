"""URL patterns of the telemetry API, without trailing slashes."""

from django.urls import include, path

from . import events, views

urlpatterns = [
    path("", include("telemetry.api.timeseries_urls")),
    path("", include("telemetry.api.dashboard_urls")),
    path("telemetry/ingest", views.IngestView.as_view(), name="telemetry-ingest"),
    path("devices/<int:device_id>/events", events.DeviceEventListView.as_view(), name="device-events"),
    path("plants/<int:plant_id>/ingest-keys", views.IngestKeyListView.as_view(), name="plant-ingest-keys"),
    path(
        "plants/<int:plant_id>/ingest-keys/<int:key_id>",
        views.IngestKeyDetailView.as_view(),
        name="plant-ingest-key-detail",
    ),
]
