"""The canonical metric catalog (issue: SI-style units, SunSpec mapping — domain.md).

It is data: the migration seeds it into the ``Metric`` table, engineers extend it in the admin.
Indexed families (``pv{n}_voltage``...) are expanded for n = 1..64.
"""

from __future__ import annotations

from dataclasses import dataclass

FAMILY_MAX = 64


@dataclass(frozen=True)
class MetricDef:
    key: str
    unit: str
    kind: str
    description: str
    min_value: float | None = None
    max_value: float | None = None
    sunspec: str = ""


_BASE: list[MetricDef] = [
    MetricDef("ac_power", "kW", "gauge", "AC active power output", -100_000, 100_000, "101-103/W"),
    MetricDef("dc_power", "kW", "gauge", "DC input power", -100_000, 100_000, "101-103/DCW"),
    MetricDef("energy_total", "kWh", "counter", "Lifetime AC energy (cumulative counter)", 0, 1e12, "101-103/WH"),
    MetricDef("energy_today", "kWh", "gauge", "AC energy produced today (device's own day counter)", 0, 1e7, ""),
    MetricDef("frequency", "Hz", "gauge", "Grid frequency", 40, 70, "101-103/Hz"),
    MetricDef("power_factor", "", "gauge", "Power factor", -1, 1, "101-103/PF"),
    MetricDef("reactive_power", "kvar", "gauge", "Reactive power", -100_000, 100_000, "101-103/VAr"),
    MetricDef("internal_temp", "°C", "gauge", "Inverter cabinet/heat-sink temperature", -50, 150, "101-103/TmpCab"),
    MetricDef(
        "status_code", "", "status", "Operating state (SunSpec St: 1 OFF … 7 FAULT, 8 STANDBY)", 0, 65535, "101-103/St"
    ),
    MetricDef("event_bits", "", "bitfield", "Event flags (SunSpec Evt1, 32-bit)", 0, 4294967295, "101-103/Evt1"),
    MetricDef("irradiance_poa", "W/m²", "gauge", "Plane-of-array irradiance", 0, 2000, ""),
    MetricDef("irradiance_ghi", "W/m²", "gauge", "Global horizontal irradiance", 0, 2000, ""),
    MetricDef("module_temp", "°C", "gauge", "Module (back-of-panel) temperature", -50, 120, ""),
    MetricDef("ambient_temp", "°C", "gauge", "Ambient air temperature", -60, 70, ""),
    MetricDef("wind_speed", "m/s", "gauge", "Wind speed", 0, 100, ""),
    MetricDef("import_power", "kW", "gauge", "Power imported from the grid", 0, 1_000_000, "201-204/W"),
    MetricDef("export_power", "kW", "gauge", "Power exported to the grid", 0, 1_000_000, "201-204/W"),
    MetricDef("import_energy", "kWh", "counter", "Energy imported (cumulative)", 0, 1e12, "201-204/TotWhImp"),
    MetricDef("export_energy", "kWh", "counter", "Energy exported (cumulative)", 0, 1e12, "201-204/TotWhExp"),
    MetricDef("soc", "%", "gauge", "Battery state of charge", 0, 100, "124/ChaState, 802/SoC"),
    MetricDef("soh", "%", "gauge", "Battery state of health", 0, 100, "802/SoH"),
    MetricDef("battery_power", "kW", "gauge", "Battery power (+ discharge, - charge)", -100_000, 100_000, "802/W"),
    MetricDef("battery_voltage", "V", "gauge", "Battery voltage", 0, 2000, "802/V"),
    MetricDef("cell_temp_max", "°C", "gauge", "Highest cell temperature", -40, 100, "802/CellTmpMax"),
    # Seed 003's PCS 16-bit status words (decoded by the alarms app's bit maps)
    *[
        MetricDef(f"pcs_{word}", "", "bitfield", f"PCS {word.replace('_', ' ')} word (16-bit)", 0, 65535, "")
        for word in (
            "inverter_status",
            "inverter_inhibits1_status",
            "environment_status",
            "warning_status",
            "grid_status",
            "fault_status1",
            "fault_status2",
        )
    ],
    MetricDef("bams_status", "", "bitfield", "BESS rack BAMS status word (16-bit)", 0, 65535, ""),
    MetricDef(
        "energy_produced", "kWh", "derived", "Energy produced in a bucket (counter difference or power integral)"
    ),
]
_PHASES = [
    MetricDef(f"ac_voltage_l{n}", "V", "gauge", f"AC voltage, phase L{n}", 0, 100_000, f"101-103/PhV{'ABC'[n - 1]}")
    for n in (1, 2, 3)
] + [
    MetricDef(
        f"ac_current_l{n}", "A", "gauge", f"AC current, phase L{n}", -100_000, 100_000, f"101-103/A{'abc'[n - 1]}"
    )
    for n in (1, 2, 3)
]
_FAMILIES = [
    ("pv{n}_voltage", "V", "DC voltage of MPPT input {n}", 0, 2000, "160/DCV"),
    ("pv{n}_current", "A", "DC current of MPPT input {n}", -1, 1000, "160/DCA"),
    ("string{n}_current", "A", "Current of string {n}", -1, 100, "401-404/InDCA"),
]
# Seed 003's BESS rack alert words per battery module (0 = normal), decoded by bit maps.
_BITFIELD_FAMILIES = [
    ("battery{n}_protection", "Protection word of battery module {n} (16-bit)"),
    ("battery{n}_alarm", "Alarm word of battery module {n} (16-bit)"),
    ("battery{n}_warning", "Warning word of battery module {n} (16-bit)"),
]


# Battery storage (issue 21): racks and BESS units (SunSpec 802 battery / 803 lithium-ion
# string names where a point exists), PCS and meters. ``soc``, ``soh``, ``battery_power``,
# ``battery_voltage`` and ``cell_temp_max`` are above.
_STORAGE: list[MetricDef] = [
    MetricDef(
        "battery_current", "A", "gauge", "Battery/rack current (+ discharge, - charge)", -100_000, 100_000, "802/A"
    ),
    MetricDef("cell_voltage_max", "V", "gauge", "Highest cell voltage", 0, 10, "802/CellVMax, 803/StrCellVMax"),
    MetricDef("cell_voltage_min", "V", "gauge", "Lowest cell voltage", 0, 10, "802/CellVMin, 803/StrCellVMin"),
    MetricDef("cell_voltage_avg", "V", "gauge", "Mean cell voltage", 0, 10, "803/StrCellVAvg"),
    MetricDef(
        "cell_voltage_max_id", "", "gauge", "Cell number of the highest cell voltage", 0, 65535, "802/CellVMaxMod"
    ),
    MetricDef(
        "cell_voltage_min_id", "", "gauge", "Cell number of the lowest cell voltage", 0, 65535, "802/CellVMinMod"
    ),
    MetricDef("cell_temp_min", "°C", "gauge", "Lowest cell temperature", -40, 100, "802/CellTmpMin"),
    MetricDef(
        "cell_temp_max_id", "", "gauge", "Cell number of the highest cell temperature", 0, 65535, "802/CellTmpMaxMod"
    ),
    MetricDef(
        "cell_temp_min_id", "", "gauge", "Cell number of the lowest cell temperature", 0, 65535, "802/CellTmpMinMod"
    ),
    MetricDef("module_temp_max", "°C", "gauge", "Highest battery module temperature", -40, 100, "803/StrModTmpMax"),
    MetricDef("module_temp_min", "°C", "gauge", "Lowest battery module temperature", -40, 100, "803/StrModTmpMin"),
    MetricDef("charge_energy", "kWh", "counter", "Energy charged into the battery (cumulative)", 0, 1e12, "802/WhIn"),
    MetricDef("discharge_energy", "kWh", "counter", "Energy discharged (cumulative)", 0, 1e12, "802/WhOut"),
    MetricDef(
        "battery_mode", "", "status", "Battery mode: 0 standby, 1 charging, 2 discharging, 3 fault", 0, 3, "802/State"
    ),
    MetricDef("pcs_dc_power", "kW", "gauge", "PCS DC-side power (+ discharge)", -100_000, 100_000, ""),
    MetricDef("pcs_dc_voltage", "V", "gauge", "PCS DC bus voltage", 0, 5000, ""),
    MetricDef("apparent_power", "kVA", "gauge", "Apparent power", -100_000, 100_000, "201-204/VA"),
    MetricDef("dc_bus_voltage", "V", "gauge", "Inverter DC bus voltage", 0, 5000, ""),
]


def metric_definitions() -> list[MetricDef]:
    family = [
        MetricDef(key.format(n=n), unit, "gauge", description.format(n=n), low, high, sunspec)
        for key, unit, description, low, high, sunspec in _FAMILIES
        for n in range(1, FAMILY_MAX + 1)
    ]
    words = [
        MetricDef(key.format(n=n), "", "bitfield", description.format(n=n), 0, 65535, "")
        for key, description in _BITFIELD_FAMILIES
        for n in range(1, FAMILY_MAX + 1)
    ]
    return [*_BASE, *_PHASES, *family, *words, *_STORAGE]


# SPA metric groups (seed 001): group → (key template, label template, count)
METRIC_GROUPS = {
    "panel_voltages": ("pv{n}_voltage", "PV{n}"),
    "input_currents": ("pv{n}_current", "PV{n}"),
    "string_currents": ("string{n}_current", "S{n}"),
    "power_generation": ("ac_power", "value"),
}


def catalog_seed(metric_model) -> int:
    """Insert the catalog's missing metrics into ``metric_model`` (the migration passes its
    historical model, tests the real one); returns how many were added."""
    existing = set(metric_model.objects.values_list("key", flat=True))
    missing = [
        metric_model(
            key=d.key,
            unit=d.unit,
            kind=d.kind,
            description=d.description,
            min_value=d.min_value,
            max_value=d.max_value,
            sunspec_point=d.sunspec,
        )
        for d in metric_definitions()
        if d.key not in existing
    ]
    metric_model.objects.bulk_create(missing)
    return len(missing)
