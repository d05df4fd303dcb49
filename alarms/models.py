"""Database models of the alarms app: facts about one row only.

* ``AlarmRule`` — a plant's rule (optionally narrowed to one device or one device type).
* ``RuleDeviceState`` — the incremental evaluator's memory per (rule, device): how far the data
  was read, the current run of true/false conditions and since when. Locked while evaluating, so
  two workers never open two alarms for one (rule, device).
* ``Alarm`` + ``AlarmEvent`` — the ISA-18.2 lifecycle and its complete history.
* ``StatusBitMap`` — per device-model bit names of status words (SunSpec Evt1, seed 003's PCS
  and BESS words), kept as data.
* ``Webhook`` + ``NotificationDelivery`` — outbound notifications, one row per (alarm,
  transition, channel, recipient) so each is sent once.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q

from .choices import AlarmState, Channel, DeliveryStatus, EventKind, RuleType, Severity, Transition


class AlarmRule(models.Model):
    plant = models.ForeignKey("plants.Plant", on_delete=models.CASCADE, related_name="alarm_rules")
    device = models.ForeignKey(
        "plants.Device", null=True, blank=True, on_delete=models.CASCADE, related_name="alarm_rules"
    )
    device_type = models.CharField(max_length=32, blank=True, help_text="Applies to every device of this type.")
    name = models.CharField(max_length=128)
    rule_type = models.CharField(max_length=32, choices=RuleType.choices)
    severity = models.CharField(max_length=16, choices=Severity.choices, default=Severity.MEDIUM)
    enabled = models.BooleanField(default=True)
    params = models.JSONField(default=dict, blank=True, help_text="Type-specific parameters (validated).")
    trigger_delay_minutes = models.FloatField(default=0)
    clear_delay_minutes = models.FloatField(default=0)
    gate_min_sun_elevation = models.FloatField(null=True, blank=True, help_text="Evaluate only above (degrees).")
    gate_min_irradiance = models.FloatField(null=True, blank=True, help_text="Evaluate only above POA (W/m²).")
    is_default = models.BooleanField(default=False, help_text="Created with the plant's default rule set.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["plant_id", "id"]
        indexes = [models.Index(fields=["plant", "enabled"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_rule_type_display()})"


class RuleDeviceState(models.Model):
    rule = models.ForeignKey(AlarmRule, on_delete=models.CASCADE, related_name="device_states")
    device = models.ForeignKey("plants.Device", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    evaluated_until = models.DateTimeField(null=True, blank=True)
    condition = models.BooleanField(null=True)
    condition_since = models.DateTimeField(null=True, blank=True)
    active = models.BooleanField(default=False)
    last_value = models.FloatField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["rule", "device"], name="alarms_rule_device_state_unique")]

    def __str__(self) -> str:
        return f"rule {self.rule_id} / device {self.device_id}: {'active' if self.active else 'normal'}"


class Alarm(models.Model):
    plant = models.ForeignKey("plants.Plant", on_delete=models.CASCADE, related_name="alarms")
    device = models.ForeignKey("plants.Device", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    device_type = models.CharField(max_length=32, blank=True)
    rule = models.ForeignKey(AlarmRule, null=True, blank=True, on_delete=models.SET_NULL, related_name="alarms")
    # "<rule>:<device>" while open: one open alarm per (rule, device), enforced by the database.
    dedupe_key = models.CharField(max_length=64, blank=True)
    title = models.CharField(max_length=255)
    message = models.TextField(blank=True)
    severity = models.CharField(max_length=16, choices=Severity.choices, default=Severity.MEDIUM)
    state = models.CharField(max_length=32, choices=AlarmState.choices, default=AlarmState.ACTIVE_UNACKNOWLEDGED)
    active = models.BooleanField(default=True, help_text="The condition is present now.")
    triggered_at = models.DateTimeField()
    last_triggered_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    cleared_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    shelved_until = models.DateTimeField(null=True, blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="assigned_alarms"
    )
    occurrence_count = models.PositiveIntegerField(default=1)
    last_value = models.FloatField(null=True, blank=True)
    affected_power_kw = models.FloatField(null=True, blank=True)
    lost_energy_kwh = models.FloatField(null=True, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-triggered_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["dedupe_key"],
                condition=Q(closed_at__isnull=True) & ~Q(dedupe_key=""),
                name="alarms_one_open_alarm_per_rule_device",
            )
        ]
        indexes = [
            models.Index(fields=["plant", "state"]),
            models.Index(fields=["plant", "-triggered_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.title} [{self.severity}, {self.state}]"

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


class AlarmEvent(models.Model):
    alarm = models.ForeignKey(Alarm, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=24, choices=EventKind.choices)
    at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    comment = models.TextField(blank=True)
    from_state = models.CharField(max_length=32, blank=True)
    to_state = models.CharField(max_length=32, blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["alarm", "at"])]

    def __str__(self) -> str:
        return f"{self.kind} @ {self.at:%Y-%m-%d %H:%M}"


class StatusBitMap(models.Model):
    """Names of a status word's bits for a device model. ``manufacturer``/``model`` blank →
    the default for the device type; ``word`` is the metric key the word arrives as."""

    device_type = models.CharField(max_length=32)
    manufacturer = models.CharField(max_length=64, blank=True)
    model = models.CharField(max_length=64, blank=True)
    word = models.CharField(max_length=64, help_text="Metric key, e.g. event_bits or pcs_fault_status1.")
    label = models.CharField(max_length=128, blank=True)
    # {"0": {"name": "GROUND_FAULT", "category": "fault"}, ...}
    bits = models.JSONField(default=dict)
    source = models.CharField(max_length=128, blank=True, help_text="Where the names come from.")

    class Meta:
        ordering = ["device_type", "word"]
        constraints = [
            models.UniqueConstraint(
                fields=["device_type", "manufacturer", "model", "word"], name="alarms_status_bit_map_unique"
            )
        ]

    def __str__(self) -> str:
        who = " ".join(filter(None, [self.manufacturer, self.model])) or "default"
        return f"{self.device_type}/{self.word} ({who})"


def _webhook_secret() -> str:
    return secrets.token_urlsafe(32)


class Webhook(models.Model):
    plant = models.ForeignKey("plants.Plant", on_delete=models.CASCADE, related_name="webhooks")
    name = models.CharField(max_length=128, blank=True)
    url = models.URLField(max_length=500)
    secret = models.CharField(max_length=128, default=_webhook_secret)
    min_severity = models.CharField(max_length=16, choices=Severity.choices, default=Severity.LOW)
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.plant_id}: {self.url}"


class NotificationDelivery(models.Model):
    """One notification: (alarm event, channel, recipient) is unique → sent once per transition.
    Flood summaries have no alarm event: ``flood_window`` names the plant's 10-minute window."""

    plant = models.ForeignKey("plants.Plant", on_delete=models.CASCADE, related_name="+")
    alarm = models.ForeignKey(Alarm, null=True, blank=True, on_delete=models.CASCADE, related_name="deliveries")
    event = models.ForeignKey(AlarmEvent, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    transition = models.CharField(max_length=16, choices=Transition.choices, blank=True)
    flood_window = models.DateTimeField(null=True, blank=True)
    channel = models.CharField(max_length=16, choices=Channel.choices)
    recipient = models.CharField(max_length=500, help_text="E-mail address or webhook id.")
    webhook = models.ForeignKey(Webhook, null=True, blank=True, on_delete=models.CASCADE, related_name="deliveries")
    status = models.CharField(max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    payload = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["event", "channel", "recipient"],
                condition=Q(event__isnull=False),
                name="alarms_delivery_once_per_event",
            ),
            models.UniqueConstraint(
                fields=["plant", "flood_window", "channel", "recipient"],
                condition=Q(flood_window__isnull=False),
                name="alarms_flood_summary_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.channel} → {self.recipient} [{self.status}]"
