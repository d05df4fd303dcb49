"""The MQTT door of the ingest service (issue 5, "Ingestion — one service, three doors").

Data loggers publish JSON to ``{prefix}/{plantCode}/{serial}/telemetry`` (prefix ``solarhub``):
``{"ts" | "timestamp": ..., "metrics": {key: number}}`` or a list of those, and device events to
``{prefix}/{plantCode}/{serial}/events``: ``{"ts" | "timestamp", "eventType", "code"?,
"message"?, "severity"?}`` or a list of those (:mod:`telemetry.events`). The topic is the only
source of identity: the plant code selects the plant and the serial selects a device *of that
plant only*, so a message can never write to another plant's device (an ``deviceId`` in the
payload is ignored). Which logger may publish under which plant code is the broker's business
(ACLs, e.g. Mosquitto ``pattern write solarhub/%u/+/telemetry`` and ``.../+/events``).

Delivery is at-least-once, end to end:

* QoS 1 subscription, persistent session (MQTT 5 ``clean_start=False`` + a session expiry, fixed
  client id): messages published while the consumer is down are queued by the broker.
* ``manual_ack``: a message is acknowledged only after the batch holding it was committed by
  :func:`telemetry.ingest.telemetry_ingest`. A crash before the commit leaves the messages
  un-acknowledged and the broker redelivers them on reconnect; the service is idempotent, so the
  replay changes nothing. Acks of a previous connection are never sent on a new one (packet ids
  are reused); the broker redelivers those messages anyway.
* The client announces ``Receive Maximum`` ≥ twice the batch size, which bounds the messages held
  in memory (back-pressure when the database is slow) while still letting a batch fill by size.

The network thread (paho's ``loop_start``) only parses messages into the pending batch
(:meth:`MqttIngestor.handle_message`, no I/O); the thread calling :meth:`MqttIngestor.run` writes
batches (:meth:`MqttIngestor.flush`) when they reach ``batch_size`` or are ``flush_seconds`` old,
and keeps the pending batch and retries with backoff when the database fails.
"""

from __future__ import annotations

import json
import logging
import ssl
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as mqtt
from django.db import close_old_connections, connections
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions

from plants.models import Plant

from .events import MAX_EVENTS
from .ingest import MAX_READINGS, telemetry_ingest

logger = logging.getLogger(__name__)

DEFAULT_PREFIX = "solarhub"
DEFAULT_CLIENT_ID = "solarhub-mqtt-ingest"
MAX_PAYLOAD_BYTES = 1024 * 1024
_LOGGED_ERRORS_PER_FLUSH = 5


@dataclass(frozen=True)
class MqttSettings:
    """Where the broker is. Built from ``MQTT_URL`` (``mqtt://user:pass@host:1883``,
    ``mqtts://`` for TLS) and/or command-line options."""

    host: str = "127.0.0.1"
    port: int = 1883
    username: str | None = None
    password: str | None = None
    tls: bool = False
    ca_file: str | None = None


def mqtt_settings_from_url(url: str) -> MqttSettings:
    """Parse ``mqtt[s]://[user[:password]@]host[:port]``; ``mqtts``/``ssl`` means TLS on 8883 by
    default. Raises ``ValueError`` with a message fit for an operator."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in {"mqtt", "tcp", "mqtts", "ssl"}:
        raise ValueError(f"MQTT URL must start with mqtt:// or mqtts://, got {url!r}")
    tls = scheme in {"mqtts", "ssl"}
    try:
        port = parts.port
    except ValueError:
        raise ValueError(f"MQTT URL has an invalid port: {url!r}") from None
    return MqttSettings(
        host=parts.hostname or "127.0.0.1",
        port=port or (8883 if tls else 1883),
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        tls=tls,
    )


@dataclass
class MqttStats:
    """Counters since start. ``messages`` counts every delivery (redeliveries included);
    ``accepted``/``duplicates``/``rejected`` count values as the ingest service does."""

    messages: int = 0
    readings: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    events: int = 0
    events_accepted: int = 0
    events_duplicates: int = 0
    events_rejected: int = 0
    malformed: int = 0
    bad_topic: int = 0
    unknown_plant: int = 0
    flushes: int = 0
    failed_flushes: int = 0
    connects: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


@dataclass
class _Batch:
    """Messages received and not yet committed. ``acks`` keeps receipt order (MQTT wants PUBACKs
    in the order the PUBLISHes came)."""

    readings: dict[str, list[Any]] = field(default_factory=dict)  # plant code → readings
    topics: dict[str, list[str]] = field(default_factory=dict)  # plant code → topic of each reading
    events: dict[str, list[Any]] = field(default_factory=dict)  # plant code → events
    event_topics: dict[str, list[str]] = field(default_factory=dict)  # plant code → topic of each event
    messages_per_plant: Counter = field(default_factory=Counter)
    acks: list[tuple[int, int, int]] = field(default_factory=list)  # (connection generation, mid, qos)
    messages: int = 0
    reading_count: int = 0
    started_at: float | None = None

    def absorb(self, later: _Batch) -> None:
        """Append ``later`` (received after this one) — used to put back a batch that failed."""
        for code, readings in later.readings.items():
            self.readings.setdefault(code, []).extend(readings)
            self.topics.setdefault(code, []).extend(later.topics[code])
        for code, events in later.events.items():
            self.events.setdefault(code, []).extend(events)
            self.event_topics.setdefault(code, []).extend(later.event_topics[code])
        self.messages_per_plant.update(later.messages_per_plant)
        self.acks.extend(later.acks)
        self.messages += later.messages
        self.reading_count += later.reading_count
        if self.started_at is None:
            self.started_at = later.started_at


class MqttIngestor:
    """Subscribe, batch, write through the ingest service, acknowledge after the commit.

    Use :meth:`run` (blocks until :meth:`stop` or ``once_idle``), or drive it by hand in tests:
    :meth:`handle_message` then :meth:`flush`.
    """

    def __init__(
        self,
        *,
        settings: MqttSettings | None = None,
        client_id: str = DEFAULT_CLIENT_ID,
        topic_prefix: str = DEFAULT_PREFIX,
        share_group: str | None = None,
        batch_size: int = 500,
        flush_seconds: float = 1.0,
        session_expiry: int = 86400,
        keepalive: int = 60,
        reconnect_min_delay: float = 1,
        reconnect_max_delay: float = 60,
    ) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        if flush_seconds <= 0:
            raise ValueError("flush_seconds must be positive")
        self.settings = settings or MqttSettings()
        self.client_id = client_id
        self.topic_prefix = topic_prefix.strip("/")
        self.subscription = f"{self.topic_prefix}/+/+/telemetry"
        self.event_subscription = f"{self.topic_prefix}/+/+/events"
        if share_group:
            self.subscription = f"$share/{share_group}/{self.subscription}"
            self.event_subscription = f"$share/{share_group}/{self.event_subscription}"
        self.batch_size = batch_size
        self.flush_seconds = flush_seconds
        self.session_expiry = session_expiry
        self.keepalive = keepalive
        self.reconnect_min_delay = reconnect_min_delay
        self.reconnect_max_delay = reconnect_max_delay
        self.stats = MqttStats()
        self._lock = threading.Lock()
        self._pending = _Batch()
        self._generation = 0
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._connected = threading.Event()
        self._last_message_at = time.monotonic()
        self.client = self._make_client()

    # -- the pure part ------------------------------------------------------------------------

    def handle_message(self, topic: str, payload: bytes, *, mid: int = 0, qos: int = 0) -> list[Any]:
        """Parse one message into the pending batch and return the readings it contributed.

        No database and no network: safe in paho's network thread. The plant code is resolved
        at :meth:`flush` (one query per batch). A payload that cannot be parsed is counted and
        logged; every message — good or bad — is queued for acknowledgement, so a poison
        message is not redelivered forever."""
        readings: list[Any] = []
        code = serial = None
        problem = ""
        prefix = self.topic_prefix + "/"
        levels = topic[len(prefix) :].split("/") if topic.startswith(prefix) else []
        is_event = len(levels) == 3 and levels[2] == "events"
        if len(levels) == 3 and levels[2] in ("telemetry", "events") and levels[0] and levels[1]:
            code, serial = levels[0], levels[1]
        else:
            problem = "bad_topic"
        if code is not None and serial is not None:
            items, problem = _parse_payload(payload)
            readings = [_event(item, serial) if is_event else _reading(item, serial) for item in items]
        with self._lock:
            self.stats.messages += 1
            self._last_message_at = time.monotonic()
            batch = self._pending
            if batch.started_at is None:
                batch.started_at = self._last_message_at
            batch.messages += 1
            if qos > 0:
                batch.acks.append((self._generation, mid, qos))
            if problem == "bad_topic":
                self.stats.bad_topic += 1
            elif problem:
                self.stats.malformed += 1
            elif is_event:
                batch.messages_per_plant[code] += 1
                batch.events.setdefault(code, []).extend(readings)
                batch.event_topics.setdefault(code, []).extend([topic] * len(readings))
                batch.reading_count += len(readings)
                self.stats.events += len(readings)
            else:
                batch.messages_per_plant[code] += 1
                batch.readings.setdefault(code, []).extend(readings)
                batch.topics.setdefault(code, []).extend([topic] * len(readings))
                batch.reading_count += len(readings)
                self.stats.readings += len(readings)
            full = batch.reading_count >= self.batch_size or batch.messages >= self.batch_size
        if problem:
            reason = (
                "topic is not {prefix}/{plantCode}/{serial}/telemetry|events" if problem == "bad_topic" else problem
            )
            logger.warning("MQTT message on %r dropped: %s", topic, reason)
        else:
            logger.debug("MQTT message on %r: %d reading(s)", topic, len(readings))
        if full:
            self._wake.set()
        return readings

    # -- writing ------------------------------------------------------------------------------

    def flush(self) -> MqttStats:
        """Write the pending batch through the ingest service, then acknowledge its messages.

        On a database error the batch is put back in front of whatever arrived meanwhile (no
        acknowledgement is sent) and the error propagates; :meth:`run` retries with backoff.
        Replaying a partially written batch is harmless: the service is idempotent."""
        with self._lock:
            batch, self._pending = self._pending, _Batch()
        if not batch.messages:
            return self.stats
        try:
            self._write(batch)
        except BaseException:
            with self._lock:
                batch.absorb(self._pending)
                self._pending = batch
                self.stats.failed_flushes += 1
            raise  # the next write starts with close_old_connections(): a broken connection is replaced
        self._acknowledge(batch)
        with self._lock:
            self.stats.flushes += 1
        return self.stats

    def _write(self, batch: _Batch) -> None:
        close_old_connections()
        codes = list({*batch.readings, *batch.events})
        plants = dict(Plant.objects.filter(plant_code__in=codes).values_list("plant_code", "id"))
        totals = Counter()
        for code, events in batch.events.items():
            plant_id = plants.get(code)
            if plant_id is None:
                continue  # counted and logged with the readings below
            for start in range(0, len(events), MAX_EVENTS):
                outcome = telemetry_ingest(plant_ids=[plant_id], readings=[], events=events[start : start + MAX_EVENTS])
                totals["events_accepted"] += outcome.events.accepted
                totals["events_duplicates"] += outcome.events.duplicates
                totals["events_rejected"] += outcome.events.rejected
                for error in outcome.events.errors[:_LOGGED_ERRORS_PER_FLUSH]:
                    logger.warning(
                        "MQTT event on %r rejected: %s: %s",
                        batch.event_topics[code][start + error["index"]],
                        error["field"] or "event",
                        error["message"],
                    )
        for code in codes:
            if code not in plants:
                totals["unknown_plant"] += batch.messages_per_plant[code]
                logger.warning(
                    "MQTT: %d message(s) for unknown plant code %r dropped", batch.messages_per_plant[code], code
                )
        for code, readings in batch.readings.items():
            plant_id = plants.get(code)
            if plant_id is None:
                continue
            topics = batch.topics[code]
            logged = 0
            for start in range(0, len(readings), MAX_READINGS):
                result = telemetry_ingest(plant_ids=[plant_id], readings=readings[start : start + MAX_READINGS])
                totals["accepted"] += result.accepted
                totals["duplicates"] += result.duplicates
                totals["rejected"] += result.rejected
                for error in result.errors[: max(0, _LOGGED_ERRORS_PER_FLUSH - logged)]:
                    logged += 1
                    logger.warning(
                        "MQTT reading on %r rejected: %s: %s",
                        topics[start + error["index"]],
                        error["field"] or "reading",
                        error["message"],
                    )
            if logged >= _LOGGED_ERRORS_PER_FLUSH:
                logger.warning("MQTT: more rejected readings for plant %r in this batch (see counters)", code)
        with self._lock:
            for name, value in totals.items():
                setattr(self.stats, name, getattr(self.stats, name) + value)
        if totals["accepted"] or totals["rejected"]:
            logger.info(
                "MQTT batch: %d message(s), %d accepted, %d duplicate, %d rejected value(s)",
                batch.messages,
                totals["accepted"],
                totals["duplicates"],
                totals["rejected"],
            )

    def _acknowledge(self, batch: _Batch) -> None:
        with self._lock:
            generation = self._generation
        for message_generation, mid, qos in batch.acks:
            if message_generation == generation:  # older ones: the broker redelivers them on the new connection
                self.client.ack(mid, qos)

    # -- the loop -----------------------------------------------------------------------------

    def run(self, *, once_idle: float | None = None) -> MqttStats:
        """Connect (in the background, retrying with exponential backoff), then flush batches
        until :meth:`stop` — or until ``once_idle`` seconds passed without a message (counted
        from the start, and again from each successful subscription). The pending batch is
        flushed and acknowledged before disconnecting."""
        self.start()
        backoff = 0.0
        try:
            while not self._stop.is_set():
                self._wake.wait(timeout=min(self._seconds_to_deadline(), 0.5))
                self._wake.clear()
                if self._due():
                    try:
                        self.flush()
                        backoff = 0.0
                    except Exception:  # the loop must survive a database outage
                        backoff = min(max(1.0, backoff * 2), 60.0)
                        logger.exception("MQTT: writing a batch failed; retrying in %.0f s", backoff)
                        self._stop.wait(backoff)
                if once_idle is not None and self._idle_seconds() >= once_idle and not self.pending_messages():
                    logger.info("MQTT: no message for %.1f s, stopping", once_idle)
                    break
        finally:
            self.close()
        return self.stats

    def start(self) -> None:
        """Start paho's network thread; it connects and reconnects by itself (backoff between
        ``reconnect_min_delay`` and ``reconnect_max_delay``)."""
        self._last_message_at = time.monotonic()
        properties = Properties(PacketTypes.CONNECT)
        properties.SessionExpiryInterval = self.session_expiry
        properties.ReceiveMaximum = min(65535, max(100, 2 * self.batch_size))
        self.client.connect_async(
            self.settings.host, self.settings.port, self.keepalive, clean_start=False, properties=properties
        )
        self.client.loop_start()

    def stop(self) -> None:
        """Ask :meth:`run` to flush and return. Safe from a signal handler or another thread."""
        self._stop.set()
        self._wake.set()

    def close(self) -> None:
        """Flush what is pending (best effort), disconnect cleanly and release the database
        connection of this thread. The session stays on the broker for ``session_expiry``."""
        self._stop.set()
        try:
            self.flush()
        except Exception:  # unacknowledged messages are redelivered next time
            logger.exception("MQTT: final flush failed; the broker will redeliver the unacknowledged messages")
        self.client.disconnect()
        self.client.loop_stop()
        connections.close_all()
        logger.info("MQTT ingest stopped: %s", self.stats.as_dict())

    def wait_connected(self, timeout: float) -> bool:
        """For tests and smoke checks: block until subscribed (or ``timeout``)."""
        return self._connected.wait(timeout)

    def _due(self) -> bool:
        with self._lock:
            batch = self._pending
            if not batch.messages:
                return False
            return (
                self._stop.is_set()
                or batch.reading_count >= self.batch_size
                or batch.messages >= self.batch_size
                or time.monotonic() - (batch.started_at or 0.0) >= self.flush_seconds
            )

    def pending_messages(self) -> int:
        """Messages received and not yet committed."""
        with self._lock:
            return self._pending.messages

    def _seconds_to_deadline(self) -> float:
        with self._lock:
            started = self._pending.started_at
        if started is None:
            return self.flush_seconds
        return max(0.0, self.flush_seconds - (time.monotonic() - started))

    def _idle_seconds(self) -> float:
        with self._lock:
            return time.monotonic() - self._last_message_at

    # -- paho plumbing ------------------------------------------------------------------------

    def _make_client(self) -> mqtt.Client:
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=self.client_id, protocol=mqtt.MQTTv5, manual_ack=True
        )
        if self.settings.username:
            client.username_pw_set(self.settings.username, self.settings.password)
        if self.settings.tls:
            client.tls_set(ca_certs=self.settings.ca_file, cert_reqs=ssl.CERT_REQUIRED)
        client.reconnect_delay_set(min_delay=self.reconnect_min_delay, max_delay=self.reconnect_max_delay)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_connect_fail = self._on_connect_fail
        client.on_subscribe = self._on_subscribe
        client.on_message = self._on_message
        return client

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            logger.error(
                "MQTT: broker %s:%s refused the connection: %s", self.settings.host, self.settings.port, reason_code
            )
            return
        with self._lock:
            self._generation += 1
            self.stats.connects += 1
        logger.info(
            "MQTT: connected to %s:%s as %r (session present: %s)",
            self.settings.host,
            self.settings.port,
            self.client_id,
            flags.session_present,
        )
        client.subscribe(
            [(self.subscription, SubscribeOptions(qos=1)), (self.event_subscription, SubscribeOptions(qos=1))]
        )

    def _on_connect_fail(self, client, userdata) -> None:
        logger.warning(
            "MQTT: cannot reach the broker at %s:%s; retrying with backoff (at most %s s apart)",
            self.settings.host,
            self.settings.port,
            self.reconnect_max_delay,
        )

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties) -> None:
        failures = [code for code in reason_codes if code.is_failure]
        if failures:
            logger.error(
                "MQTT: subscription to %r / %r refused: %s", self.subscription, self.event_subscription, failures
            )
            return
        logger.info("MQTT: subscribed to %r and %r with QoS 1", self.subscription, self.event_subscription)
        with self._lock:  # ``once_idle`` counts from here: connecting is not idleness
            self._last_message_at = max(self._last_message_at, time.monotonic())
        self._connected.set()

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        self._connected.clear()
        if not self._stop.is_set():
            logger.warning("MQTT: disconnected (%s); reconnecting with backoff", reason_code)

    def _on_message(self, client, userdata, message) -> None:
        try:
            self.handle_message(message.topic, message.payload, mid=message.mid, qos=message.qos)
        except Exception:  # an exception here would kill paho's network thread
            logger.exception("MQTT: could not handle a message on %r", message.topic)


def _parse_payload(payload: bytes) -> tuple[list[Any], str]:
    """``(items, "")`` or ``([], problem)``: one object or a list of at most ``MAX_READINGS``."""
    if len(payload) > MAX_PAYLOAD_BYTES:
        return [], f"payload larger than {MAX_PAYLOAD_BYTES} bytes"
    try:
        body = json.loads(payload)
    except (UnicodeDecodeError, ValueError) as exc:
        return [], f"payload is not JSON ({exc})"
    if isinstance(body, dict):
        return [body], ""
    if not isinstance(body, list):
        return [], "payload must be an object {ts, metrics} or a list of them"
    if len(body) > MAX_READINGS:
        return [], f"at most {MAX_READINGS} readings per message"
    return body, ""


def _reading(item: Any, serial: str) -> Any:
    """The service's reading shape. Identity comes from the topic only; anything that is not an
    object is passed through so the service rejects it with its usual reason."""
    if not isinstance(item, dict):
        return item
    return {"serialNumber": serial, "timestamp": item.get("ts", item.get("timestamp")), "metrics": item.get("metrics")}


def _event(item: Any, serial: str) -> Any:
    """The service's event shape; identity from the topic only (as for readings)."""
    if not isinstance(item, dict):
        return item
    return {
        "serialNumber": serial,
        "timestamp": item.get("ts", item.get("timestamp")),
        "eventType": item.get("eventType", item.get("event_type")),
        "code": item.get("code", item.get("eventCode")),
        "message": item.get("message"),
        "severity": item.get("severity"),
    }
