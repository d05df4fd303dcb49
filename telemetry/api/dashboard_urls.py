"""Dashboard and monitoring routes (seed 000's ``/dashboard`` and ``/monitoring`` routers)."""

from django.urls import path

from . import dashboard

urlpatterns = [
    path("dashboard/overview", dashboard.DashboardOverviewView.as_view(), name="dashboard-overview"),
    path("dashboard/realtime-power", dashboard.RealtimePowerView.as_view(), name="dashboard-realtime-power"),
    path("dashboard/daily-energy", dashboard.DailyEnergyView.as_view(), name="dashboard-daily-energy"),
    path("monitoring/devices", dashboard.MonitoredDeviceListView.as_view(), name="monitoring-devices"),
    path(
        "monitoring/metrics/<str:device_type>/<int:device_id>",
        dashboard.DeviceMetricsView.as_view(),
        name="monitoring-metrics",
    ),
]
