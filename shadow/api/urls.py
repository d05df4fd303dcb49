"""URL patterns of the shadow-analysis API, without trailing slashes."""

from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter(trailing_slash=False)
router.register("shadow-analysis", views.ShadowRunViewSet, basename="shadow-analysis")

urlpatterns = [*router.urls]
