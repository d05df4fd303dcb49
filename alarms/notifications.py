"""Outbound notifications of alarm transitions: e-mail and signed webhooks.

``notify_transition(event_id=...)`` runs after the transition's transaction committed (see
``alarms.services._record``). It decides who hears about the transition, writes one
``NotificationDelivery`` row per (event, channel, recipient) — unique in the database, so a
transition notifies once however often it is called — and enqueues ``alarms.send_notification``
for each new row after commit.

Who hears about it
------------------
* **Users** with a role on the plant (owner, installer, members of any role — every role may
  VIEW). Platform admins reach every plant but are not subscribed to every plant's alarms; they
  hear about a plant when they hold a role on it. Per ``UserSetting.notifications`` (missing keys
  take the defaults of ``accounts.models.default_notifications``):

  - ``channels.email`` must be on and the user must have an e-mail address;
  - the alarm's severity must rank at least the user's ``min_severity`` (``SEVERITY_RANK``:
    low=info < medium=minor < high=major < critical);
  - **quiet hours** (``{enabled, start, end}``, ``HH:MM``) are read in the **plant's timezone**
    (the fault happens at the plant; this matches the settings serializer's "plant-local"); a
    window with start > end spans midnight, start == end is empty. **Critical alarms bypass quiet
    hours.** A notification skipped for quiet hours is dropped, not deferred.
  - ``channels.webhook`` / ``webhook_url`` (a personal webhook) is not sent yet: there is no
    per-user secret to sign it with.
* **Plant webhooks** (``Webhook``, active, alarm severity ≥ the webhook's ``min_severity``).

Shelved alarms (``shelved_until`` after the event) do not notify — shelving exists to silence.

Flood protection
----------------
When the plant had more than ``FLOOD_THRESHOLD`` (10) alarms opened (triggered, re-triggered or
created) within the last ``FLOOD_WINDOW`` (10 minutes) before an "opened" event, that event's
individual notifications are recorded as ``suppressed`` and, instead, one summary goes to each
recipient per plant per 10-minute window (windows are aligned to the clock: 10:00-10:10, ...;
``flood_window`` unique constraint). The summary is sent when the threshold is crossed and lists
the alarms opened so far; later alarms of the same window are suppressed silently, a flood that
goes on gets one more summary in each following window. Escalations and clears are never
suppressed.

Webhook requests
----------------
``POST`` of the JSON payload (compact, keys sorted — the exact bytes that were signed) with
``Content-Type: application/json``, ``X-SolarHub-Timestamp: <unix seconds>`` and
``X-SolarHub-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>``, bounded by
``WEBHOOK_TIMEOUT_SECONDS`` (5 s). The host is resolved at send time and only public addresses
are connected to, the checked address itself (no second lookup); redirects are never followed
(:mod:`alarms.webhook_transport`, ``WEBHOOK_ALLOW_PRIVATE`` for local receivers).
Any non-2xx answer (3xx included), refused address or network error is retried with exponential
backoff (30 s, 60 s, 120 s, 240 s, with jitter) up to ``MAX_ATTEMPTS`` (5) attempts; ``attempts``,
``last_error`` (the precise reason, for operators) and ``status`` are kept on the delivery.
Receivers verify with :func:`webhook_signature_verify`::

    ok = webhook_signature_verify(
        secret=SECRET,
        timestamp=request.headers["X-SolarHub-Timestamp"],
        body=request.body,  # the raw bytes, before any JSON parsing
        signature=request.headers["X-SolarHub-Signature"],
    )  # False when forged, altered or older/newer than 5 minutes (replay protection)
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timedelta
from datetime import time as dtime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from . import webhook_transport
from .choices import SEVERITY_RANK, Channel, DeliveryStatus, EventKind, Severity, Transition
from .models import Alarm, AlarmEvent, NotificationDelivery, Webhook

logger = logging.getLogger("solarhub.alarms.notifications")

FLOOD_THRESHOLD = 10  # more than this many alarms opened ...
FLOOD_WINDOW = timedelta(minutes=10)  # ... within this long → summaries instead
MAX_ATTEMPTS = 5
BACKOFF_BASE_S = 30
# The test endpoint's answer when no HTTP answer came back, whatever the cause (refused address,
# unknown name, connection refused, unreachable, filtered, timed out, TLS): one text, after the
# full timeout, so the endpoint tells nothing about the network behind the URL.
TEST_DELIVERY_FAILED = "Delivery failed: no HTTP answer from the webhook URL."
SUMMARY_MAX_ITEMS = 20

OPENING_KINDS = (EventKind.TRIGGERED, EventKind.RETRIGGERED, EventKind.CREATED)
TRANSITION_OF = {
    EventKind.TRIGGERED: Transition.OPENED,
    EventKind.RETRIGGERED: Transition.OPENED,
    EventKind.CREATED: Transition.OPENED,
    EventKind.ESCALATED: Transition.ESCALATED,
    EventKind.RETURNED_TO_NORMAL: Transition.CLEARED,
    EventKind.CLEARED: Transition.CLEARED,
}


# --- preferences ---------------------------------------------------------------------------------


_suppressed: ContextVar[bool] = ContextVar("alarm_notifications_suppressed", default=False)


@contextmanager
def notifications_suppressed() -> Iterator[None]:
    """Alarm transitions inside this block notify nobody (no e-mail, no webhook, no delivery
    row): for seeding demo data and replaying history, whose alarms are real but whose
    "news" is days old. The transitions themselves are recorded as usual."""
    token = _suppressed.set(True)
    try:
        yield
    finally:
        _suppressed.reset(token)


def notifications_are_suppressed() -> bool:
    return _suppressed.get()


def _rank(severity: str | None) -> int:
    return SEVERITY_RANK.get(str(severity or "").lower(), 0)


def _preferences(stored: dict | None) -> dict:
    from accounts.models import default_notifications

    prefs = default_notifications()
    stored = stored if isinstance(stored, dict) else {}
    for key, value in stored.items():
        if isinstance(prefs.get(key), dict) and isinstance(value, dict):
            prefs[key] = {**prefs[key], **value}
        else:
            prefs[key] = value
    return prefs


def _parse_hhmm(text) -> dtime | None:
    try:
        hours, minutes = str(text).split(":")
        return dtime(int(hours), int(minutes))
    except (ValueError, TypeError):
        return None


def in_quiet_hours(quiet: dict | None, *, now: datetime, tz_name: str) -> bool:
    """Whether ``now`` falls inside the quiet hours, read in the timezone ``tz_name`` (the
    plant's). start > end spans midnight (22:00-07:00); start == end is an empty window."""
    if not isinstance(quiet, dict) or not quiet.get("enabled"):
        return False
    start, end = _parse_hhmm(quiet.get("start")), _parse_hhmm(quiet.get("end"))
    if start is None or end is None or start == end:
        return False
    try:
        zone = ZoneInfo(tz_name or "UTC")
    except Exception:  # noqa: BLE001 -- an unknown zone name: fall back to UTC
        zone = ZoneInfo("UTC")
    local = now.astimezone(zone).time().replace(second=0, microsecond=0)
    if start < end:
        return start <= local < end
    return local >= start or local < end


def email_allowed(prefs: dict, *, severity: str, now: datetime, tz_name: str) -> bool:
    """The e-mail rule of one user's preferences for one alarm severity."""
    channels = prefs.get("channels") or {}
    if not channels.get("email"):
        return False
    if _rank(severity) < _rank(prefs.get("min_severity") or "major"):
        return False
    if severity == Severity.CRITICAL:  # critical alarms bypass quiet hours
        return True
    return not in_quiet_hours(prefs.get("quiet_hours"), now=now, tz_name=tz_name)


def _plant_users(plant) -> list:
    """Active users with a role on the plant (all roles include VIEW), with an e-mail address."""
    from accounts.models import User
    from plants.models import PlantMembership

    member_ids = PlantMembership.objects.filter(plant_id=plant.pk).values("user_id")
    condition = Q(id__in=member_ids)
    if plant.owner_id:
        condition |= Q(id=plant.owner_id)
    if plant.installer_id:
        condition |= Q(id=plant.installer_id)
    return list(User.objects.filter(condition, is_active=True).exclude(email="").order_by("id"))


def _email_recipients(plant, *, severity: str, now: datetime) -> list[str]:
    from accounts.models import UserSetting

    users = _plant_users(plant)
    stored = dict(UserSetting.objects.filter(user__in=users).values_list("user_id", "notifications"))
    emails: list[str] = []
    for user in users:
        prefs = _preferences(stored.get(user.pk))
        if email_allowed(prefs, severity=severity, now=now, tz_name=plant.timezone) and user.email not in emails:
            emails.append(user.email)
    return emails


def _webhooks(plant, *, severity: str) -> list[Webhook]:
    return [
        hook
        for hook in Webhook.objects.filter(plant_id=plant.pk, active=True)
        if _rank(severity) >= _rank(hook.min_severity)
    ]


# --- payloads ------------------------------------------------------------------------------------


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def _alarm_payload(alarm: Alarm) -> dict:
    return {
        "id": alarm.pk,
        "plantId": alarm.plant_id,
        "plantName": alarm.plant.name,
        "deviceId": alarm.device_id,
        "ruleId": alarm.rule_id,
        "title": alarm.title,
        "message": alarm.message,
        "severity": alarm.severity,
        "state": alarm.state,
        "active": alarm.active,
        "triggeredAt": _iso(alarm.triggered_at),
        "clearedAt": _iso(alarm.cleared_at),
        "occurrenceCount": alarm.occurrence_count,
        "lastValue": alarm.last_value,
    }


def _event_payload(event: AlarmEvent, transition: str, severity: str) -> dict:
    alarm = event.alarm
    return {
        "type": f"alarm.{transition}",
        "transition": transition,
        "eventId": event.pk,
        "eventKind": event.kind,
        "at": _iso(event.at),
        "severity": severity,
        "alarm": _alarm_payload(alarm),
    }


def _summary_payload(plant, *, window_start: datetime, now: datetime) -> dict:
    opened = (
        AlarmEvent.objects.filter(
            alarm__plant_id=plant.pk, kind__in=OPENING_KINDS, at__gt=now - FLOOD_WINDOW, at__lte=now
        )
        .select_related("alarm")
        .order_by("-at", "-id")
    )
    events = list(opened)
    severities = [event.alarm.severity for event in events]
    top = max(severities, key=_rank) if severities else Severity.LOW
    return {
        "type": "alarm.flood_summary",
        "plantId": plant.pk,
        "plantName": plant.name,
        "windowStart": _iso(window_start),
        "windowEnd": _iso(window_start + FLOOD_WINDOW),
        "alarmCount": len(events),
        "severity": top,
        "alarms": [
            {"id": e.alarm_id, "title": e.alarm.title, "severity": e.alarm.severity, "at": _iso(e.at)}
            for e in events[:SUMMARY_MAX_ITEMS]
        ],
    }


# --- deciding and recording ----------------------------------------------------------------------


def flood_window_start(at: datetime) -> datetime:
    """The clock-aligned 10-minute window ``at`` falls in."""
    at = at.astimezone(ZoneInfo("UTC"))
    minutes = int(FLOOD_WINDOW.total_seconds() // 60)
    return at.replace(minute=at.minute - at.minute % minutes, second=0, microsecond=0)


def plant_in_flood(plant_id: int, *, at: datetime) -> bool:
    """More than ``FLOOD_THRESHOLD`` alarms opened in the ``FLOOD_WINDOW`` up to ``at``."""
    count = AlarmEvent.objects.filter(
        alarm__plant_id=plant_id, kind__in=OPENING_KINDS, at__gt=at - FLOOD_WINDOW, at__lte=at
    ).count()
    return count > FLOOD_THRESHOLD


def _create_once(**fields) -> NotificationDelivery | None:
    """Insert one delivery; None when its unique key already exists (already notified)."""
    try:
        with transaction.atomic():
            return NotificationDelivery.objects.create(**fields)
    except IntegrityError:
        return None


def _enqueue(delivery_ids: list[int]) -> None:
    from .tasks import send_notification

    for delivery_id in delivery_ids:
        transaction.on_commit(lambda pk=delivery_id: send_notification.delay(pk))


def notify_transition(*, event_id: int, now: datetime | None = None) -> list[int]:
    """Record and enqueue the notifications of one alarm transition (opened, escalated,
    cleared). Idempotent: a second call for the same event creates and sends nothing. Returns
    the ids of the deliveries created (individual and summary) that will be sent."""
    try:
        return _notify_transition(event_id=event_id, now=now or timezone.now())
    except Exception:  # a notification problem must never break the alarm lifecycle
        logger.exception("Notifying alarm event %s failed", event_id)
        return []


def _notify_transition(*, event_id: int, now: datetime) -> list[int]:
    event = AlarmEvent.objects.select_related("alarm__plant").filter(pk=event_id).first()
    if event is None:
        return []
    transition = TRANSITION_OF.get(event.kind)
    if transition is None:
        return []
    alarm = event.alarm
    plant = alarm.plant
    if alarm.shelved_until is not None and alarm.shelved_until > event.at:
        return []
    severity = (event.data or {}).get("severity") if event.kind == EventKind.ESCALATED else None
    severity = severity or alarm.severity
    emails = _email_recipients(plant, severity=severity, now=now)
    hooks = _webhooks(plant, severity=severity)
    flooded = transition == Transition.OPENED and plant_in_flood(plant.pk, at=event.at)
    payload = _event_payload(event, transition, severity)
    status = DeliveryStatus.SUPPRESSED if flooded else DeliveryStatus.PENDING
    common = {"plant": plant, "alarm": alarm, "event": event, "transition": transition, "payload": payload}
    to_send: list[int] = []
    with transaction.atomic():
        for email in emails:
            delivery = _create_once(**common, channel=Channel.EMAIL, recipient=email, status=status)
            if delivery is not None and not flooded:
                to_send.append(delivery.pk)
        for hook in hooks:
            delivery = _create_once(
                **common, channel=Channel.WEBHOOK, recipient=str(hook.pk), webhook=hook, status=status
            )
            if delivery is not None and not flooded:
                to_send.append(delivery.pk)
        if flooded:
            to_send += _flood_summaries(plant, at=event.at, now=now)
        _enqueue(to_send)
    return to_send


def _flood_summaries(plant, *, at: datetime, now: datetime) -> list[int]:
    """One summary per recipient for the plant's current flood window (once per window)."""
    window = flood_window_start(at)
    if NotificationDelivery.objects.filter(plant_id=plant.pk, flood_window=window).exists():
        return []  # this window's summary went out already
    payload = _summary_payload(plant, window_start=window, now=at)
    severity = payload["severity"]
    common = {"plant": plant, "flood_window": window, "payload": payload, "status": DeliveryStatus.PENDING}
    created: list[int] = []
    for email in _email_recipients(plant, severity=severity, now=now):
        delivery = _create_once(**common, channel=Channel.EMAIL, recipient=email)
        if delivery is not None:
            created.append(delivery.pk)
    for hook in _webhooks(plant, severity=severity):
        delivery = _create_once(**common, channel=Channel.WEBHOOK, recipient=str(hook.pk), webhook=hook)
        if delivery is not None:
            created.append(delivery.pk)
    return created


# --- sending -------------------------------------------------------------------------------------


def webhook_body(payload: dict) -> bytes:
    """The exact bytes POSTed (and signed): compact JSON with sorted keys."""
    return json.dumps(payload, separators=(",", ":"), sort_keys=True, default=str).encode()


def webhook_signature(*, secret: str, timestamp: int | str, body: bytes | str) -> str:
    """``sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>``."""
    if isinstance(body, str):
        body = body.encode()
    message = str(timestamp).encode() + b"." + body
    return "sha256=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def webhook_signature_verify(
    *, secret: str, timestamp: int | str, body: bytes | str, signature: str, tolerance_s: int = 300
) -> bool:
    """For receivers: is ``signature`` (the ``X-SolarHub-Signature`` header) SolarHub's
    signature of ``body`` (the raw request body) at ``timestamp`` (``X-SolarHub-Timestamp``)?

    False when the signature does not match (constant-time comparison), the header is malformed,
    or the timestamp is more than ``tolerance_s`` seconds away from now (a replayed request)."""
    try:
        sent_at = int(str(timestamp).strip())
    except (TypeError, ValueError):
        return False
    if abs(time.time() - sent_at) > tolerance_s:
        return False
    if not isinstance(signature, str) or not signature.startswith("sha256="):
        return False
    expected = webhook_signature(secret=secret, timestamp=sent_at, body=body)
    return hmac.compare_digest(expected, signature.strip())


def webhook_post(*, url: str, secret: str, payload: dict, timeout: float | None = None) -> int:
    """POST one signed payload under the SSRF rules of :mod:`alarms.webhook_transport`. Returns
    the HTTP status; raises a :class:`~alarms.webhook_transport.WebhookError` otherwise (a 3xx
    included: redirects are not followed)."""
    body = webhook_body(payload)
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "SolarHub-Webhook/1",
        "X-SolarHub-Timestamp": str(timestamp),
        "X-SolarHub-Signature": webhook_signature(secret=secret, timestamp=timestamp, body=body),
    }
    return webhook_transport.post(
        url=url,
        body=body,
        headers=headers,
        timeout=float(timeout if timeout is not None else settings.WEBHOOK_TIMEOUT_SECONDS),
        allow_private=settings.WEBHOOK_ALLOW_PRIVATE,
    )


def _email_text(payload: dict) -> tuple[str, str]:
    if payload.get("type") == "alarm.flood_summary":
        subject = f"[SolarHub] {payload['alarmCount']} alarms on {payload['plantName']} in 10 minutes"
        lines = [
            f"Plant {payload['plantName']} raised {payload['alarmCount']} alarms since "
            f"{payload['windowStart']}; individual notifications are paused for this window.",
            "",
        ]
        lines += [f"- [{a['severity']}] {a['title']} ({a['at']})" for a in payload.get("alarms", [])]
        return subject, "\n".join(lines)
    alarm = payload.get("alarm", {})
    verb = {"opened": "Alarm", "escalated": "Alarm escalated", "cleared": "Alarm cleared"}.get(
        payload.get("transition"), "Alarm"
    )
    subject = f"[SolarHub] {verb} [{payload.get('severity')}]: {alarm.get('title')} — {alarm.get('plantName')}"
    body = "\n".join(
        [
            f"{verb}: {alarm.get('title')}",
            f"Plant: {alarm.get('plantName')}",
            f"Severity: {payload.get('severity')}",
            f"State: {alarm.get('state')}",
            f"At: {payload.get('at')}",
            "",
            alarm.get("message") or "",
        ]
    )
    return subject, body


class DeliveryOutcome:
    SENT = "sent"
    RETRY = "retry"
    FAILED = "failed"
    SKIPPED = "skipped"


def delivery_send(*, delivery_id: int) -> str:
    """One attempt at one delivery. Records attempts/last_error/status; returns a
    :class:`DeliveryOutcome` (``retry`` → the caller schedules another attempt)."""
    with transaction.atomic():
        delivery = (
            NotificationDelivery.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("webhook")
            .filter(pk=delivery_id)
            .first()
        )
        if delivery is None or delivery.status != DeliveryStatus.PENDING:
            return DeliveryOutcome.SKIPPED  # gone, already sent/failed, or another worker has it
        delivery.attempts += 1
        try:
            if delivery.channel == Channel.EMAIL:
                subject, text = _email_text(delivery.payload)
                send_mail(subject, text, settings.DEFAULT_FROM_EMAIL, [delivery.recipient], fail_silently=False)
            else:
                hook = delivery.webhook
                if hook is None or not hook.active:
                    delivery.status = DeliveryStatus.FAILED
                    delivery.last_error = "The webhook was removed or deactivated."
                    delivery.save(update_fields=["attempts", "status", "last_error"])
                    return DeliveryOutcome.FAILED
                webhook_post(url=hook.url, secret=hook.secret, payload=delivery.payload)
        except Exception as exc:  # noqa: BLE001 -- every failure is recorded and retried
            delivery.last_error = _describe(exc)[:2000]
            final = delivery.attempts >= MAX_ATTEMPTS
            delivery.status = DeliveryStatus.FAILED if final else DeliveryStatus.PENDING
            delivery.save(update_fields=["attempts", "status", "last_error"])
            logger.warning("Notification %s attempt %s failed: %s", delivery.pk, delivery.attempts, delivery.last_error)
            return DeliveryOutcome.FAILED if final else DeliveryOutcome.RETRY
        delivery.status = DeliveryStatus.SENT
        delivery.sent_at = timezone.now()
        delivery.last_error = ""
        delivery.save(update_fields=["attempts", "status", "last_error", "sent_at"])
        return DeliveryOutcome.SENT


def _describe(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"


def retry_countdown(attempts: int) -> int:
    """Seconds before the next attempt after ``attempts`` failed ones: 30, 60, 120, 240 (the
    task adds jitter)."""
    return BACKOFF_BASE_S * 2 ** max(attempts - 1, 0)


def webhook_test(*, webhook: Webhook) -> dict:
    """Send one signed ``ping`` to the webhook now (no retries, nothing recorded).

    Not a port scanner: an HTTP answer is reported with its status (it came from a public address
    — or a private one only where ``WEBHOOK_ALLOW_PRIVATE`` is on), but every failure without one
    — refused address, unknown name, connection refused, host unreachable, filtered, timed out,
    TLS failure — answers the same :data:`TEST_DELIVERY_FAILED`, and only once the full timeout
    has passed. The precise reason is logged for operators."""
    payload = {"type": "ping", "webhookId": webhook.pk, "plantId": webhook.plant_id, "at": _iso(timezone.now())}
    timeout = float(settings.WEBHOOK_TIMEOUT_SECONDS)
    started = time.monotonic()
    try:
        status = webhook_post(url=webhook.url, secret=webhook.secret, payload=payload, timeout=timeout)
    except webhook_transport.WebhookHTTPError as exc:
        return {"delivered": False, "status_code": exc.status, "error": str(exc)[:500]}
    except Exception as exc:  # noqa: BLE001 -- every other failure looks alike from outside
        logger.info("Webhook %s test ping failed: %s", webhook.pk, _describe(exc))
        time.sleep(max(started + timeout - time.monotonic(), 0))
        return {"delivered": False, "status_code": None, "error": TEST_DELIVERY_FAILED}
    return {"delivered": True, "status_code": status, "error": ""}
