from django.apps import AppConfig
from django.db.models.signals import pre_delete, pre_save


class TelemetryConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "telemetry"
    verbose_name = "Telemetry"

    def ready(self) -> None:
        from plants.models import Device

        from .rollups.plant_power import on_device_pre_delete, on_device_pre_save

        pre_save.connect(on_device_pre_save, sender=Device, dispatch_uid="telemetry-plant-power-device-save")
        pre_delete.connect(on_device_pre_delete, sender=Device, dispatch_uid="telemetry-plant-power-device-delete")
