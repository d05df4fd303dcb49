"""Enumerations of the telemetry app."""

from django.db import models


class MetricKind(models.TextChoices):
    GAUGE = "gauge", "Gauge (instantaneous value)"
    COUNTER = "counter", "Cumulative counter (monotonic, may reset)"
    STATUS = "status", "Status code (enumeration)"
    BITFIELD = "bitfield", "Bitfield (event flags)"
    DERIVED = "derived", "Derived by SolarHub (not ingested)"


class Resolution(models.TextChoices):
    RAW = "raw", "Raw readings"
    FIVE_MINUTES = "5min", "5 minutes"
    HOUR = "hour", "1 hour"
    DAY = "day", "1 plant-local day"


class EventSeverity(models.TextChoices):
    INFO = "info", "Info"
    MINOR = "minor", "Minor"
    MAJOR = "major", "Major"
    CRITICAL = "critical", "Critical"
