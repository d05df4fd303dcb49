"""URL patterns of the alarms API, without trailing slashes."""

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter(trailing_slash=False)
router.register("alarms", views.AlarmViewSet, basename="alarm")
router.register("alarm-rules", views.AlarmRuleViewSet, basename="alarm-rule")

urlpatterns = [
    path("", include("alarms.api.insights_urls")),
    path("", include("alarms.api.webhook_urls")),
    *router.urls,
]
