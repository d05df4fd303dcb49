"""Celery tasks of the storage app: none yet — every storage figure is computed on read from
the readings, rollups and schedule rows (nothing to precompute)."""
