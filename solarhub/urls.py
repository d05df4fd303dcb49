"""URL map. The API is mounted twice with identical patterns: ``/api/`` (seed 001's SPA
contract) and ``/api/v1/`` (seed 003's paths). Paths have no trailing slash; one added also
works (``OptionalTrailingSlashMiddleware``). Unknown URLs answer a JSON 404."""

from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from solarhub import health
from solarhub.api.errors import NOT_FOUND_URL_NAME, not_found_view
from solarhub.jobs.api import views as job_views
from twins.views import twin_viewer

jobs_patterns = [
    path("jobs", job_views.JobListView.as_view(), name="job-list"),
    path("jobs/selfcheck", job_views.SelfCheckJobView.as_view(), name="job-selfcheck"),
    path("jobs/<uuid:pk>", job_views.JobDetailView.as_view(), name="job-detail"),
]

api_patterns = [
    path("", include("accounts.api.urls")),
    path("", include("plants.api.urls")),
    path("", include("telemetry.api.urls")),
    path("", include("alarms.api.urls")),
    path("", include("reports.api.urls")),
    path("", include("twins.api.urls")),
    path("", include("forecasting.api.urls")),
    path("", include("collector.api.urls")),
    path("", include("shadow.api.urls")),
    path("", include("storage.api.urls")),  # after alarms: its bess/alert and pcs/alert come first
    *jobs_patterns,
]

urlpatterns = [
    path("", health.RootView.as_view(), name="root"),
    path("health", health.HealthView.as_view(), name="health"),
    path("health/live", health.LiveView.as_view(), name="health-live"),
    path("health/ready", health.ReadyView.as_view(), name="health-ready"),
    path("health/detailed", health.DetailedView.as_view(), name="health-detailed"),
    path("admin/", admin.site.urls),
    path("twins/<int:pk>/view", twin_viewer, name="twin-viewer"),
    path("accounts/", include("allauth.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
    path("api/v1/", include((api_patterns, "api"), namespace="v1")),
    path("api/", include((api_patterns, "api"), namespace="api")),
    re_path(r"^.*$", not_found_view, name=NOT_FOUND_URL_NAME),
]

handler400 = "solarhub.api.errors.bad_request"
handler403 = "solarhub.api.errors.permission_denied"
handler404 = "solarhub.api.errors.page_not_found"
handler500 = "solarhub.api.errors.server_error"
