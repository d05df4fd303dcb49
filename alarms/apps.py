from django.apps import AppConfig


class AlarmsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "alarms"
    verbose_name = "Alarms"

    def ready(self) -> None:
        from . import signals  # noqa: F401 -- connects the receivers
