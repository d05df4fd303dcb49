from django.apps import AppConfig


class ForecastingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "forecasting"
    verbose_name = "Forecasting"

    def ready(self) -> None:
        from plants.hooks import plant_model_readiness_register

        from . import jobs  # noqa: F401 -- registers the forecast-run job kind
        from .selectors import plant_model_readiness

        # plants shows the readiness (API, admin, imports) without importing forecasting
        plant_model_readiness_register(plant_model_readiness)
