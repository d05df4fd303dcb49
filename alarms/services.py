"""Writes of the alarms app: the ISA-18.2 lifecycle (domain.md), every transition recorded as an
``AlarmEvent`` with actor and comment. Notifications go out after commit for the transitions
that notify (opened, escalated, cleared) — ``alarms.notifications.notify_transition``."""

from __future__ import annotations

import ipaddress
from datetime import datetime
from urllib.parse import urlsplit

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from plants.access import PlantAction, is_platform_admin, plant_actions_for
from plants.exceptions import PlantPermissionDenied
from plants.selectors import plant_get_for
from solarhub.api.exceptions import ApiError

from .choices import SEVERITY_RANK, AlarmState, EventKind
from .models import Alarm, AlarmEvent, AlarmRule, Webhook
from .webhook_transport import address_allowed

NOTIFYING = {
    EventKind.TRIGGERED: "opened",
    EventKind.RETRIGGERED: "opened",
    EventKind.CREATED: "opened",
    EventKind.ESCALATED: "escalated",
    EventKind.RETURNED_TO_NORMAL: "cleared",
    EventKind.CLEARED: "cleared",
}


def alarm_state_of(alarm: Alarm, now: datetime | None = None) -> str:
    """The state follows from the facts: closed, shelved, active?, acknowledged?"""
    now = now or timezone.now()
    if alarm.closed_at is not None:
        return AlarmState.CLOSED
    if alarm.shelved_until is not None and alarm.shelved_until > now:
        return AlarmState.SHELVED
    if alarm.active:
        return AlarmState.ACTIVE_ACKNOWLEDGED if alarm.acknowledged_at else AlarmState.ACTIVE_UNACKNOWLEDGED
    return AlarmState.CLEARED if alarm.acknowledged_at else AlarmState.RTN_UNACKNOWLEDGED


def _record(
    alarm: Alarm, kind: str, *, at=None, actor=None, comment: str = "", data=None, before: str = ""
) -> AlarmEvent:
    alarm.state = alarm_state_of(alarm)
    alarm.save()
    event = AlarmEvent.objects.create(
        alarm=alarm,
        kind=kind,
        at=at or timezone.now(),
        actor=actor if actor is not None and getattr(actor, "is_authenticated", False) else None,
        comment=comment or "",
        from_state=before,
        to_state=alarm.state,
        data=data or {},
    )
    if kind in NOTIFYING:
        from .notifications import notifications_are_suppressed

        if not notifications_are_suppressed():  # decided now, in the caller's context
            event_id = event.id
            transaction.on_commit(lambda: _notify(event_id))
    return event


def _notify(event_id: int) -> None:
    from .notifications import notify_transition

    notify_transition(event_id=event_id)


def _locked(alarm: Alarm) -> Alarm:
    return Alarm.objects.select_for_update().get(pk=alarm.pk)


# --- raised by rules ---------------------------------------------------------------------------


def alarm_raise(
    *,
    rule: AlarmRule,
    device,
    at: datetime,
    value: float | None,
    message: str,
    affected_power_kw: float | None = None,
    metadata: dict | None = None,
) -> Alarm:
    """The rule's condition fired for ``device``: open an alarm, or — when one is still open for
    (rule, device) — re-trigger it (occurrence count + 1) instead of creating a duplicate."""
    key = f"{rule.pk}:{device.pk if device else 0}"
    with transaction.atomic():
        alarm = Alarm.objects.select_for_update().filter(dedupe_key=key, closed_at__isnull=True).first()
        if alarm is None:
            try:
                with transaction.atomic():
                    alarm = Alarm.objects.create(
                        plant_id=rule.plant_id,
                        device=device,
                        device_type=device.type if device else rule.device_type,
                        rule=rule,
                        dedupe_key=key,
                        title=f"{rule.name}" + (f" — {device.name}" if device else ""),
                        message=message,
                        severity=rule.severity,
                        active=True,
                        triggered_at=at,
                        last_triggered_at=at,
                        last_value=value,
                        affected_power_kw=affected_power_kw,
                        metadata=metadata or {},
                    )
            except IntegrityError:  # a concurrent evaluation opened it first: update that one
                return alarm_raise(
                    rule=rule, device=device, at=at, value=value, message=message,
                    affected_power_kw=affected_power_kw, metadata=metadata,
                )  # fmt: skip
            _record(alarm, EventKind.TRIGGERED, at=at, data={"value": value})
            return alarm
        before = alarm.state
        alarm.last_value = value
        alarm.message = message
        alarm.affected_power_kw = affected_power_kw
        if metadata:
            alarm.metadata = {**alarm.metadata, **metadata}
        if not alarm.active:
            alarm.active = True
            alarm.occurrence_count += 1
            alarm.last_triggered_at = at
            alarm.cleared_at = None
            alarm.acknowledged_at = None  # a new occurrence needs a new acknowledgement (ISA-18.2)
            alarm.acknowledged_by = None
            _record(alarm, EventKind.RETRIGGERED, at=at, before=before, data={"value": value})
        if SEVERITY_RANK[rule.severity] > SEVERITY_RANK[alarm.severity]:
            alarm.severity = rule.severity
            _record(alarm, EventKind.ESCALATED, at=at, before=before, data={"severity": rule.severity})
        else:
            alarm.save()
        return alarm


def alarm_return_to_normal(*, alarm: Alarm, at: datetime, value: float | None = None) -> Alarm:
    with transaction.atomic():
        alarm = _locked(alarm)
        if not alarm.active or alarm.closed_at:
            return alarm
        before = alarm.state
        alarm.active = False
        alarm.cleared_at = at
        alarm.affected_power_kw = None
        if value is not None:
            alarm.last_value = value
        _record(alarm, EventKind.RETURNED_TO_NORMAL, at=at, before=before, data={"value": value})
        return alarm


def alarm_add_lost_energy(*, alarm: Alarm, kwh: float) -> None:
    if kwh > 0:
        Alarm.objects.filter(pk=alarm.pk).update(lost_energy_kwh=(alarm.lost_energy_kwh or 0) + kwh)


# --- operator actions --------------------------------------------------------------------------


def _require_open(alarm: Alarm) -> None:
    if alarm.closed_at is not None:
        raise ApiError("The alarm is closed.", code="ALARM_CLOSED", status_code=409)


def alarm_create_manual(
    *, plant, by, title: str, message: str = "", severity: str, device=None, metadata: dict | None = None
) -> Alarm:
    with transaction.atomic():
        alarm = Alarm.objects.create(
            plant=plant,
            device=device,
            device_type=device.type if device else "",
            title=title,
            message=message,
            severity=severity,
            active=True,
            triggered_at=timezone.now(),
            last_triggered_at=timezone.now(),
            metadata=metadata or {},
            created_by=by,
        )
        _record(alarm, EventKind.CREATED, actor=by)
        return alarm


def alarm_acknowledge(*, alarm: Alarm, by, comment: str = "") -> Alarm:
    with transaction.atomic():
        alarm = _locked(alarm)
        _require_open(alarm)
        if alarm.acknowledged_at:
            return alarm
        before = alarm.state
        alarm.acknowledged_at = timezone.now()
        alarm.acknowledged_by = by
        _record(alarm, EventKind.ACKNOWLEDGED, actor=by, comment=comment, before=before)
        return alarm


def alarm_clear(*, alarm: Alarm, by, comment: str = "") -> Alarm:
    """An operator declares the condition gone (manual alarms, or a fault fixed on site)."""
    with transaction.atomic():
        alarm = _locked(alarm)
        _require_open(alarm)
        if not alarm.active:
            return alarm
        before = alarm.state
        alarm.active = False
        alarm.cleared_at = timezone.now()
        alarm.affected_power_kw = None
        _record(alarm, EventKind.CLEARED, actor=by, comment=comment, before=before)
        return alarm


def alarm_close(*, alarm: Alarm, by, comment: str = "") -> Alarm:
    with transaction.atomic():
        alarm = _locked(alarm)
        if alarm.closed_at:
            return alarm
        before = alarm.state
        now = timezone.now()
        alarm.closed_at = now
        alarm.closed_by = by
        if alarm.active:
            alarm.active = False
            alarm.cleared_at = now
        if not alarm.acknowledged_at:
            alarm.acknowledged_at, alarm.acknowledged_by = now, by
        alarm.shelved_until = None
        _record(alarm, EventKind.CLOSED, actor=by, comment=comment, before=before)
        return alarm


def alarm_shelve(*, alarm: Alarm, by, until: datetime, comment: str = "") -> Alarm:
    if until <= timezone.now():
        raise ApiError("'until' must be in the future.", code="SHELVE_UNTIL_IN_PAST", status_code=400)
    with transaction.atomic():
        alarm = _locked(alarm)
        _require_open(alarm)
        before = alarm.state
        alarm.shelved_until = until
        _record(alarm, EventKind.SHELVED, actor=by, comment=comment, before=before, data={"until": until.isoformat()})
        return alarm


def alarms_unshelve_expired(*, now: datetime | None = None) -> int:
    """Shelves that ran out: back to the state the facts say (beat, every minute)."""
    now = now or timezone.now()
    count = 0
    for alarm in Alarm.objects.filter(shelved_until__isnull=False, shelved_until__lte=now, closed_at__isnull=True):
        with transaction.atomic():
            alarm = _locked(alarm)
            if alarm.shelved_until is None or alarm.shelved_until > now:
                continue
            before = alarm.state
            alarm.shelved_until = None
            _record(alarm, EventKind.UNSHELVED, at=now, before=before)
            count += 1
    return count


def alarm_comment(*, alarm: Alarm, by, comment: str) -> AlarmEvent:
    if not comment.strip():
        raise ApiError("A comment needs text.", code="COMMENT_EMPTY", status_code=400)
    with transaction.atomic():
        alarm = _locked(alarm)
        return _record(alarm, EventKind.COMMENT, actor=by, comment=comment, before=alarm.state)


def alarm_assignee_of(*, alarm: Alarm, assignee_id: int | None):
    """The account an alarm may be assigned to: an active user who can see the alarm's plant
    (``None`` unassigns). Anything else is a ``ValidationError`` on ``assignee_id``."""
    if assignee_id is None:
        return None
    assignee = get_user_model().objects.filter(pk=assignee_id, is_active=True).first()
    if assignee is None or PlantAction.VIEW not in plant_actions_for(assignee, alarm.plant):
        raise ValidationError({"assignee_id": ["The assignee must be a user who can see this plant."]})
    return assignee


def alarm_assign(*, alarm: Alarm, by, assignee_id: int | None, comment: str = "") -> Alarm:
    assignee = alarm_assignee_of(alarm=alarm, assignee_id=assignee_id)
    with transaction.atomic():
        alarm = _locked(alarm)
        _require_open(alarm)
        alarm.assignee = assignee
        _record(
            alarm, EventKind.ASSIGNED, actor=by, comment=comment, before=alarm.state,
            data={"assigneeId": assignee.pk if assignee else None},
        )  # fmt: skip
        return alarm


def alarm_delete(*, alarm: Alarm, by) -> None:
    """Alarm history is an audit record: only platform admins delete alarms."""
    if not is_platform_admin(by):
        raise PlantPermissionDenied(message="Only platform admins delete alarms.")
    alarm.delete()


def alarm_update(*, alarm: Alarm, by, data: dict) -> Alarm:
    """Seed 000's PATCH: severity/message/metadata edits, ``acknowledged: true``, ``closed: true``."""
    if data.get("acknowledged"):
        alarm = alarm_acknowledge(alarm=alarm, by=by)
    with transaction.atomic():
        alarm = _locked(alarm)
        changes = {}
        for field in ("message", "metadata"):
            if field in data and data[field] != getattr(alarm, field):
                changes[field] = data[field]
                setattr(alarm, field, data[field])
        if changes:
            _record(alarm, EventKind.UPDATED, actor=by, before=alarm.state, data={"fields": sorted(changes)})
        if "severity" in data and data["severity"] != alarm.severity:
            raised = SEVERITY_RANK[data["severity"]] > SEVERITY_RANK[alarm.severity]
            before = alarm.severity
            alarm.severity = data["severity"]
            kind = EventKind.ESCALATED if raised else EventKind.UPDATED
            _record(alarm, kind, actor=by, before=alarm.state, data={"severity": data["severity"], "from": before})
    if data.get("closed"):
        alarm = alarm_close(alarm=alarm, by=by)
    return alarm


# --- rules -------------------------------------------------------------------------------------

_NUMBER = {"type": "number"}
_BIT = {"type": "integer", "minimum": 0, "maximum": 63}
PARAM_SCHEMAS = {
    "threshold": {
        "type": "object",
        "required": ["metric", "operator", "value"],
        "properties": {
            "metric": {"type": "string", "minLength": 1},
            "operator": {"enum": [">", ">=", "<", "<=", "==", "!="]},
            "value": _NUMBER,
        },
        "additionalProperties": False,
    },
    "communication_loss": {
        "type": "object",
        "properties": {"minutes": {"type": "number", "exclusiveMinimum": 0, "maximum": 10080}},
        "additionalProperties": False,
    },
    "status_code": {
        "type": "object",
        "properties": {
            "metric": {"type": "string", "minLength": 1},
            "codes": {"type": "array", "items": {"type": "integer", "minimum": 0}},
            "bits": {"anyOf": [{"const": "any"}, {"type": "array", "items": _BIT}]},
        },
        "additionalProperties": False,
    },
    "underperformance": {
        "type": "object",
        "properties": {
            "tolerance_pct": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 100},
            "min_irradiance": {"type": "number", "minimum": 0},
        },
        "additionalProperties": False,
    },
    "string_deviation": {
        "type": "object",
        "properties": {
            "deviation_pct": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 100},
            "min_irradiance": {"type": "number", "minimum": 0},
        },
        "additionalProperties": False,
    },
}


def alarm_rule_params_errors(*, rule_type: str, params: dict) -> list[str]:
    """Problems with a rule's parameters (empty when valid), metric keys checked against the catalog."""
    import jsonschema

    from telemetry.models import Metric

    schema = PARAM_SCHEMAS.get(rule_type)
    if schema is None:
        return [f"Unknown rule type '{rule_type}'."]
    validator = jsonschema.Draft202012Validator(schema)
    errors = [
        f"{'.'.join(str(p) for p in error.absolute_path) or 'params'}: {error.message}"
        for error in validator.iter_errors(params)
    ]
    metric = params.get("metric") if isinstance(params, dict) else None
    if not errors and metric and not Metric.objects.filter(key=metric).exists():
        errors.append(f"metric: unknown metric '{metric}'.")
    return errors


DEFAULT_RULES = [
    {
        "name": "Communication loss",
        "rule_type": "communication_loss",
        "severity": "high",
        "params": {"minutes": 30},
        "gate_min_sun_elevation": 5.0,
    },
    {
        "name": "Inverter fault",
        "rule_type": "status_code",
        "device_type": "inverter",
        "severity": "high",
        "params": {"metric": "event_bits", "bits": "any"},
    },
    {
        "name": "Inverter over-temperature",
        "rule_type": "threshold",
        "device_type": "inverter",
        "severity": "medium",
        "params": {"metric": "internal_temp", "operator": ">", "value": 75},
        "trigger_delay_minutes": 10,
        "clear_delay_minutes": 10,
    },
    {
        "name": "String deviation",
        "rule_type": "string_deviation",
        "device_type": "string_monitoring_box",
        "severity": "medium",
        "params": {"deviation_pct": 20, "min_irradiance": 300},
        "trigger_delay_minutes": 15,
        "clear_delay_minutes": 15,
    },
]


def alarm_rules_create_defaults(*, plant) -> list[AlarmRule]:
    """The default rule set of a new plant (editable afterwards); idempotent."""
    if AlarmRule.objects.filter(plant=plant, is_default=True).exists():
        return []
    return AlarmRule.objects.bulk_create(AlarmRule(plant=plant, is_default=True, **spec) for spec in DEFAULT_RULES)


def webhook_url_problem(url: str) -> str | None:
    """Why ``url`` may not be a webhook target, or ``None``: https only, a public host. A name
    is checked where it matters, when sending (resolved then, public addresses only, no
    redirects); resolving it here too would tell callers which internal names exist."""
    parts = urlsplit(url)
    if parts.scheme != "https":
        return "Webhook URLs must use https://."
    host = (parts.hostname or "").strip("[]").lower()
    if host in ("localhost", "") or host.endswith(".localhost"):
        return "Webhook URLs must point to a public host."
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return None
    return None if address_allowed(address) else "Webhook URLs must point to a public host."


@transaction.atomic
def webhook_create(*, by, plant_id: int, url: str, name: str = "", min_severity: str | None = None) -> Webhook:
    """A plant webhook; needs ``manage_keys`` on the plant (re-checked under lock)."""
    plant = plant_get_for(user=by, plant_id=plant_id, action=PlantAction.MANAGE_KEYS, lock=True)
    problem = webhook_url_problem(url)
    if problem:
        raise ValidationError({"url": [problem]})
    fields = {"min_severity": min_severity} if min_severity else {}
    return Webhook.objects.create(plant=plant, created_by=by, name=name, url=url, **fields)


def webhook_of(*, plant, webhook_id: int) -> Webhook:
    """Webhook ``webhook_id`` of ``plant`` (a plant already looked up for the caller)."""
    webhook = Webhook.objects.filter(pk=webhook_id, plant=plant).first()
    if webhook is None:
        raise ApiError("Webhook not found.", code="not_found", status_code=404)
    return webhook


@transaction.atomic
def webhook_delete(*, by, plant_id: int, webhook_id: int) -> None:
    plant = plant_get_for(user=by, plant_id=plant_id, action=PlantAction.MANAGE_KEYS, lock=True)
    webhook_of(plant=plant, webhook_id=webhook_id).delete()
