"""``manage.py mqtt_ingest``: the MQTT door of the ingest service (see :mod:`telemetry.mqtt`).

Subscribes with QoS 1 to ``{prefix}/+/+/telemetry`` on a persistent session, batches, writes
through :func:`telemetry.ingest.telemetry_ingest` and acknowledges after the commit. Broker from
``--host/--port/...`` or else ``MQTT_URL`` (``mqtt://user:pass@host:1883``, ``mqtts://`` for
TLS), else 127.0.0.1:1883. SIGTERM/SIGINT flush the pending batch and exit cleanly.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from dataclasses import replace

from django.core.management.base import BaseCommand, CommandError

from solarhub import background
from telemetry.mqtt import DEFAULT_CLIENT_ID, DEFAULT_PREFIX, MqttIngestor, MqttSettings, mqtt_settings_from_url


class Command(BaseCommand):
    help = "Ingest telemetry published to {prefix}/{plantCode}/{serial}/telemetry on an MQTT broker (QoS 1)."

    def add_arguments(self, parser):
        parser.add_argument("--host", help="Broker host (default: from MQTT_URL, else 127.0.0.1).")
        parser.add_argument("--port", type=int, help="Broker port (default: from MQTT_URL, else 1883, 8883 with TLS).")
        parser.add_argument("--username", help="Broker user (default: from MQTT_URL).")
        parser.add_argument("--password", help="Broker password (prefer MQTT_URL: options show up in `ps`).")
        parser.add_argument("--tls", action="store_true", default=None, help="Connect with TLS (mqtts:// implies it).")
        parser.add_argument("--tls-ca", metavar="FILE", help="CA bundle to verify the broker (default: system CAs).")
        parser.add_argument(
            "--client-id",
            default=DEFAULT_CLIENT_ID,
            help="Fixed client id: the broker keeps this session (and queues QoS 1 messages) while we are down.",
        )
        parser.add_argument("--topic-prefix", default=DEFAULT_PREFIX, help="First topic level(s) (default: solarhub).")
        parser.add_argument("--share-group", help="Subscribe as $share/GROUP/… to spread load over several consumers.")
        parser.add_argument("--batch-size", type=int, default=500, help="Write when this many readings are pending.")
        parser.add_argument("--flush-seconds", type=float, default=1.0, help="…or when the oldest is this old.")
        parser.add_argument(
            "--session-expiry", type=int, default=86400, help="Seconds the broker keeps the session while we are away."
        )
        parser.add_argument("--keepalive", type=int, default=60, help="MQTT keepalive in seconds.")
        parser.add_argument("--reconnect-max", type=float, default=60, help="Longest reconnect backoff in seconds.")
        parser.add_argument("--once-idle", type=float, metavar="N", help="Exit after N seconds without a message.")

    def handle(self, *args, **options):
        if options["batch_size"] < 1 or options["flush_seconds"] <= 0:
            raise CommandError("--batch-size must be ≥ 1 and --flush-seconds > 0.")
        if options["verbosity"] >= 2:
            logging.getLogger("telemetry.mqtt").setLevel(logging.DEBUG)
        ingestor = MqttIngestor(
            settings=self._broker(options),
            client_id=options["client_id"],
            topic_prefix=options["topic_prefix"],
            share_group=options["share_group"],
            batch_size=options["batch_size"],
            flush_seconds=options["flush_seconds"],
            session_expiry=options["session_expiry"],
            keepalive=options["keepalive"],
            reconnect_max_delay=options["reconnect_max"],
        )
        settings = ingestor.settings
        self.stderr.write(
            f"MQTT ingest: {settings.host}:{settings.port}{' (TLS)' if settings.tls else ''} "
            f"topic {ingestor.subscription!r}, client id {ingestor.client_id!r}"
        )
        previous = {}
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGTERM, signal.SIGINT):
                previous[signum] = signal.signal(signum, lambda *_: ingestor.stop())
        try:
            stats = ingestor.run(once_idle=options["once_idle"])
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
            # Without a broker, the evaluations of the last flushes are on the background thread.
            background.drain()
        if stats.connects == 0:
            raise CommandError(f"Never connected to the MQTT broker at {settings.host}:{settings.port}.")
        self.stdout.write(
            f"MQTT ingest stopped: {stats.messages} message(s), {stats.accepted} value(s) accepted, "
            f"{stats.duplicates} duplicate(s), {stats.rejected} rejected, {stats.malformed} malformed, "
            f"{stats.unknown_plant} for unknown plants, {stats.bad_topic} on bad topics, "
            f"{stats.connects} connection(s), {stats.failed_flushes} failed write(s)"
        )

    @staticmethod
    def _broker(options) -> MqttSettings:
        url = os.environ.get("MQTT_URL", "").strip()
        try:
            settings = mqtt_settings_from_url(url) if url else MqttSettings()
        except ValueError as exc:
            raise CommandError(f"MQTT_URL: {exc}") from None
        tls = settings.tls if options["tls"] is None else True
        overrides = {
            "host": options["host"],
            "port": options["port"],
            "username": options["username"],
            "password": options["password"],
            "ca_file": options["tls_ca"],
        }
        settings = replace(settings, tls=tls, **{key: value for key, value in overrides.items() if value is not None})
        if tls and not url and options["port"] is None:
            settings = replace(settings, port=8883)
        return settings
