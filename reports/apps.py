from django.apps import AppConfig


class ReportsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "reports"
    verbose_name = "Reports"

    def ready(self) -> None:
        from telemetry.signals import hours_folded

        from . import jobs  # noqa: F401  -- registers the report job kind
        from .kpis.cache import on_hours_folded

        hours_folded.connect(on_hours_folded, dispatch_uid="reports.kpi_days_mark_changed")
