from django.apps import AppConfig


class AccountsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from . import signals  # noqa: F401 -- revokes refresh tokens when a password changes
        from .api import schema  # noqa: F401 -- registers the OpenAPI security schemes
