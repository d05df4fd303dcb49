"""URL patterns of the reports API, without trailing slashes."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter(trailing_slash=False)
router.register("reports", views.ReportViewSet, basename="report")

urlpatterns = [
    path("plants/<int:plant_id>/kpis", views.PlantKpiView.as_view(), name="plant-kpis"),
    *router.urls,
]
