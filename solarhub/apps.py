from django.apps import AppConfig


class SolarHubConfig(AppConfig):
    """The project package is also an app: it owns the shared job-status model and commands."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "solarhub"
    verbose_name = "SolarHub platform"

    def ready(self) -> None:
        from . import jobs  # noqa: F401  -- registers the built-in job handlers

        try:
            from .db import utc_datetime_dumpers_register
        except ImportError:  # no psycopg (a SQLite-only install)
            return
        utc_datetime_dumpers_register()
