"""Live values and recent series: the reads behind the plant/device lists, dashboard and monitoring.

* **Live fields** (``currentGeneration``, ``status``, ``lastCommunication``...) come from
  ``LatestValue`` (one row per device and metric, kept by ingest), never from scanning readings.
  They are added to list querysets as correlated subqueries — primary-key lookups per row, one
  SQL statement per page however many plants or devices — and :func:`device_live` /
  :func:`plant_live` derive status and efficiency from them without touching the database.
* **Recent series and energy** come from ``telemetry.rollups.rollups_read`` (stored rollups,
  with the (device, hour)s still marked dirty recomputed from raw readings), so an answer is
  never older than the last reading. The plant power curve is the one exception: it reads the
  plant power rollup (one row per bucket, kept by the fold) for folded hours and sums the
  inverters in SQL only for hours still dirty (:func:`_plant_power`), because it is on every
  dashboard load and per-inverter rows cost more than the rest of the overview.

Bucket contract (``telemetry.rollups``): 5-minute buckets on UTC multiples of five minutes,
daily buckets at plant-local midnight in UTC, and a ``DirtyHour`` row means "this (device, UTC
hour) is not folded yet; its rollups may be stale or missing".

The package, by responsibility: :mod:`.status` (live facts on lists, key metrics, latest values;
the status vocabulary and its derivation live in ``plants.live``), :mod:`.series` (recent
5-minute series and the plant power curve), :mod:`.energy` (energy per plant-local day) and
:mod:`.overview` (the dashboard's overview card, a device's key-metric history).
"""

from .energy import (
    ENERGY_TODAY_CACHE_SECONDS,
    DayEnergy,
    local_midnight,
    plant_daily_energy,
    plant_energy_today,
    plant_zone,
)
from .overview import DeviceHistory, PlantOverview, device_key_metric_history, plant_overview
from .series import (
    PowerPoint,
    bucket_floor,
    bucket_starts,
    metric_ids_by_key,
    plant_power_series,
    series_window,
    summed_series_5min,
)
from .status import (
    ALL_KEY_METRICS,
    BUCKET,
    DEVICE_STATUS_VALUES,
    ENVIRONMENT_METRICS,
    FAULT_STATUS_CODE,
    KEY_METRICS,
    MAX_DAYS,
    MAX_SERIES_HOURS,
    MIN_DC_KW,
    ONLINE_WINDOW,
    DeviceLive,
    DeviceStatus,
    LatestPoint,
    PlantLive,
    device_latest_values,
    device_live,
    device_live_annotate,
    device_quality,
    plant_live,
    plant_live_annotate,
)

__all__ = [
    "ALL_KEY_METRICS",
    "BUCKET",
    "DEVICE_STATUS_VALUES",
    "ENERGY_TODAY_CACHE_SECONDS",
    "ENVIRONMENT_METRICS",
    "FAULT_STATUS_CODE",
    "KEY_METRICS",
    "MAX_DAYS",
    "MAX_SERIES_HOURS",
    "MIN_DC_KW",
    "ONLINE_WINDOW",
    "DayEnergy",
    "DeviceHistory",
    "DeviceLive",
    "DeviceStatus",
    "LatestPoint",
    "PlantLive",
    "PlantOverview",
    "PowerPoint",
    "bucket_floor",
    "bucket_starts",
    "device_key_metric_history",
    "device_latest_values",
    "device_live",
    "device_live_annotate",
    "device_quality",
    "local_midnight",
    "metric_ids_by_key",
    "plant_daily_energy",
    "plant_energy_today",
    "plant_live",
    "plant_live_annotate",
    "plant_overview",
    "plant_power_series",
    "plant_zone",
    "series_window",
    "summed_series_5min",
]
