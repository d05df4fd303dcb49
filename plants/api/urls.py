"""URL patterns of the plants API (no trailing slashes)."""

from django.urls import re_path
from rest_framework.routers import SimpleRouter

from plants.choices import DEVICE_GROUPS

from . import views

router = SimpleRouter(trailing_slash=False)
router.register("plants", views.PlantViewSet, basename="plant")
router.register("devices", views.DeviceViewSet, basename="device")

_groups = "|".join(DEVICE_GROUPS)

urlpatterns = [
    *router.urls,
    re_path(rf"^devices/(?P<group>{_groups})$", views.DeviceGroupListView.as_view(), name="device-group"),
    re_path(
        r"^invitations/(?P<token>[A-Za-z0-9_-]{16,128})/accept$",
        views.InvitationAcceptView.as_view(),
        name="invitation-accept",
    ),
]
