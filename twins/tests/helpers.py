"""Registry fixtures of the twins tests: a fixed-tilt roof and a single-axis tracker farm with
panel specs, inverters and string boxes, as an installer would register them."""

from __future__ import annotations

from plants.choices import DeviceType, Tracking
from plants.models import Device, InverterDatasheet, PanelSpec, Plant, StringBoxDatasheet

MODULE_420 = {"dimension_length_mm": 1722.0, "dimension_width_mm": 1134.0, "dimension_depth_mm": 30.0}
MODULE_540 = {"dimension_length_mm": 2256.0, "dimension_width_mm": 1133.0, "dimension_depth_mm": 35.0}


def registry_add(plant: Plant, *, module: dict, inverters: int, boxes_per_inverter: int, strings_per_box: int):
    PanelSpec.objects.create(
        plant=plant,
        manufacturer_name="Test",
        panel_type=f"M-{int(module['dimension_length_mm'])}",
        p_max_w=420.0,
        efficiency_pct=21.0,
        max_system_voltage_v=1500,
        max_series_fuse_rating_a=25,
        **module,
    )
    for i in range(1, inverters + 1):
        inverter = Device.objects.create(
            plant=plant, type=DeviceType.INVERTER, name=f"Inverter {i}", serial_number=f"{plant.plant_code}-INV{i}"
        )
        InverterDatasheet.objects.create(
            device=inverter, dimension_length_mm=630.0, dimension_width_mm=546.0, dimension_depth_mm=276.0
        )
        for b in range(1, boxes_per_inverter + 1):
            box = Device.objects.create(
                plant=plant,
                type=DeviceType.STRING_MONITORING_BOX,
                name=f"Box {i}.{b}",
                serial_number=f"{plant.plant_code}-SMB{i}{b}",
                parent=inverter,
            )
            StringBoxDatasheet.objects.create(device=box, no_strings=strings_per_box)
    return plant


def roof_configure(plant: Plant) -> Plant:
    """240 modules of 1722 x 1134 mm at 20° south: 12 strings of 20, 2 per row, 6 per inverter,
    GCR 0.5 (pitch 3.444 m); 2 inverters with 2 string boxes of 3 strings each."""
    Plant.objects.filter(pk=plant.pk).update(
        tracking=Tracking.FIXED,
        surface_tilt=20.0,
        surface_azimuth=180.0,
        gcr=0.5,
        no_of_panels=240,
        panel_per_string=20,
        string_per_row=2,
        string_per_inverter=6,
        no_of_inverters=2,
    )
    plant.refresh_from_db()
    return registry_add(plant, module=MODULE_420, inverters=2, boxes_per_inverter=2, strings_per_box=3)


def farm_configure(plant: Plant, *, panels: int = 2340) -> Plant:
    """A 1P single-axis tracker farm: 26-module strings, 3 per row, 45 per inverter, GCR 0.35
    (pitch 6.4457 m), N-S axis; 2 inverters with 3 combiners of 15 strings each."""
    Plant.objects.filter(pk=plant.pk).update(
        tracking=Tracking.SINGLE_AXIS,
        surface_tilt=None,
        surface_azimuth=None,
        axis_tilt=0.0,
        axis_azimuth=180.0,
        max_angle=60.0,
        backtrack=True,
        gcr=0.35,
        no_of_panels=panels,
        panel_per_string=26,
        string_per_row=3,
        string_per_inverter=45,
        no_of_inverters=2,
        latitude=34.747,
        longitude=-118.332,
    )
    plant.refresh_from_db()
    return registry_add(plant, module=MODULE_540, inverters=2, boxes_per_inverter=3, strings_per_box=15)
