"""URL patterns of the telemetry API, without trailing slashes."""

from django.urls import path

from . import views

urlpatterns = [
    path("telemetry/ingest", views.IngestView.as_view(), name="telemetry-ingest"),
    path("plants/<int:plant_id>/ingest-keys", views.IngestKeyListView.as_view(), name="plant-ingest-keys"),
    path(
        "plants/<int:plant_id>/ingest-keys/<int:key_id>",
        views.IngestKeyDetailView.as_view(),
        name="plant-ingest-key-detail",
    ),
]
