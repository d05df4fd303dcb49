"""Signals other apps listen to. ``readings_stored`` is sent once per ingest call, after the
transaction that stored the rows commits, with what was touched — the alarms app evaluates
only those devices and metrics. ``hours_folded`` is sent by the rollup fold with the dirty
marks it consumed."""

from django.dispatch import Signal

# kwargs: device_ids (set[int]), metric_ids (set[int]), ts_min, ts_max (aware datetimes)
readings_stored = Signal()

# Sent by the rollup fold inside the transaction that claims the marks, before it commits.
# kwargs: marks (list of (device_id, UTC hour, marked_at)) — the data of those hours changed at
# ``marked_at`` at the latest; caches of figures derived from them (the reports app's KPI days)
# record it, since the marks themselves are gone once the fold commits.
hours_folded = Signal()


def on_plant_handed_over(sender, plant, by, **kwargs) -> int:
    """``plants.hooks.plant_handed_over``: the previous people's loggers stop pushing."""
    from .services import ingest_keys_revoke_all

    return ingest_keys_revoke_all(plant=plant, by=by)


def on_devices_deleting(sender, device_ids, **kwargs) -> None:
    """``plants.hooks.devices_deleting``: the raw readings go with their devices."""
    from .services import readings_purge

    readings_purge(device_ids=device_ids)
