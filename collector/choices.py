from django.db import models


class Driver(models.TextChoices):
    SUNSPEC_MODBUS_TCP = "sunspec_modbus_tcp", "SunSpec Modbus TCP"
    HTTP_JSON = "http_json", "HTTP JSON"


DEFAULT_PORTS = {Driver.SUNSPEC_MODBUS_TCP: 502, Driver.HTTP_JSON: 80}
