"""URL patterns of the storage API, without trailing slashes. ``pcs/{n}`` and ``bess/{n}`` take
any one segment (a malformed number is a 400, not a 404) but never ``alert`` — seed 003's alert
routes belong to the alarms app, included before this module."""

from django.urls import path, re_path
from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter(trailing_slash=False)
router.register("dispatch-events", views.DispatchEventViewSet, basename="dispatch-event")

urlpatterns = [
    re_path(r"^bess/(?P<bess_number>(?!alert$)[^/]+)$", views.BessView.as_view(), name="bess-detail"),
    re_path(r"^pcs/(?P<pcs_number>(?!alert$)[^/]+)$", views.PcsView.as_view(), name="pcs-detail"),
    path("meters", views.MetersView.as_view(), name="meters"),
    path("meters/aux", views.AuxMeterView.as_view(), name="meters-aux"),
    path("inverter", views.InverterView.as_view(), name="inverter-detail"),
    path("system/overview", views.SystemOverviewView.as_view(), name="system-overview"),
    path("system/topology", views.SystemTopologyView.as_view(), name="system-topology"),
    path("config/sidebar", views.ConfigSidebarView.as_view(), name="config-sidebar"),
    path("schedule", views.ScheduleView.as_view(), name="schedule"),
    path("schedule/income/daily", views.IncomeDailyView.as_view(), name="schedule-income-daily"),
    path("schedule/income/monthly", views.IncomeMonthlyView.as_view(), name="schedule-income-monthly"),
    path("schedule/exec-rate", views.ExecRateView.as_view(), name="schedule-exec-rate"),
    path("analysis/power-loss", views.PowerLossView.as_view(), name="analysis-power-loss"),
    path("analysis/power-io", views.PowerIoView.as_view(), name="analysis-power-io"),
    path("analysis/freq-power", views.FreqPowerView.as_view(), name="analysis-freq-power"),
    path("plants/<int:plant_id>/storage/kpis", views.StorageKpisView.as_view(), name="storage-kpis"),
    *router.urls,
]
