"""URL patterns of the collector API, without trailing slashes."""

from django.urls import path

from . import views

urlpatterns = [
    path("devices/<int:device_id>/collection", views.DeviceCollectionView.as_view(), name="device-collection"),
    path(
        "devices/<int:device_id>/collection/test",
        views.DeviceCollectionTestView.as_view(),
        name="device-collection-test",
    ),
]
