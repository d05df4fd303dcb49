from django.apps import AppConfig


class TwinsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "twins"
    verbose_name = "Digital twins"
