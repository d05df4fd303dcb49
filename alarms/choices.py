"""Enumerations (TextChoices) of the alarms app."""

from django.db import models


class Severity(models.TextChoices):
    """Seed 000's alarm severities, least to most severe."""

    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"
    CRITICAL = "critical", "Critical"


# Rank of a severity; user preferences (accounts) use info/minor/major/critical on the same
# four-step scale, so both vocabularies rank alike.
SEVERITY_RANK = {
    "low": 0,
    "info": 0,
    "medium": 1,
    "minor": 1,
    "high": 2,
    "major": 2,
    "critical": 3,
}


class AlarmState(models.TextChoices):
    """ISA-18.2 / OPC UA Part 9 states (domain.md). Stored derived from the alarm's facts
    (active?, acknowledged?, shelved until?, closed?) so lists filter on one column."""

    ACTIVE_UNACKNOWLEDGED = "active_unacknowledged", "Active, unacknowledged"
    ACTIVE_ACKNOWLEDGED = "active_acknowledged", "Active, acknowledged"
    RTN_UNACKNOWLEDGED = "rtn_unacknowledged", "Returned to normal, unacknowledged"
    CLEARED = "cleared", "Cleared (returned to normal, acknowledged)"
    SHELVED = "shelved", "Shelved"
    CLOSED = "closed", "Closed"


# Seed 000's three-state vocabulary (open / acknowledged / closed) → the states it covers.
LEGACY_STATES = {
    "open": (AlarmState.ACTIVE_UNACKNOWLEDGED, AlarmState.RTN_UNACKNOWLEDGED, AlarmState.SHELVED),
    "acknowledged": (AlarmState.ACTIVE_ACKNOWLEDGED, AlarmState.CLEARED),
    "closed": (AlarmState.CLOSED,),
}
OPEN_STATES = tuple(s for s in AlarmState if s != AlarmState.CLOSED)


class RuleType(models.TextChoices):
    THRESHOLD = "threshold", "Threshold"
    COMMUNICATION_LOSS = "communication_loss", "Communication loss"
    STATUS_CODE = "status_code", "Status / fault code"
    UNDERPERFORMANCE = "underperformance", "Underperformance"
    STRING_DEVIATION = "string_deviation", "String deviation"


class Operator(models.TextChoices):
    GT = ">", "greater than"
    GE = ">=", "at least"
    LT = "<", "less than"
    LE = "<=", "at most"
    EQ = "==", "equal to"
    NE = "!=", "not equal to"


class EventKind(models.TextChoices):
    TRIGGERED = "triggered", "Triggered"
    RETRIGGERED = "retriggered", "Re-triggered"
    ESCALATED = "escalated", "Severity raised"
    RETURNED_TO_NORMAL = "returned_to_normal", "Returned to normal"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    CLEARED = "cleared", "Cleared by a user"
    CLOSED = "closed", "Closed"
    SHELVED = "shelved", "Shelved"
    UNSHELVED = "unshelved", "Unshelved"
    COMMENT = "comment", "Comment"
    ASSIGNED = "assigned", "Assigned"
    UPDATED = "updated", "Updated"
    CREATED = "created", "Created manually"


class Transition(models.TextChoices):
    """Transitions that notify (issue: open, escalation, clear)."""

    OPENED = "opened", "Opened"
    ESCALATED = "escalated", "Escalated"
    CLEARED = "cleared", "Cleared"


class Channel(models.TextChoices):
    EMAIL = "email", "E-mail"
    WEBHOOK = "webhook", "Webhook"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    SUPPRESSED = "suppressed", "Suppressed (flood summary)"


class FlagCategory(models.TextChoices):
    """Seed 003's header groups for decoded status-word bits."""

    PROTECTION = "protection", "Protection"
    WARNING = "warning", "Warning"
    FAULT = "fault", "Fault"
    STATUS = "status", "Status (informational)"
