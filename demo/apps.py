from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo data of ``make run`` (``seed_demo``). It composes every app (accounts, plants,
    telemetry, alarms, forecasting), so it is an app of its own at the top of the stack: the
    project package ``solarhub`` imports no feature app (``solarhub/tests/test_layering.py``)."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "demo"
    verbose_name = "Demo data"
