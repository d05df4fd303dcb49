from django.apps import AppConfig


class ForecastingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "forecasting"
    verbose_name = "Forecasting"

    def ready(self) -> None:
        from . import jobs  # noqa: F401  -- registers the forecast-run job kind
