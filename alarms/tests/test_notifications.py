"""Alarm notifications: once per transition, per user preferences (channel, minimum severity,
quiet hours in the plant's timezone, critical bypass), flood summaries, signed webhooks against
a real local HTTP server with retries, and the plant webhook endpoints."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone

from accounts.models import UserSetting, default_notifications
from accounts.services import user_create
from alarms import services
from alarms.choices import Channel, DeliveryStatus, RuleType, Severity, Transition
from alarms.models import AlarmEvent, AlarmRule, NotificationDelivery, Webhook
from alarms.notifications import (
    MAX_ATTEMPTS,
    flood_window_start,
    in_quiet_hours,
    notify_transition,
    webhook_signature,
    webhook_signature_verify,
)
from plants.choices import PlantRole
from plants.models import PlantMembership
from solarhub.testing.personas import api_client_for
from solarhub.testing.server import http_server_running

pytestmark = pytest.mark.django_db


def _prefs(user, **changes):
    prefs = default_notifications()
    for key, value in changes.items():
        prefs[key] = {**prefs[key], **value} if isinstance(value, dict) else value
    UserSetting.objects.update_or_create(user=user, defaults={"notifications": prefs})


def _manual(plant, by, severity=Severity.HIGH, title="Inverter offline"):
    return services.alarm_create_manual(plant=plant, by=by, title=title, severity=severity)


def _rule(plant, severity=Severity.HIGH, name="Over-temperature"):
    return AlarmRule.objects.create(
        plant=plant,
        name=name,
        rule_type=RuleType.THRESHOLD,
        severity=severity,
        params={"metric": "internal_temp", "operator": ">", "value": 75},
    )


def _sent_to(email):
    return [m for m in mail.outbox if email in m.to]


@pytest.fixture
def recipients(customer, installer):
    """Both plant users hear about everything by e-mail, without quiet hours."""
    _prefs(customer, min_severity="info")
    _prefs(installer, min_severity="info")


# --- once per transition --------------------------------------------------------------------------


def test_opened_alarm_mails_each_plant_user_once_even_when_notified_twice(
    own_plant, customer, installer, outsider, recipients, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        alarm = _manual(own_plant, customer)
    assert {m.to[0] for m in mail.outbox} == {customer.email, installer.email}
    assert "Inverter offline" in mail.outbox[0].subject
    assert not _sent_to(outsider.email)

    event = AlarmEvent.objects.get(alarm=alarm, kind="created")
    with django_capture_on_commit_callbacks(execute=True):
        assert notify_transition(event_id=event.pk) == []
        assert notify_transition(event_id=event.pk) == []
    assert len(mail.outbox) == 2
    deliveries = NotificationDelivery.objects.filter(alarm=alarm)
    assert deliveries.count() == 2
    assert {d.status for d in deliveries} == {DeliveryStatus.SENT}
    assert {d.transition for d in deliveries} == {Transition.OPENED}
    assert all(d.attempts == 1 and d.sent_at for d in deliveries)


@pytest.mark.django_db(transaction=True)
def test_notifications_go_out_only_after_the_transition_commits(own_plant, customer, installer):
    _prefs(customer, min_severity="info")
    with transaction.atomic():
        alarm = _manual(own_plant, customer)
        assert mail.outbox == [] and not NotificationDelivery.objects.exists()
    assert [m.to for m in mail.outbox if customer.email in m.to] == [[customer.email]]
    with transaction.atomic():  # rolled back: nobody hears of it
        services.alarm_clear(alarm=alarm, by=customer)
        transaction.set_rollback(True)
    assert NotificationDelivery.objects.filter(transition=Transition.CLEARED).count() == 0


def test_members_hear_too_but_acknowledge_does_not_notify(
    own_plant, customer, installer, recipients, django_capture_on_commit_callbacks
):
    viewer = user_create(email="viewer@example.com", password="x-Pass-1234", username="viewer")
    PlantMembership.objects.create(user=viewer, plant=own_plant, role=PlantRole.VIEWER)
    _prefs(viewer, min_severity="info")
    with django_capture_on_commit_callbacks(execute=True):
        alarm = _manual(own_plant, customer)
    assert len(_sent_to(viewer.email)) == 1
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.alarm_acknowledge(alarm=alarm, by=customer)
    assert mail.outbox == []


def test_escalation_and_clear_notify_once_each(
    own_plant, customer, installer, recipients, django_capture_on_commit_callbacks
):
    rule = _rule(own_plant, severity=Severity.MEDIUM)
    at = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        alarm = services.alarm_raise(rule=rule, device=None, at=at, value=80.0, message="80 °C")
    assert len(_sent_to(customer.email)) == 1
    # the same condition again (still active): no new transition, no new notification
    with django_capture_on_commit_callbacks(execute=True):
        services.alarm_raise(rule=rule, device=None, at=at + timedelta(minutes=1), value=81.0, message="81 °C")
    assert len(_sent_to(customer.email)) == 1

    rule.severity = Severity.CRITICAL
    rule.save()
    with django_capture_on_commit_callbacks(execute=True):
        services.alarm_raise(rule=rule, device=None, at=at + timedelta(minutes=2), value=95.0, message="95 °C")
    escalated = _sent_to(customer.email)[-1]
    assert "escalated" in escalated.subject and "critical" in escalated.subject

    with django_capture_on_commit_callbacks(execute=True):
        services.alarm_return_to_normal(alarm=alarm, at=at + timedelta(minutes=3), value=60.0)
    assert "cleared" in _sent_to(customer.email)[-1].subject
    transitions = list(
        NotificationDelivery.objects.filter(alarm=alarm, recipient=customer.email)
        .order_by("id")
        .values_list("transition", flat=True)
    )
    assert transitions == [Transition.OPENED, Transition.ESCALATED, Transition.CLEARED]


# --- preferences ----------------------------------------------------------------------------------


def test_email_channel_off_and_min_severity_are_respected(
    own_plant, customer, installer, django_capture_on_commit_callbacks
):
    _prefs(customer, channels={"email": False})
    _prefs(installer, min_severity="major")  # = high
    with django_capture_on_commit_callbacks(execute=True):
        _manual(own_plant, customer, severity=Severity.MEDIUM)
    assert mail.outbox == []  # customer has e-mail off, medium is below the installer's "major"
    with django_capture_on_commit_callbacks(execute=True):
        _manual(own_plant, customer, severity=Severity.HIGH, title="Ground fault")
    assert [m.to for m in mail.outbox] == [[installer.email]]


def test_users_without_settings_get_the_defaults(own_plant, customer, installer, django_capture_on_commit_callbacks):
    UserSetting.objects.filter(user__in=[customer, installer]).delete()
    with django_capture_on_commit_callbacks(execute=True):
        _manual(own_plant, customer, severity=Severity.MEDIUM)  # default minimum is "major"
    assert mail.outbox == []
    with django_capture_on_commit_callbacks(execute=True):
        _manual(own_plant, customer, severity=Severity.HIGH, title="Ground fault")
    assert len(mail.outbox) == 2


def _quiet_now(plant) -> dict:
    """Quiet hours around the plant-local time right now."""
    local = timezone.now().astimezone(ZoneInfo(plant.timezone))
    start = (local - timedelta(hours=1)).strftime("%H:%M")
    end = (local + timedelta(hours=1)).strftime("%H:%M")
    return {"enabled": True, "start": start, "end": end}


def test_quiet_hours_in_the_plant_timezone_hold_back_all_but_critical(
    own_plant, customer, installer, django_capture_on_commit_callbacks
):
    _prefs(customer, min_severity="info", quiet_hours=_quiet_now(own_plant))
    _prefs(installer, min_severity="info")
    with django_capture_on_commit_callbacks(execute=True):
        _manual(own_plant, customer, severity=Severity.HIGH)
    assert [m.to for m in mail.outbox] == [[installer.email]]
    with django_capture_on_commit_callbacks(execute=True):
        _manual(own_plant, customer, severity=Severity.CRITICAL, title="Arc fault")
    assert len(_sent_to(customer.email)) == 1  # critical bypasses quiet hours


def test_quiet_hours_window_rules():
    now = timezone.now().replace(hour=23, minute=30)  # UTC
    overnight = {"enabled": True, "start": "22:00", "end": "07:00"}
    assert in_quiet_hours(overnight, now=now, tz_name="UTC")
    assert not in_quiet_hours({**overnight, "enabled": False}, now=now, tz_name="UTC")
    assert not in_quiet_hours(overnight, now=now.replace(hour=12), tz_name="UTC")
    # 23:30 UTC is 15:30 in Los Angeles (or 16:30 in summer): not quiet there
    assert not in_quiet_hours(overnight, now=now, tz_name="America/Los_Angeles")
    assert in_quiet_hours({"enabled": True, "start": "09:00", "end": "10:00"}, now=now.replace(hour=9), tz_name="UTC")
    assert not in_quiet_hours({"enabled": True, "start": "09:00", "end": "09:00"}, now=now, tz_name="UTC")


# --- flood protection -----------------------------------------------------------------------------


def test_flood_sends_ten_alarms_then_one_summary_per_window(
    own_plant, customer, installer, recipients, django_capture_on_commit_callbacks
):
    hook = Webhook.objects.create(plant=own_plant, url="http://127.0.0.1:9/never", active=False)
    window = flood_window_start(timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        for i in range(14):
            rule = _rule(own_plant, name=f"Rule {i}")
            services.alarm_raise(
                rule=rule, device=None, at=window + timedelta(minutes=2, seconds=i), value=1.0, message="x"
            )
    to_customer = _sent_to(customer.email)
    assert len(to_customer) == 11  # ten individual alarms, then one summary instead of four more
    summary = to_customer[-1]
    assert "11 alarms" in summary.subject
    assert summary.body.count("- [high]") == 11
    individual = NotificationDelivery.objects.filter(recipient=customer.email, event__isnull=False)
    assert individual.filter(status=DeliveryStatus.SENT).count() == 10
    assert individual.filter(status=DeliveryStatus.SUPPRESSED).count() == 4
    summaries = NotificationDelivery.objects.filter(plant=own_plant, flood_window=window)
    assert {(d.channel, d.recipient) for d in summaries} == {
        (Channel.EMAIL, customer.email),
        (Channel.EMAIL, installer.email),
    }
    assert not NotificationDelivery.objects.filter(webhook=hook).exists()  # inactive webhooks hear nothing


# --- webhooks against a real local HTTP server ----------------------------------------------------


@pytest.fixture
def allow_private_webhooks(settings):
    """The receivers below listen on 127.0.0.1, which webhooks refuse unless this is on."""
    settings.WEBHOOK_ALLOW_PRIVATE = True


class _Receiver:
    """An http.server on 127.0.0.1 answering the statuses it is given (then 200)."""

    def __init__(self, statuses=()):
        self.statuses = list(statuses)
        self.requests: list[dict] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.requests.append({"headers": dict(self.headers), "body": body, "path": self.path})
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self._running = http_server_running(self.server)

    def __enter__(self):
        self._running.__enter__()
        return self

    def __exit__(self, *exc):
        self._running.__exit__(*exc)


def test_webhook_post_is_signed_and_verifies(
    own_plant, customer, django_capture_on_commit_callbacks, allow_private_webhooks
):
    _prefs(customer, channels={"email": False})
    with _Receiver() as receiver:
        hook = Webhook.objects.create(plant=own_plant, url=receiver.url, min_severity=Severity.MEDIUM)
        low = Webhook.objects.create(plant=own_plant, url=receiver.url, min_severity=Severity.CRITICAL)
        with django_capture_on_commit_callbacks(execute=True):
            alarm = _manual(own_plant, customer, severity=Severity.HIGH)
    assert len(receiver.requests) == 1  # the critical-only webhook was not called
    request = receiver.requests[0]
    headers = {k.lower(): v for k, v in request["headers"].items()}
    assert headers["content-type"] == "application/json"
    timestamp, signature, body = headers["x-solarhub-timestamp"], headers["x-solarhub-signature"], request["body"]
    assert abs(int(timestamp) - time.time()) < 60
    assert signature.startswith("sha256=")
    assert webhook_signature_verify(secret=hook.secret, timestamp=timestamp, body=body, signature=signature)
    assert webhook_signature_verify(secret=hook.secret, timestamp=timestamp, body=body.decode(), signature=signature)
    assert not webhook_signature_verify(secret=low.secret, timestamp=timestamp, body=body, signature=signature)
    assert not webhook_signature_verify(secret=hook.secret, timestamp=timestamp, body=body + b" ", signature=signature)
    assert not webhook_signature_verify(secret=hook.secret, timestamp="bogus", body=body, signature=signature)
    old = int(timestamp) - 3600
    old_signature = webhook_signature(secret=hook.secret, timestamp=old, body=body)
    assert not webhook_signature_verify(secret=hook.secret, timestamp=old, body=body, signature=old_signature)
    assert webhook_signature_verify(
        secret=hook.secret, timestamp=old, body=body, signature=old_signature, tolerance_s=7200
    )

    payload = json.loads(body)
    assert payload["type"] == "alarm.opened"
    assert payload["alarm"]["id"] == alarm.pk and payload["alarm"]["plantId"] == own_plant.pk
    assert payload["severity"] == "high"
    delivery = NotificationDelivery.objects.get(webhook=hook)
    assert (delivery.status, delivery.attempts, delivery.recipient) == (DeliveryStatus.SENT, 1, str(hook.pk))


def test_webhook_retries_after_a_500_then_succeeds(
    own_plant, customer, django_capture_on_commit_callbacks, allow_private_webhooks
):
    _prefs(customer, channels={"email": False})
    with _Receiver(statuses=[500, 503]) as receiver:
        hook = Webhook.objects.create(plant=own_plant, url=receiver.url)
        with django_capture_on_commit_callbacks(execute=True):
            _manual(own_plant, customer)
    assert len(receiver.requests) == 3
    assert len({r["body"] for r in receiver.requests}) == 1  # the same payload each attempt
    delivery = NotificationDelivery.objects.get(webhook=hook)
    assert (delivery.status, delivery.attempts, delivery.last_error) == (DeliveryStatus.SENT, 3, "")


def test_webhook_gives_up_after_five_attempts(
    own_plant, customer, django_capture_on_commit_callbacks, allow_private_webhooks
):
    _prefs(customer, channels={"email": False})
    with _Receiver(statuses=[500] * 10) as receiver:
        hook = Webhook.objects.create(plant=own_plant, url=receiver.url)
        with django_capture_on_commit_callbacks(execute=True):
            _manual(own_plant, customer)
    assert len(receiver.requests) == MAX_ATTEMPTS
    delivery = NotificationDelivery.objects.get(webhook=hook)
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.FAILED, MAX_ATTEMPTS)
    assert "500" in delivery.last_error


def test_unreachable_webhook_records_the_error(
    own_plant, customer, django_capture_on_commit_callbacks, allow_private_webhooks
):
    _prefs(customer, channels={"email": False})
    hook = Webhook.objects.create(plant=own_plant, url="http://127.0.0.1:9/closed")
    with django_capture_on_commit_callbacks(execute=True):
        _manual(own_plant, customer)
    delivery = NotificationDelivery.objects.get(webhook=hook)
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.FAILED, MAX_ATTEMPTS)
    assert delivery.last_error


# --- endpoints ------------------------------------------------------------------------------------


def test_webhook_endpoints(own_plant, customer, installer, outsider):
    client = api_client_for(customer)
    url = f"/api/plants/{own_plant.id}/webhooks"
    response = client.post(url, {"name": "ops", "url": "https://hooks.example.com/x?token=abc"}, format="json")
    assert response.status_code == 201, response.content
    created = response.json()
    hook = Webhook.objects.get(pk=created["id"])
    assert created["secret"] == hook.secret
    assert created["minSeverity"] == "low" and created["plantId"] == own_plant.id

    listed = client.get(url).json()
    assert [h["id"] for h in listed] == [hook.id]
    assert "secret" not in listed[0] and hook.secret not in json.dumps(listed)
    assert listed[0]["secretHint"].startswith(hook.secret[:4])
    assert listed[0]["url"] == hook.url

    viewer = user_create(email="viewer@example.com", password="x-Pass-1234", username="viewer")
    PlantMembership.objects.create(user=viewer, plant=own_plant, role=PlantRole.VIEWER)
    as_viewer = api_client_for(viewer)
    seen = as_viewer.get(url).json()
    assert seen[0]["url"] == "https://hooks.example.com/…"  # the token stays with the managers
    assert as_viewer.post(url, {"url": "https://hooks.example.com/y"}, format="json").status_code == 403
    assert as_viewer.delete(f"{url}/{hook.id}").status_code == 403
    assert api_client_for(outsider).get(url).status_code == 404

    for bad in ("http://hooks.example.com/x", "https://127.0.0.1/x", "https://10.0.0.5/x", "https://localhost/x"):
        response = client.post(url, {"url": bad}, format="json")
        assert response.status_code == 400, bad
        assert response.json()["error_code"] == "VALIDATION_ERROR"

    assert client.delete(f"{url}/999999").status_code == 404
    assert client.delete(f"{url}/{hook.id}").status_code == 204
    assert not Webhook.objects.filter(pk=hook.id).exists()


def test_webhook_test_endpoint_pings_the_receiver(own_plant, installer, allow_private_webhooks):
    with _Receiver(statuses=[200]) as receiver:
        hook = Webhook.objects.create(plant=own_plant, url=receiver.url)
        response = api_client_for(installer).post(f"/api/plants/{own_plant.id}/webhooks/{hook.id}/test")
    assert response.status_code == 200
    assert response.json() == {"delivered": True, "statusCode": 200, "error": ""}
    request = receiver.requests[0]
    headers = {k.lower(): v for k, v in request["headers"].items()}
    assert json.loads(request["body"])["type"] == "ping"
    assert webhook_signature_verify(
        secret=hook.secret,
        timestamp=headers["x-solarhub-timestamp"],
        body=request["body"],
        signature=headers["x-solarhub-signature"],
    )
