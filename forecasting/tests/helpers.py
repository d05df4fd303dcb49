"""Plant builders and telemetry helpers for the forecasting tests."""

from __future__ import annotations

from plants.choices import DeviceType, Tracking
from plants.hooks import plant_created_send
from plants.models import Device, InverterDatasheet, PanelSpec, Plant

PANEL = {
    "manufacturer_name": "Test",
    "panel_type": "T-400",
    "p_max_w": 400.0,
    "efficiency_pct": 20.5,
    "max_system_voltage_v": 1000,
    "max_series_fuse_rating_a": 20,
    "coefficient_pmax_pct": -0.35,
}


def configured_plant(
    *,
    code: str = "FC-1",
    owner=None,
    installer=None,
    inverters: int = 1,
    inverter_kw: float = 50.0,
    strings: int = 7,
    panels_per_string: int = 20,
    european_efficiency_pct: float | None = 98.0,
    weather_station: bool = True,
    **fields,
) -> Plant:
    """A fully described plant: panel spec, inverters with datasheets, optionally a WMS."""
    from plants.services import plant_memberships_sync

    modules = inverters * strings * panels_per_string
    defaults = {
        "name": f"Plant {code}",
        "plant_code": code,
        "latitude": 37.39,
        "longitude": -122.03,
        "elevation_m": 38.0,
        "timezone": "America/Los_Angeles",
        "total_power_output_kw": modules * PANEL["p_max_w"] / 1000.0,
        "no_of_panels": modules,
        "panel_per_string": panels_per_string,
        "string_per_inverter": strings,
        "no_of_inverters": inverters,
        "tracking": Tracking.FIXED,
        "surface_tilt": 20.0,
        "surface_azimuth": 180.0,
        "system_losses_pct": 14.0,
        "albedo": 0.2,
    }
    plant = Plant.objects.create(owner=owner, installer=installer, **{**defaults, **fields})
    plant_created_send(plant=plant)  # as plant_create does (the default alarm rules)
    plant_memberships_sync(plant=plant)
    PanelSpec.objects.create(plant=plant, **PANEL)
    for i in range(inverters):
        device = Device.objects.create(
            plant=plant, type=DeviceType.INVERTER, name=f"Inv {i + 1}", serial_number=f"{code}-INV-{i + 1}"
        )
        InverterDatasheet.objects.create(
            device=device, nominal_output_power_kw=inverter_kw, european_efficiency_pct=european_efficiency_pct
        )
    if weather_station:
        Device.objects.create(plant=plant, type=DeviceType.WEATHER_STATION, name="WMS", serial_number=f"{code}-WMS")
    return plant


def ingest(plant: Plant, rows_by_serial: dict[str, list[tuple]]) -> int:
    """Store ``[(ts, {metric: value})]`` per device serial through the telemetry ingest service
    (in chunks under its batch limit)."""
    from telemetry.ingest import telemetry_ingest

    readings = []
    for serial, rows in rows_by_serial.items():
        device_id = Device.objects.get(plant=plant, serial_number=serial).pk
        readings += [
            {"deviceId": device_id, "timestamp": ts.isoformat(), "metrics": {k: float(v) for k, v in values.items()}}
            for ts, values in rows
        ]
    accepted = 0
    for i in range(0, len(readings), 2000):
        result = telemetry_ingest(plant_ids=[plant.pk], readings=readings[i : i + 2000])
        accepted += result.accepted
    return accepted
