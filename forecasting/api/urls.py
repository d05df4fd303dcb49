"""URL patterns of the forecasting API, without trailing slashes."""

from django.urls import path

from . import views

urlpatterns = [
    path("predicted-generation", views.ForecastListView.as_view(), name="predicted-generation-list"),
    path("predicted-generation/run", views.ForecastRunView.as_view(), name="predicted-generation-run"),
    path("predicted-generation/accuracy", views.ForecastAccuracyView.as_view(), name="predicted-generation-accuracy"),
    path("predicted-generation/<int:pk>", views.ForecastDetailView.as_view(), name="predicted-generation-detail"),
    path("plants/<int:plant_id>/expected-power", views.PlantExpectedPowerView.as_view(), name="plant-expected-power"),
    path(
        "plants/<int:plant_id>/forecast-calibrations",
        views.PlantCalibrationListView.as_view(),
        name="plant-forecast-calibrations",
    ),
]
