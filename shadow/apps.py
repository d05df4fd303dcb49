from django.apps import AppConfig


class ShadowConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "shadow"
    verbose_name = "Shadow analysis"

    def ready(self) -> None:
        from . import jobs  # noqa: F401  -- registers the shadow-run job kind
