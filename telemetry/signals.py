"""Signals other apps listen to. ``readings_stored`` is sent once per ingest call, after the
transaction that stored the rows commits, with what was touched — the alarms app evaluates
only those devices and metrics."""

from django.dispatch import Signal

# kwargs: device_ids (set[int]), metric_ids (set[int]), ts_min, ts_max (aware datetimes)
readings_stored = Signal()
