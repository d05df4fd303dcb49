"""Rollups of the reading store: 5-minute, hourly and plant-local daily aggregates.

Contract (what dashboards, reports and forecasts may rely on):

* ``telemetry_rollup`` rows ``(device, metric, resolution, bucket)`` hold ``count``, ``sum``,
  ``min``, ``max``, ``first``, ``last`` of the readings in the bucket (first/last by time), so
  averages compose: mean = ``sum / count``. ``bucket`` is the start, in UTC: epoch-aligned for
  ``5min``, the UTC hour for ``hour``, the plant-local midnight for ``day`` (DST days are 23 or
  25 hours; a +05:30 day starts at 18:30 UTC).
* ``energy_produced`` (kWh) is derived per bucket from the ``energy_total`` counter or, lacking
  a counter near the bucket, the ``ac_power`` integral: ``sum`` is the energy (see
  :mod:`telemetry.rollups.energy` for resets, gaps and the exact rules).
* Ingest marks (device, UTC hour) dirty; :func:`rollups_fold` (beat, every minute) recomputes
  them; :func:`rollups_read` answers from the rollups and recomputes dirty hours on the fly, so
  reads are never stale. :func:`rollups_rebuild` re-marks a range after imports or backfills.
"""

from .buckets import Agg
from .compute import rollups_read
from .energy import ENERGY_KEY, energy_buckets
from .fold import rollups_fold, rollups_rebuild

__all__ = ["ENERGY_KEY", "Agg", "energy_buckets", "rollups_fold", "rollups_read", "rollups_rebuild"]
