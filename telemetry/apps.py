from django.apps import AppConfig
from django.db.models.signals import pre_delete, pre_save


class TelemetryConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "telemetry"
    verbose_name = "Telemetry"

    def ready(self) -> None:
        # Models and services load only once the registry is ready, hence the imports here.
        from plants import hooks
        from plants.live import live_annotators_register
        from plants.models import Device

        from .live.status import device_live_annotate, plant_live_annotate
        from .rollups.plant_power import on_device_pre_delete, on_device_pre_save
        from .signals import on_devices_deleting, on_plant_handed_over

        pre_save.connect(on_device_pre_save, sender=Device, dispatch_uid="telemetry-plant-power-device-save")
        pre_delete.connect(on_device_pre_delete, sender=Device, dispatch_uid="telemetry-plant-power-device-delete")
        # plants asks, without importing telemetry (plants.hooks, plants.live):
        live_annotators_register(devices=device_live_annotate, plants=plant_live_annotate)
        hooks.plant_handed_over.connect(on_plant_handed_over, dispatch_uid="telemetry-revoke-ingest-keys")
        hooks.devices_deleting.connect(on_devices_deleting, dispatch_uid="telemetry-purge-readings")
