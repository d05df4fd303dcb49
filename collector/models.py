"""A device's collection config (how to poll it) and the state of its polling (when next, the
last poll's outcome, the failure streak that drives the backoff)."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from .choices import Driver

MIN_INTERVAL_SECONDS = 30
DEFAULT_INTERVAL_SECONDS = 300


class CollectionConfig(models.Model):
    device = models.OneToOneField("plants.Device", on_delete=models.CASCADE, related_name="collection_config")
    driver = models.CharField(max_length=32, choices=Driver.choices)
    host = models.CharField(max_length=255, help_text="IP address or host name on the site's network.")
    port = models.PositiveIntegerField(validators=[MinValueValidator(1), MaxValueValidator(65535)])
    unit_id = models.PositiveSmallIntegerField(
        default=1, validators=[MaxValueValidator(255)], help_text="Modbus unit (slave) id."
    )
    base_address = models.PositiveIntegerField(
        null=True, blank=True, validators=[MaxValueValidator(65533)], help_text="SunSpec base; blank: discover."
    )
    path = models.CharField(max_length=512, blank=True, help_text="HTTP path and query, e.g. /solar_api/v1/…")
    use_tls = models.BooleanField(default=False)
    json_mapping = models.JSONField(
        default=dict, blank=True, help_text='HTTP: metric key → {"path": "Body.Data.PAC.Value", "unit": "W"}.'
    )
    timestamp_path = models.CharField(max_length=255, blank=True)
    username = models.CharField(max_length=128, blank=True)
    secret = models.CharField(max_length=512, blank=True, help_text="Password or token; never shown by the API.")
    interval_seconds = models.PositiveIntegerField(
        default=DEFAULT_INTERVAL_SECONDS, validators=[MinValueValidator(MIN_INTERVAL_SECONDS)]
    )
    timeout_seconds = models.FloatField(default=5.0, validators=[MinValueValidator(0.5), MaxValueValidator(60)])
    enabled = models.BooleanField(default=True)
    # polling state
    next_poll_at = models.DateTimeField(null=True, blank=True, db_index=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    last_poll_at = models.DateTimeField(null=True, blank=True)
    last_duration_ms = models.FloatField(null=True, blank=True)
    last_values = models.JSONField(default=dict, blank=True)
    last_info = models.JSONField(default=dict, blank=True)
    last_stored = models.JSONField(default=dict, blank=True)
    last_error_code = models.CharField(max_length=32, blank=True)
    last_error = models.TextField(blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["enabled", "next_poll_at"], name="collector_due_idx")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(interval_seconds__gte=MIN_INTERVAL_SECONDS), name="collector_interval_min"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_driver_display()} {self.host}:{self.port}"
