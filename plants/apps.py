from django.apps import AppConfig


class PlantsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "plants"
    verbose_name = "Plants"
