"""Demo data for `make run` (the ``seed_demo`` command). Idempotent: running it again changes
nothing — users, plants, panel specs and devices are looked up by username, plant code,
module type and serial number, and only the missing ones are created (through the plants
services, as installer ``installer1`` would create them, so owner/installer memberships sync).

What exists afterwards:

* ``demo`` (customer) owns a ~100 kWp fixed-tilt rooftop in Sunnyvale and a ~5 MWp
  single-axis tracker farm in the Antelope Valley; ``demo2`` (customer) owns a 10 kWp home
  system in Phoenix. ``installer1`` installed all three; neither customer sees the other's.
* Each plant: a panel spec with full datasheet values, inverters with datasheets, string
  monitoring boxes whose parent is an inverter, a weather station (WMS) and a meter (an ABT
  meter on the farm).
* Telemetry (``demo_telemetry_seed``): the last 7 days at 5-minute resolution for all three
  plants, from ``telemetry.simulator`` — inverters (power, energy counters, MPPT inputs, grid
  measurements, status), string boxes (one weak string per plant), weather stations and meters,
  with one inverter outage and one stuck module-temperature sensor per plant. Every device
  reports, all 24 of the farm's combiner boxes included. Re-running adds only the readings
  missing since the last run (without new faults); the first run places the faults. Alarms the
  seeded week raises are real, but notify nobody (no e-mail or webhook for week-old news).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from accounts.choices import UserType
from accounts.services import user_create
from plants.choices import DeviceType, PlantStatus, Tracking
from plants.models import Device, PanelSpec, Plant
from plants.services import device_create, panel_spec_create, plant_create, plant_memberships_sync
from telemetry.models import LatestValue
from telemetry.simulator import SimulationResult, telemetry_fold_rollups, telemetry_simulate


@dataclass(frozen=True)
class DemoUser:
    username: str
    email: str
    password: str
    user_type: str
    name: str
    profile: dict


DEMO_USERS = [
    DemoUser("admin", "admin@solarhub.local", "solarhub-admin", UserType.PLANT_ADMIN, "Platform Admin", {}),
    DemoUser(
        "installer1",
        "installer@solarco.example",
        "solarhub-installer",
        UserType.INSTALLER,
        "Solar Install Co",
        {"company_name": "Solar Install Co", "license_number": "LIC-789", "phone_number": "+1-555-0123"},
    ),
    DemoUser(
        "demo",
        "demo@solarhub.example",
        "solarhub-demo",
        UserType.CUSTOMER,
        "John Smith",
        {"installation_id": "INST-12345", "address": "123 Solar Street, CA"},
    ),
    DemoUser(
        "demo2",
        "demo2@solarhub.example",
        "solarhub-demo2",
        UserType.CUSTOMER,
        "Maria Garcia",
        {"installation_id": "INST-67890", "address": "45 Desert Bloom Ave, Phoenix, AZ"},
    ),
]
DEMO_INSTALLER = "installer1"

# --- module datasheets ---------------------------------------------------------------------

_MODULE_COMMON = {
    "manufacturer_name": "Helion Solar",
    "stc_irradiance_w_m2": 1000,
    "stc_temperature_c": 25.0,
    "operating_temperature_min_c": -40.0,
    "operating_temperature_max_c": 85.0,
    "t_noct_c": 45.0,
    "tolerance_p_max_pct": 1.5,  # 0/+5 W on ~400 W
    "tolerance_v_oc_pct": 3.0,
    "tolerance_i_sc_pct": 4.0,
    "max_series_fuse_rating_a": 25,
    "frame": "Anodized aluminium alloy, 30 mm",
    "junction_box": "IP68, 3 bypass diodes",
    "wind_pa": 2400.0,
    "snow_pa": 5400.0,
    "safety_factor": 1.5,
}
MODULE_420 = {  # 108 half-cut mono PERC cells, residential/commercial rooftops
    **_MODULE_COMMON,
    "panel_type": "HS-420M-54HL",
    "manufacture_date": dt.date(2023, 3, 1),
    "p_max_w": 420.0, "v_oc_v": 37.95, "i_sc_a": 14.03, "v_mp_v": 31.67, "i_mp_a": 13.26,
    "efficiency_pct": 21.5, "p_selection": 420, "max_system_voltage_v": 1000,
    "p_max_noct_w": 316.0, "v_oc_noct_v": 35.70, "i_sc_noct_a": 11.32, "v_mp_noct_v": 29.62, "i_mp_noct_a": 10.67,
    "coefficient_pmax_pct": -0.34, "coefficient_voc_pct": -0.26, "coefficient_isc_pct": 0.046,
    "cell_count": 108, "dimension_length_mm": 1722.0, "dimension_width_mm": 1134.0, "dimension_depth_mm": 30.0,
    "weight_kg": 21.3, "front_glass": "3.2 mm AR-coated tempered glass",
    "product_years": 15, "performance_years": 30,
}  # fmt: skip
MODULE_540 = {  # 144 half-cut bifacial cells, glass-glass, utility scale
    **_MODULE_COMMON,
    "panel_type": "HS-540MB-72HD",
    "manufacture_date": dt.date(2023, 11, 1),
    "p_max_w": 540.0, "v_oc_v": 49.60, "i_sc_a": 13.85, "v_mp_v": 41.64, "i_mp_a": 12.97,
    "efficiency_pct": 21.1, "p_selection": 540, "max_system_voltage_v": 1500, "max_series_fuse_rating_a": 30,
    "p_max_noct_w": 407.0, "v_oc_noct_v": 46.60, "i_sc_noct_a": 11.17, "v_mp_noct_v": 38.91, "i_mp_noct_a": 10.46,
    "coefficient_pmax_pct": -0.35, "coefficient_voc_pct": -0.27, "coefficient_isc_pct": 0.048,
    "cell_count": 144, "dimension_length_mm": 2256.0, "dimension_width_mm": 1133.0, "dimension_depth_mm": 35.0,
    "weight_kg": 32.3, "front_glass": "2.0 mm heat-strengthened glass, front and back",
    "product_years": 12, "performance_years": 30,
}  # fmt: skip

# --- inverter datasheets -------------------------------------------------------------------

INVERTER_50K = {  # three-phase string inverter, commercial rooftop
    "nominal_output_power_kw": 50.0, "nominal_output_current_a": 72.2, "max_output_connections": 1,
    "nominal_output_ac_v": 400.0, "phases": 3, "power_factor_min": 0.8, "power_factor_max": 1.0,
    "max_pv_power_dc_kw": 75.0, "max_input_v": 1100.0, "max_nominal_input_current_a": 104.0,
    "max_allowed_pv_current_a": 160.0, "mppt_count": 4, "max_dc_connections_1mppt": 3,
    "mpp_range_min_v": 200.0, "mpp_range_max_v": 1000.0,
    "max_efficiency_pct": 98.7, "european_efficiency_pct": 98.4, "power_consumption_night_kw": 0.002,
    "temp_range_min_c": -25.0, "temp_range_max_c": 60.0, "dimension_length_mm": 630.0,
    "dimension_width_mm": 546.0, "dimension_depth_mm": 276.0, "weight_kg": 62.0, "airflow_required_m3ph": 420.0,
}  # fmt: skip
INVERTER_1150K = {  # central inverter, 1500 V DC, one tracker block each
    "nominal_output_power_kw": 1150.0, "nominal_output_current_a": 1107.0, "max_output_connections": 2,
    "nominal_output_ac_v": 600.0, "phases": 3, "power_factor_min": 0.8, "power_factor_max": 1.0,
    "max_pv_power_dc_kw": 1600.0, "max_input_v": 1500.0, "max_nominal_input_current_a": 1400.0,
    "max_allowed_pv_current_a": 2000.0, "mppt_count": 1, "max_dc_connections_1mppt": 8,
    "mpp_range_min_v": 875.0, "mpp_range_max_v": 1300.0,
    "max_efficiency_pct": 98.8, "european_efficiency_pct": 98.5, "power_consumption_night_kw": 0.1,
    "temp_range_min_c": -25.0, "temp_range_max_c": 60.0, "dimension_length_mm": 2815.0,
    "dimension_width_mm": 2318.0, "dimension_depth_mm": 1588.0, "weight_kg": 3400.0,
    "airflow_required_m3ph": 6500.0,
}  # fmt: skip
INVERTER_10K = {  # single-phase residential string inverter
    "nominal_output_power_kw": 10.0, "nominal_output_current_a": 43.5, "max_output_connections": 1,
    "nominal_output_ac_v": 230.0, "phases": 1, "power_factor_min": 0.8, "power_factor_max": 1.0,
    "max_pv_power_dc_kw": 15.0, "max_input_v": 600.0, "max_nominal_input_current_a": 30.0,
    "max_allowed_pv_current_a": 40.0, "mppt_count": 2, "max_dc_connections_1mppt": 1,
    "mpp_range_min_v": 100.0, "mpp_range_max_v": 550.0,
    "max_efficiency_pct": 97.8, "european_efficiency_pct": 97.3, "power_consumption_night_kw": 0.001,
    "temp_range_min_c": -25.0, "temp_range_max_c": 60.0, "dimension_length_mm": 510.0,
    "dimension_width_mm": 415.0, "dimension_depth_mm": 175.0, "weight_kg": 21.0,
}  # fmt: skip


@dataclass(frozen=True)
class DemoDevice:
    type: str
    name: str
    serial_number: str
    manufacturer: str
    model: str
    firmware: str = ""
    capacity_kw: float | None = None
    parent_serial: str | None = None
    datasheet: dict | None = None


@dataclass(frozen=True)
class DemoPlant:
    owner: str
    fields: dict
    module: dict
    devices: list[DemoDevice] = field(default_factory=list)


def _rooftop() -> DemoPlant:
    # 240 x 420 W = 100.8 kWp: two 50 kW inverters, 6 strings of 20 modules each.
    devices = []
    for i in (1, 2):
        inverter = f"HS50K-2306-{i:04d}"
        devices += [
            DemoDevice(DeviceType.INVERTER, f"Inverter {i}", inverter, "Helion Power", "HP-50KTL-M1", "V2.4.1", 50.0,
                       datasheet=INVERTER_50K),
            DemoDevice(DeviceType.STRING_MONITORING_BOX, f"String box {i}", f"SMB-R{i:02d}", "Helion Power",
                       "HP-SMB-8", "1.3.0", 50.4, inverter, {"p_kwp": 50.4, "no_strings": 6}),
        ]  # fmt: skip
    devices += [
        DemoDevice(DeviceType.WEATHER_STATION, "Roof weather station", "WMS-R01", "MeteoSense", "MS-WMS-200", "3.1"),
        DemoDevice(DeviceType.METER, "Grid meter", "MTR-R01", "Elmeter", "EM-340", "2.0", datasheet={
            "is_abt": False, "phase_voltage_v": 230.0, "phase_current_a": 150.0, "phase_power_factor": 0.99,
            "phase_frequency_hz": 60.0}),
    ]  # fmt: skip
    return DemoPlant(
        owner="demo",
        module=MODULE_420,
        devices=devices,
        fields={
            "name": "Sunnyvale Rooftop", "plant_code": "DEMO-ROOF-01", "location": "Sunnyvale, California, USA",
            "status": PlantStatus.ONLINE, "installation_date": dt.date(2023, 6, 15),
            "timezone": "America/Los_Angeles", "latitude": 37.3894, "longitude": -122.0354, "elevation_m": 38.0,
            "total_power_output_kw": 100.8, "no_of_inverters": 2, "no_of_panels": 240, "panel_per_string": 20,
            "string_per_row": 2, "string_per_inverter": 6, "power_output_per_inverter_kw": 50.0,
            "power_output_per_panel_kw": 0.42, "total_area_m2": 468.7,
            "tracking": Tracking.FIXED, "surface_tilt": 20.0, "surface_azimuth": 180.0, "gcr": 0.5,
            "system_losses_pct": 14.0, "albedo": 0.2,
        },
    )  # fmt: skip


def _tracker_farm() -> DemoPlant:
    # 9,360 x 540 W = 5,054.4 kWp: 360 strings of 26 modules on 1P trackers, four 1,150 kW central
    # inverters of 90 strings each, every inverter fed by six 15-string combiner boxes.
    devices = []
    for i in range(1, 5):
        inverter = f"HS1150-2401-{i:04d}"
        devices.append(
            DemoDevice(DeviceType.INVERTER, f"Central inverter {i}", inverter, "Helion Power", "HP-1150CS",
                       "V5.1.2", 1150.0, datasheet=INVERTER_1150K)
        )  # fmt: skip
        devices += [
            DemoDevice(DeviceType.STRING_MONITORING_BOX, f"Combiner {i}.{b}", f"SMB-F{i}{b:02d}", "Helion Power",
                       "HP-SMB-16", "1.3.0", 210.6, inverter, {"p_kwp": 210.6, "no_strings": 15})
            for b in range(1, 7)
        ]  # fmt: skip
    devices += [
        DemoDevice(DeviceType.WEATHER_STATION, "Weather station", "WMS-F01", "MeteoSense", "MS-WMS-500", "3.1"),
        DemoDevice(DeviceType.METER, "ABT meter (point of interconnection)", "ABT-F01", "Elmeter", "EM-ABT-3",
                   "4.2", datasheet={"is_abt": True, "phase_voltage_v": 19920.0, "phase_current_a": 80.0,
                                     "phase_power_factor": 0.98, "phase_frequency_hz": 60.0,
                                     "phase_voltage_unbalance_pct": 0.8, "phase_current_unbalance_pct": 1.5}),
    ]  # fmt: skip
    return DemoPlant(
        owner="demo",
        module=MODULE_540,
        devices=devices,
        fields={
            "name": "Antelope Valley Solar Farm", "plant_code": "DEMO-FARM-01",
            "location": "Lancaster, California, USA", "status": PlantStatus.ONLINE,
            "installation_date": dt.date(2024, 3, 1), "timezone": "America/Los_Angeles",
            "latitude": 34.7470, "longitude": -118.3320, "elevation_m": 715.0,
            "total_power_output_kw": 5054.4, "no_of_inverters": 4, "no_of_panels": 9360, "panel_per_string": 26,
            "string_per_row": 3, "string_per_inverter": 90, "power_output_per_inverter_kw": 1150.0,
            "power_output_per_panel_kw": 0.54, "total_area_m2": 23925.0,
            "tracking": Tracking.SINGLE_AXIS, "axis_tilt": 0.0, "axis_azimuth": 180.0, "max_angle": 60.0,
            "backtrack": True, "gcr": 0.35, "system_losses_pct": 12.0, "albedo": 0.3,
        },
    )  # fmt: skip


def _home() -> DemoPlant:
    # 24 x 420 W = 10.08 kWp, one 10 kW inverter with two strings of 12.
    inverter = "HS10K-2409-0001"
    return DemoPlant(
        owner="demo2",
        module=MODULE_420,
        devices=[
            DemoDevice(DeviceType.INVERTER, "Inverter", inverter, "Helion Power", "HP-10KTL-S", "V1.8.0", 10.0,
                       datasheet=INVERTER_10K),
            DemoDevice(DeviceType.STRING_MONITORING_BOX, "String box", "SMB-H01", "Helion Power", "HP-SMB-2", "1.3.0",
                       10.08, inverter, {"p_kwp": 10.08, "no_strings": 2}),
            DemoDevice(DeviceType.WEATHER_STATION, "Weather sensor", "WMS-H01", "MeteoSense", "MS-WMS-50", "2.2"),
            DemoDevice(DeviceType.METER, "Net meter", "MTR-H01", "Elmeter", "EM-112", "1.5", datasheet={
                "is_abt": False, "phase_voltage_v": 240.0, "phase_current_a": 100.0, "phase_frequency_hz": 60.0}),
        ],
        fields={
            "name": "Garcia Home Solar", "plant_code": "DEMO2-HOME-01", "location": "Phoenix, Arizona, USA",
            "status": PlantStatus.ONLINE, "installation_date": dt.date(2024, 9, 10), "timezone": "America/Phoenix",
            "latitude": 33.4942, "longitude": -112.0393, "elevation_m": 340.0,
            "total_power_output_kw": 10.08, "no_of_inverters": 1, "no_of_panels": 24, "panel_per_string": 12,
            "string_per_row": 1, "string_per_inverter": 2, "power_output_per_inverter_kw": 10.0,
            "power_output_per_panel_kw": 0.42, "total_area_m2": 46.9,
            "tracking": Tracking.FIXED, "surface_tilt": 25.0, "surface_azimuth": 180.0,
            "system_losses_pct": 14.0, "albedo": 0.25,
        },
    )  # fmt: skip


def _storage_site() -> DemoPlant:
    # Solar + storage (issue 21, seed 003's site): 2.3 MW of PV on two central inverters, two
    # 2.5 MWh BESS of 12 racks behind two 1.25 MW PCS, grid, aux and PV meters.
    devices = [
        DemoDevice(DeviceType.INVERTER, f"Central inverter {i}", f"HS1150-2409-{i:04d}", "Helion Power",
                   "HP-1150CS", "V5.1.2", 1150.0, datasheet=INVERTER_1150K)
        for i in (1, 2)
    ]  # fmt: skip
    for role, name, serial in (("grid", "Grid meter", "MTR-S01"), ("aux", "Aux meter", "MTR-S02"),
                               ("pv", "PV meter", "MTR-S03")):  # fmt: skip
        devices.append(DemoDevice(DeviceType.METER, name, serial, "Elmeter", "EM-340", "2.0",
                                  datasheet={"role": role, "ct_ratio": 400.0, "phase_frequency_hz": 60.0}))  # fmt: skip
    for b in (1, 2):
        devices.append(DemoDevice(DeviceType.PCS, f"PCS {b}", f"PCS-S{b:02d}", "Voltara", "VP-1250", "3.2", 1250.0,
                                  datasheet={"power_rating_kw": 1250.0, "apparent_power_rating_kva": 1375.0,
                                             "nominal_ac_voltage_v": 480.0, "max_efficiency_pct": 98.2}))  # fmt: skip
        bess = f"BESS-S{b:02d}"
        devices.append(DemoDevice(DeviceType.BESS, f"BESS {b}", bess, "Voltara", "VB-2500", "1.9", 1250.0,
                                  datasheet={"energy_rating_kwh": 2750.0, "usable_capacity_kwh": 2500.0,
                                             "power_rating_kw": 1250.0, "max_charge_kw": 1250.0,
                                             "max_discharge_kw": 1250.0, "c_rate": 0.5, "racks": 12,
                                             "chemistry": "lfp", "nominal_voltage_v": 768.0,
                                             "min_soc_pct": 5.0, "max_soc_pct": 95.0}))  # fmt: skip
        devices += [
            DemoDevice(DeviceType.BESS_RACK, f"BESS {b} rack {r:02d}", f"{bess}-R{r:02d}", "Voltara", "VR-208", "1.9",
                       parent_serial=bess)
            for r in range(1, 13)
        ]  # fmt: skip
    return DemoPlant(
        owner="demo",
        module=MODULE_540,
        devices=devices,
        fields={
            "name": "Mojave Solar + Storage", "plant_code": "DEMO-BESS-01", "location": "Mojave, California, USA",
            "status": PlantStatus.ONLINE, "installation_date": dt.date(2024, 10, 1),
            "timezone": "America/Los_Angeles", "latitude": 35.0525, "longitude": -118.1739, "elevation_m": 830.0,
            "total_power_output_kw": 2527.2, "no_of_inverters": 2, "no_of_panels": 4680, "panel_per_string": 26,
            "string_per_inverter": 90, "power_output_per_inverter_kw": 1150.0, "power_output_per_panel_kw": 0.54,
            "tracking": Tracking.FIXED, "surface_tilt": 25.0, "surface_azimuth": 180.0, "gcr": 0.4,
            "system_losses_pct": 13.0, "albedo": 0.3, "cctv_url": "https://cctv.example.com/mojave/stream",
        },
    )  # fmt: skip


DEMO_PLANTS = [_rooftop(), _tracker_farm(), _home()]
DEMO_STORAGE_CODE = "DEMO-BESS-01"
DEMO_PLANTS.append(_storage_site())  # the storage site (issue 21): storage.demo adds its tariff and schedule


@dataclass(frozen=True)
class PlantOutcome:
    plant: Plant
    created: bool
    devices_created: int
    device_counts: dict[str, int]


@dataclass(frozen=True)
class DemoOutcome:
    users: list[tuple[DemoUser, bool]]
    plants: list[PlantOutcome]


def _seed_users() -> list[tuple[DemoUser, bool]]:
    User = get_user_model()
    outcome = []
    for demo in DEMO_USERS:
        exists = User.objects.filter(username=demo.username).exists()
        if not exists:
            user = user_create(
                username=demo.username,
                email=demo.email,
                password=demo.password,
                user_type=demo.user_type,
                name=demo.name,
                **demo.profile,
            )
            if demo.user_type == UserType.PLANT_ADMIN:
                user.is_superuser = True
                user.save(update_fields=["is_superuser"])
        outcome.append((demo, not exists))
    return outcome


def _seed_plant(demo: DemoPlant, installer) -> PlantOutcome:
    plant = Plant.objects.filter(plant_code=demo.fields["plant_code"]).first()
    created = plant is None
    if created:
        owner = get_user_model().objects.get(username=demo.owner)
        plant = plant_create(by=installer, data={**demo.fields, "owner": owner})
    else:
        plant_memberships_sync(plant=plant)  # repairs drift; a no-op when consistent
    module_key = {"manufacturer_name": demo.module["manufacturer_name"], "panel_type": demo.module["panel_type"]}
    if not PanelSpec.objects.filter(plant=plant, **module_key).exists():
        panel_spec_create(by=installer, plant_id=plant.pk, data=demo.module)

    by_serial = {d.serial_number: d for d in Device.objects.filter(plant=plant)}
    made = 0
    for spec in demo.devices:  # parents come before their children in DEMO_PLANTS
        if spec.serial_number in by_serial:
            continue
        data = {
            "type": spec.type, "name": spec.name, "serial_number": spec.serial_number,
            "manufacturer": spec.manufacturer, "model": spec.model, "firmware": spec.firmware,
            "capacity_kw": spec.capacity_kw, "commissioned_at": plant.installation_date,
            "parent": by_serial.get(spec.parent_serial) if spec.parent_serial else None,
        }  # fmt: skip
        device = device_create(by=installer, plant_id=plant.pk, data=data, datasheet=spec.datasheet)
        by_serial[device.serial_number] = device
        made += 1
    counts: dict[str, int] = {}
    for device in by_serial.values():
        counts[device.type] = counts.get(device.type, 0) + 1
    return PlantOutcome(plant=plant, created=created, devices_created=made, device_counts=counts)


@transaction.atomic
def demo_seed() -> DemoOutcome:
    """Create the demo accounts, plants, panel specs and devices that are missing."""
    users = _seed_users()
    installer = get_user_model().objects.get(username=DEMO_INSTALLER)
    plants = [_seed_plant(demo, installer) for demo in DEMO_PLANTS]
    # Digital twins of the rooftop (with its parapet and chimney) and the farm: twins.demo.
    from twins.demo import demo_twins_seed

    demo_twins_seed(by=installer)
    # A shadow analysis of the rooftop's twin (its chimney shades panels on winter mornings): shadow.demo.
    from shadow.demo import demo_shadow_seed

    demo_shadow_seed(by=installer)
    # The storage site's tariff and dispatch schedule: storage.demo.
    from storage.demo import demo_storage_seed

    demo_storage_seed(plant_code=DEMO_STORAGE_CODE)
    return DemoOutcome(users=users, plants=plants)


DEMO_TELEMETRY_DAYS = 7
DEMO_TELEMETRY_STEP_MINUTES = 5
DEMO_TELEMETRY_SEED = 42
DEMO_STRING_BOXES_PER_INVERTER = None  # every demo string box reports (a box without data looks broken)
# Rollups of the seeded week (~2,700 device-hours): PostgreSQL folds them all (~10 s). SQLite's
# ORM fold path needs 25-50 ms per device-hour (minutes in all), so there the seed folds only
# this many and leaves the rest dirty (the beat task folds them; reads recompute dirty hours
# meanwhile) to keep CI's `make run` smoke test fast.
DEMO_SQLITE_FOLD_LIMIT = 50


@dataclass(frozen=True)
class TelemetryOutcome:
    plant: Plant
    result: SimulationResult | None  # None: the plant's data was already up to date


@dataclass(frozen=True)
class DemoTelemetry:
    plants: list[TelemetryOutcome]
    rollups: str | None  # what the fold did, None when nothing was written


def demo_telemetry_seed(
    *,
    days: int = DEMO_TELEMETRY_DAYS,
    step_minutes: int = DEMO_TELEMETRY_STEP_MINUTES,
    seed: int = DEMO_TELEMETRY_SEED,
    now: dt.datetime | None = None,
    fold: bool = True,
) -> DemoTelemetry:
    """Simulated readings for the demo plants covering the last ``days`` days up to ``now``.

    Only what is missing is simulated: each plant continues from its inverters' newest reading
    (``LatestValue``, no scan of the readings table), so a re-run minutes later writes a few
    samples, days later the days in between, and a fresh database gets the whole window with
    the faults. Runs outside ``demo_seed``'s transaction: each ingest chunk commits on its own.
    """
    now = now or timezone.now()
    step = dt.timedelta(minutes=step_minutes)
    latest = now - (now - dt.datetime(2000, 1, 1, tzinfo=dt.UTC)) % step  # the last sample at or before now
    window_start = latest - dt.timedelta(days=days)
    codes = [demo.fields["plant_code"] for demo in DEMO_PLANTS]
    outcomes = []
    for plant in Plant.objects.filter(plant_code__in=codes).order_by("id"):
        inverters = Device.objects.filter(plant=plant, type=DeviceType.INVERTER).values("id")
        newest = LatestValue.objects.filter(device_id__in=inverters).aggregate(newest=Max("ts"))["newest"]
        if newest is not None and newest >= latest:
            outcomes.append(TelemetryOutcome(plant=plant, result=None))
            continue
        fresh = newest is None or newest < window_start
        result = telemetry_simulate(
            plant=plant,
            start=window_start if fresh else newest + step,
            end=latest + step,
            step_minutes=step_minutes,
            seed=seed,
            faults=fresh,
            max_string_boxes_per_inverter=DEMO_STRING_BOXES_PER_INVERTER,
            fold=False,  # once for all plants, below
            now=now,
        )
        outcomes.append(TelemetryOutcome(plant=plant, result=result))
    # The storage site's batteries, PCS and meters follow its simulated PV: storage.demo.
    from storage.demo import demo_storage_telemetry

    storage_rows = demo_storage_telemetry(plant_code=DEMO_STORAGE_CODE, start=window_start, end=latest + step, now=now)
    for item in outcomes:  # counted with the site's PV readings
        if item.result is not None and item.plant.plant_code == DEMO_STORAGE_CODE:
            item.result.rows_written += storage_rows
    written = sum(item.result.rows_written for item in outcomes if item.result)
    # The simulator writes through the fast path (no ingest signal): run the alarm rules over
    # what it wrote, so the simulated outage and weak string raise real alarms.
    # The alarms are real; their "news" is days old: nobody is e-mailed or called back for them.
    from alarms.evaluation import devices_evaluate
    from alarms.notifications import notifications_suppressed

    with notifications_suppressed():
        for item in outcomes:
            if item.result is not None:
                device_ids = list(Device.objects.filter(plant=item.plant).values_list("id", flat=True))
                devices_evaluate(device_ids=device_ids, since=window_start, now=now)
    rollups = None
    if fold and written:
        limit = None if connection.vendor == "postgresql" else DEMO_SQLITE_FOLD_LIMIT
        rollups = telemetry_fold_rollups(limit=limit)
    # Forecasts (tomorrow, the week, the year; the last days with their accuracy): forecasting.demo.
    from forecasting.demo import demo_forecasts_seed

    demo_forecasts_seed(plants=[item.plant for item in outcomes], now=now, accuracy=connection.vendor == "postgresql")
    return DemoTelemetry(plants=outcomes, rollups=rollups)
