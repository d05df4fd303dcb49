"""Bulk onboarding: a plant from a JSON config file, devices from a CSV spreadsheet.

Both imports validate everything first (the models' own ``full_clean()`` plus cross checks),
collect every problem with its location and raise :class:`ImportFailed` before writing anything;
otherwise all rows are written in one transaction. Both are idempotent: plants are keyed by
``plant_code``, panel specs by (plant, manufacturer_name, panel_type), devices by (plant,
serial_number). Imports create and update but never delete. File formats: docs/plant-config.md.
"""

from .base import ImportFailed, ImportResult
from .devices_csv import CSV_DEVICE_COLUMNS, CSV_REQUIRED_COLUMNS, CSV_SHEET_COLUMNS, devices_csv_import
from .plant_config import SECTIONS, TOP_LEVEL_KEYS, plant_config_import

__all__ = [
    "CSV_DEVICE_COLUMNS",
    "CSV_REQUIRED_COLUMNS",
    "CSV_SHEET_COLUMNS",
    "SECTIONS",
    "TOP_LEVEL_KEYS",
    "ImportFailed",
    "ImportResult",
    "devices_csv_import",
    "plant_config_import",
]
