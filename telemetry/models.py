"""The telemetry store (architecture.md "Telemetry store").

* ``Metric`` — the catalog (seeded by migration, extendable in the admin).
* ``Reading`` — narrow ``(device_id, metric_id, ts, value)``; unique key = primary key. On
  PostgreSQL a range-partitioned (monthly) table with BRIN on ``ts``, created by migration SQL
  (``managed = False``); on SQLite the same columns, unpartitioned. Written only by the ingest
  service (binary COPY + ``INSERT … ON CONFLICT``), never through model instances.
* ``LatestValue`` — last value per (device, metric), for dashboards without scanning readings,
  with how many consecutive readings repeated it (flat-line detection, ``telemetry.quality``).
* ``Rollup`` — 5-minute, hourly and plant-local daily aggregates (count/sum/min/max/first/last)
  and ``slots``, the 5-minute slots with data (completeness per bucket).
* ``DirtyHour`` — (device, UTC hour) whose rollups must be recomputed; folded every minute.
* ``DeviceEvent`` (seed 004) and ``IngestKey`` (per-plant API keys, stored hashed).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from .choices import EventSeverity, MetricKind, Resolution


class Metric(models.Model):
    id = models.SmallAutoField(primary_key=True)
    key = models.CharField(max_length=64, unique=True)
    unit = models.CharField(max_length=16, blank=True)
    kind = models.CharField(max_length=16, choices=MetricKind.choices, default=MetricKind.GAUGE)
    description = models.CharField(max_length=255, blank=True)
    min_value = models.FloatField(null=True, blank=True, help_text="Readings below are rejected.")
    max_value = models.FloatField(null=True, blank=True, help_text="Readings above are rejected.")
    sunspec_point = models.CharField(max_length=64, blank=True, help_text="SunSpec model/point, e.g. 101-103/W")

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.key} [{self.unit}]" if self.unit else self.key


class Reading(models.Model):
    pk = models.CompositePrimaryKey("device_id", "metric_id", "ts")
    device = models.ForeignKey("plants.Device", on_delete=models.DO_NOTHING, db_constraint=False, related_name="+")
    metric = models.ForeignKey(Metric, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+")
    ts = models.DateTimeField()
    value = models.FloatField()

    class Meta:
        managed = False  # created by migration SQL: partitioned on PostgreSQL
        db_table = "telemetry_reading"

    def __str__(self) -> str:
        return f"{self.device_id}/{self.metric_id} @ {self.ts:%Y-%m-%d %H:%M:%S} = {self.value:g}"


class LatestValue(models.Model):
    pk = models.CompositePrimaryKey("device_id", "metric_id")
    device = models.ForeignKey("plants.Device", on_delete=models.CASCADE, related_name="latest_values")
    metric = models.ForeignKey(Metric, on_delete=models.CASCADE, related_name="+")
    ts = models.DateTimeField()
    value = models.FloatField()
    # Data quality, kept by ingest (``telemetry.quality``): how many consecutive readings, ending
    # with the latest, carried exactly this value, and the time of the first of them. A sensor
    # repeating one non-zero value for many readings is flat-lined (stuck).
    repeats = models.IntegerField(default=1, db_default=1)
    repeat_since = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "telemetry_latestvalue"

    def __str__(self) -> str:
        return f"{self.device_id}/{self.metric_id} = {self.value:g} @ {self.ts:%Y-%m-%d %H:%M}"


class Rollup(models.Model):
    """Aggregates that compose: averages come from sum/count, so hours build days."""

    pk = models.CompositePrimaryKey("device_id", "metric_id", "resolution", "bucket")
    device = models.ForeignKey("plants.Device", on_delete=models.CASCADE, related_name="+")
    metric = models.ForeignKey(Metric, on_delete=models.CASCADE, related_name="+")
    resolution = models.CharField(max_length=8, choices=Resolution.choices)
    bucket = models.DateTimeField(help_text="Bucket start (UTC); plant-local midnight for daily buckets.")
    count = models.IntegerField()
    sum = models.FloatField()
    min = models.FloatField()
    max = models.FloatField()
    first = models.FloatField()
    last = models.FloatField()
    slots = models.IntegerField(
        default=1,
        db_default=1,
        help_text="5-minute slots of the bucket with at least one reading (completeness = slots / slots in bucket).",
    )

    class Meta:
        db_table = "telemetry_rollup"
        indexes = [models.Index(fields=["resolution", "device", "metric", "bucket"], name="telemetry_rollup_lookup")]

    def __str__(self) -> str:
        return f"{self.device_id}/{self.metric_id} {self.resolution} {self.bucket:%Y-%m-%d %H:%M}"


class PlantPower(models.Model):
    """A plant's AC power per 5-minute bucket: Σ over its inverters of each one's mean
    ``ac_power`` in the bucket, and how many inverters reported. Kept by the rollup fold in the
    transaction that folds the inverters' hours (``telemetry.rollups.plant_power``), so a plant's
    power curve is one row per bucket instead of one per inverter and bucket. Readers take the
    hours in which an inverter is still dirty from the device rollups instead."""

    pk = models.CompositePrimaryKey("plant_id", "bucket")
    plant = models.ForeignKey("plants.Plant", on_delete=models.CASCADE, related_name="+")
    bucket = models.DateTimeField(help_text="Bucket start (UTC), epoch-aligned 5 minutes.")
    power = models.FloatField(help_text="kW")
    devices = models.IntegerField(help_text="Inverters with data in the bucket.")

    class Meta:
        db_table = "telemetry_plantpower"

    def __str__(self) -> str:
        return f"plant {self.plant_id} {self.bucket:%Y-%m-%d %H:%M} {self.power} kW"


class DirtyHour(models.Model):
    pk = models.CompositePrimaryKey("device_id", "hour")
    device = models.ForeignKey("plants.Device", on_delete=models.CASCADE, related_name="+")
    hour = models.DateTimeField()
    marked_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "telemetry_dirtyhour"

    def __str__(self) -> str:
        return f"{self.device_id} @ {self.hour:%Y-%m-%d %H:00}"


class DeviceEvent(models.Model):
    device = models.ForeignKey("plants.Device", on_delete=models.CASCADE, related_name="events")
    ts = models.DateTimeField()
    event_type = models.CharField(max_length=64)
    code = models.CharField(max_length=64, blank=True)
    message = models.TextField(blank=True)
    severity = models.CharField(max_length=16, choices=EventSeverity.choices, default=EventSeverity.INFO)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-ts"]
        constraints = [
            # Ingest is idempotent on this key (replays change nothing); as an index it also
            # serves the device's events by time (device_id, ts leading).
            models.UniqueConstraint(fields=["device", "ts", "event_type", "code"], name="telemetry_event_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.code} @ {self.ts:%Y-%m-%d %H:%M}"


class IngestKey(models.Model):
    """A per-plant API key for data loggers. Only a SHA-256 hash is stored; the key is shown once."""

    plant = models.ForeignKey("plants.Plant", on_delete=models.CASCADE, related_name="ingest_keys")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True, help_text="Public part, to find the key.")
    key_hash = models.CharField(max_length=64)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
