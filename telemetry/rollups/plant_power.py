"""The plant power rollup (``telemetry_plantpower``): Σ over a plant's inverters of each one's
5-minute mean ``ac_power``, with the number of inverters that reported.

Written by :func:`plant_power_refresh` at the end of every fold transaction, for the plants and
UTC hours whose inverter rollups it replaced, recomputed from the committed 5-minute rollups of
*all* the plant's inverters in those hours. Two folders of different inverters of one plant
serialise on a transaction-level advisory lock per plant taken just before the recompute (after
the fold's device locks, in plant-id order: no deadlock), so the second one's statement starts
after the first commits and sees both folds' rows. Deleting an inverter, or changing a device's
type or plant, refreshes the hours its rollups covered (:func:`plant_power_device_changed`).
:func:`plant_power_rebuild` recomputes a range, after rollups were written outside the folder.
"""

from __future__ import annotations

import zlib
from collections import defaultdict
from collections.abc import Collection, Mapping
from datetime import datetime

from django.db import connection, transaction
from django.db.models import Count, F, FloatField, Q, Sum

from plants.choices import DeviceType
from plants.models import Device

from ..choices import Resolution
from ..models import PlantPower, Rollup
from .buckets import HOUR, hours_between, runs_of
from .compute import energy_metric_ids
from .energy import POWER_KEY

_LOCK_NAMESPACE = zlib.crc32(b"telemetry plant power") & 0x7FFFFFFF
_CHUNK = 200  # ranges per statement


def _power_metric_id() -> int | None:
    return energy_metric_ids().get(POWER_KEY)


def plant_power_refresh(*, device_hours: Mapping[int, Collection[datetime]]) -> None:
    """Recompute the plant power of the plants and hours these devices' rollups changed in
    (devices that are not inverters change nothing). Call inside the transaction that wrote the
    rollups, after writing them."""
    plant_of = dict(
        Device.objects.filter(id__in=list(device_hours), type=DeviceType.INVERTER).values_list("id", "plant_id")
    )
    plant_hours: dict[int, set[datetime]] = defaultdict(set)
    for device_id, hours in device_hours.items():
        if device_id in plant_of:
            plant_hours[plant_of[device_id]].update(hours)
    _recompute(plant_hours)


def plant_power_rebuild(*, plant_id: int, start: datetime, end: datetime) -> None:
    """Recompute every bucket of the plant's UTC hours in ``[start, end)`` (rollups written or
    removed outside the folder: bulk SQL loads, restores)."""
    with transaction.atomic():
        _recompute({plant_id: set(hours_between(start, end))})


def _recompute(plant_hours: Mapping[int, Collection[datetime]]) -> None:
    plant_hours = {plant: hours for plant, hours in plant_hours.items() if hours}
    metric_id = _power_metric_id()
    if not plant_hours or metric_id is None:
        return
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(%s, (p %% 2147483648)::int) "
                "FROM (SELECT unnest(%s::bigint[]) AS p ORDER BY 1) AS ordered",
                [_LOCK_NAMESPACE, sorted(plant_hours)],
            )
    ranges = [(plant, run[0], run[-1] + HOUR) for plant, hours in plant_hours.items() for run in runs_of(hours)]
    for index in range(0, len(ranges), _CHUNK):
        chunk = ranges[index : index + _CHUNK]
        own = Q()
        rollups = Q()
        for plant, lo, hi in chunk:
            own |= Q(plant_id=plant, bucket__gte=lo, bucket__lt=hi)
            rollups |= Q(device__plant_id=plant, bucket__gte=lo, bucket__lt=hi)
        PlantPower.objects.filter(own).delete()
        sums = (
            Rollup.objects.filter(
                rollups,
                resolution=Resolution.FIVE_MINUTES,
                metric_id=metric_id,
                count__gt=0,
                device__type=DeviceType.INVERTER,
            )
            .order_by()
            .values("device__plant_id", "bucket")
            .annotate(power=Sum(F("sum") / F("count"), output_field=FloatField()), devices=Count("*"))
            .values_list("device__plant_id", "bucket", "power", "devices")
        )
        PlantPower.objects.bulk_create(
            [PlantPower(plant_id=p, bucket=b, power=w, devices=n) for p, b, w, n in sums], batch_size=1000
        )


def _device_hours(device_id: int, metric_id: int) -> set[datetime]:
    return set(
        Rollup.objects.filter(device_id=device_id, metric_id=metric_id, resolution=Resolution.HOUR).values_list(
            "bucket", flat=True
        )
    )


def plant_power_device_changed(*, device_id: int, plant_ids: Collection[int]) -> None:
    """A device is about to be deleted, or changed type or plant: once that commits, refresh the
    plant power of ``plant_ids`` in every hour the device has power rollups for."""
    metric_id = _power_metric_id()
    if metric_id is None:
        return
    hours = _device_hours(device_id, metric_id)
    if not hours:
        return

    def refresh() -> None:
        with transaction.atomic():
            _recompute(dict.fromkeys(plant_ids, hours))

    transaction.on_commit(refresh)


def on_device_pre_save(sender, instance: Device, update_fields=None, **kwargs) -> None:
    if instance.pk is None or (update_fields is not None and not {"type", "plant", "plant_id"} & set(update_fields)):
        return
    before = Device.objects.filter(pk=instance.pk).values_list("type", "plant_id").first()
    if before is None or before == (instance.type, instance.plant_id):
        return
    if DeviceType.INVERTER in (before[0], instance.type):
        plant_power_device_changed(device_id=instance.pk, plant_ids={before[1], instance.plant_id})


def on_device_pre_delete(sender, instance: Device, **kwargs) -> None:
    if instance.type == DeviceType.INVERTER:
        plant_power_device_changed(device_id=instance.pk, plant_ids={instance.plant_id})
