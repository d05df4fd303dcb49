"""URL patterns of the alarms insights (summary, analytics, seed 003's header and alert words)."""

from django.urls import path

from . import insights

urlpatterns = [
    path("alarms/summary", insights.AlarmSummaryView.as_view(), name="alarm-summary"),
    path("alarms/analytics", insights.AlarmAnalyticsView.as_view(), name="alarm-analytics"),
    path("config/header", insights.ConfigHeaderView.as_view(), name="config-header"),
    path("pcs/alert", insights.PcsAlertView.as_view(), name="pcs-alert"),
    path("bess/alert/rack/<str:rack_number>", insights.BessRackAlertView.as_view(), name="bess-rack-alert"),
]
