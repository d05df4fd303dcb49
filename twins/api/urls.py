"""URL patterns of the twins API, without trailing slashes."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter(trailing_slash=False)
router.register("digital-twins", views.DigitalTwinViewSet, basename="digital-twin")

urlpatterns = [
    *router.urls,
    path(
        "plants/<int:plant_id>/digital-twin/generate",
        views.PlantTwinGenerateView.as_view(),
        name="plant-digital-twin-generate",
    ),
]
