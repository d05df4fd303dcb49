"""Collection config in and out. Metric keys travel as values (lists of ``{metric, …}``), never as
object keys, so the camelCase conversion cannot rename them. The secret is write-only: the
answer only says whether one is stored (``hasSecret``)."""

from __future__ import annotations

import re

from rest_framework import serializers

from collector.choices import DEFAULT_PORTS, Driver
from collector.models import DEFAULT_INTERVAL_SECONDS, MIN_INTERVAL_SECONDS
from telemetry.ingest import metric_catalog

# A host name (RFC 1123 labels), an IPv4 address, or an IPv6 address in brackets or bare.
_HOST = re.compile(
    r"^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$"
)
_IPV6 = re.compile(r"^\[?[0-9A-Fa-f:.]{2,45}\]?$")
_PATH = re.compile(r"^/[\x21-\x7e]{0,511}$")
MAX_MAPPING = 200
TEST_MAX_TIMEOUT = 5.0  # an installer waits for the answer: a web request, not a worker task


class MappingEntrySerializer(serializers.Serializer):
    metric = serializers.CharField(max_length=64)
    path = serializers.CharField(max_length=255)
    unit = serializers.CharField(max_length=16, required=False, allow_blank=True, default="")
    scale = serializers.FloatField(required=False, default=1.0, min_value=-1e9, max_value=1e9)

    def validate_metric(self, value: str) -> str:
        spec = metric_catalog().get(value)
        if spec is None or not spec.ingestible:
            raise serializers.ValidationError("Unknown metric.")
        return value


class CollectionConfigInputSerializer(serializers.Serializer):
    driver = serializers.ChoiceField(choices=Driver.choices)
    host = serializers.CharField(max_length=255)
    port = serializers.IntegerField(min_value=1, max_value=65535, required=False)
    unit_id = serializers.IntegerField(min_value=0, max_value=255, required=False, default=1)
    base_address = serializers.IntegerField(min_value=0, max_value=65533, required=False, allow_null=True, default=None)
    path = serializers.CharField(max_length=512, required=False, allow_blank=True, default="")
    use_tls = serializers.BooleanField(required=False, default=False)
    json_mapping = serializers.ListField(child=MappingEntrySerializer(), required=False, max_length=MAX_MAPPING)
    timestamp_path = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    username = serializers.CharField(max_length=128, required=False, allow_blank=True, default="")
    secret = serializers.CharField(max_length=512, required=False, allow_blank=True, write_only=True)
    poll_interval_seconds = serializers.IntegerField(
        min_value=MIN_INTERVAL_SECONDS, max_value=86400, required=False, default=DEFAULT_INTERVAL_SECONDS
    )
    timeout_seconds = serializers.FloatField(min_value=0.5, max_value=60, required=False, default=5.0)
    enabled = serializers.BooleanField(required=False, default=True)

    def validate_host(self, value: str) -> str:
        value = value.strip()
        if not (_HOST.match(value) or (":" in value and _IPV6.match(value))):
            raise serializers.ValidationError("Enter a host name or an IP address (no scheme, no port).")
        return value.strip("[]")

    def validate_path(self, value: str) -> str:
        if value and not _PATH.match(value):
            raise serializers.ValidationError("Enter a path starting with '/' (printable ASCII, no spaces).")
        return value

    def validate(self, attrs: dict) -> dict:
        current = self.context.get("current") or {}
        merged = {**current, **attrs}
        errors: dict[str, list[str]] = {}
        driver = merged.get("driver")
        if driver == Driver.HTTP_JSON:
            if not merged.get("path"):
                errors["path"] = ["The HTTP JSON driver needs the endpoint's path."]
            if not merged.get("json_mapping"):
                errors["json_mapping"] = ["Map at least one JSON path to a metric."]
        interval = attrs.get("poll_interval_seconds") or current.get("interval_seconds") or DEFAULT_INTERVAL_SECONDS
        if float(merged.get("timeout_seconds", 5.0)) >= interval:
            errors["timeout_seconds"] = ["The timeout must be shorter than the poll interval."]
        if errors:
            raise serializers.ValidationError(errors)
        return attrs

    def to_config_data(self) -> dict:
        """The validated fields under the model's names (mapping list → dict)."""
        data = dict(self.validated_data)
        if "poll_interval_seconds" in data:
            data["interval_seconds"] = data.pop("poll_interval_seconds")
        if "json_mapping" in data:
            data["json_mapping"] = {
                entry["metric"]: {
                    "path": entry["path"],
                    "unit": entry.get("unit", ""),
                    "scale": entry.get("scale", 1.0),
                }
                for entry in data["json_mapping"]
            }
        if "port" not in data and "driver" in data and not self.partial:
            data["port"] = DEFAULT_PORTS[data["driver"]]
        return data


def config_as_input(config) -> dict:
    """A stored config under the input serializer's names (the base a PATCH is merged over)."""
    return {
        "driver": config.driver,
        "host": config.host,
        "port": config.port,
        "path": config.path,
        "json_mapping": list(config.json_mapping or {}),
        "interval_seconds": config.interval_seconds,
        "timeout_seconds": config.timeout_seconds,
    }


def _values(values: dict, units: dict) -> list[dict]:
    return [{"metric": key, "value": value, "unit": units.get(key, "")} for key, value in sorted(values.items())]


def poll_body(result, units: dict) -> dict:
    """A poll's outcome (stored or test)."""
    return {
        "at": result.at,
        "ok": result.ok,
        "duration_ms": round(result.duration_ms, 2),
        "timestamp": result.timestamp,
        "values": _values(result.values, units),
        "info": result.info,
        "error": {"code": result.error_code, "message": result.error} if not result.ok else None,
    }


def collection_body(device, config, units: dict) -> dict:
    if config is None:
        return {"device_id": device.pk, "configured": False, "config": None, "state": None, "last_poll": None}
    last_poll = None
    if config.last_poll_at is not None:
        last_poll = {
            "at": config.last_poll_at,
            "ok": not config.last_error_code,
            "duration_ms": config.last_duration_ms,
            "values": _values(config.last_values or {}, units),
            "info": config.last_info or {},
            "stored": config.last_stored or None,
            "error": {"code": config.last_error_code, "message": config.last_error} if config.last_error_code else None,
        }
    return {
        "device_id": device.pk,
        "configured": True,
        "config": {
            "driver": config.driver,
            "host": config.host,
            "port": config.port,
            "unit_id": config.unit_id,
            "base_address": config.base_address,
            "path": config.path,
            "use_tls": config.use_tls,
            "json_mapping": [
                {"metric": key, **(spec if isinstance(spec, dict) else {"path": spec})}
                for key, spec in sorted((config.json_mapping or {}).items())
            ],
            "timestamp_path": config.timestamp_path,
            "username": config.username,
            "has_secret": bool(config.secret),
            "poll_interval_seconds": config.interval_seconds,
            "timeout_seconds": config.timeout_seconds,
            "enabled": config.enabled,
        },
        "state": {
            "next_poll_at": config.next_poll_at,
            "consecutive_failures": config.consecutive_failures,
            "last_success_at": config.last_success_at,
        },
        "last_poll": last_poll,
    }


class CollectionSerializer(serializers.Serializer):
    """Schema of ``GET /devices/{id}/collection`` (the body is built by :func:`collection_body`)."""

    device_id = serializers.IntegerField()
    configured = serializers.BooleanField()
    config = serializers.DictField(allow_null=True)
    state = serializers.DictField(allow_null=True)
    last_poll = serializers.DictField(allow_null=True)


class CollectionTestSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    ok = serializers.BooleanField()
    duration_ms = serializers.FloatField()
    timestamp = serializers.DateTimeField(allow_null=True)
    values = serializers.ListField(child=serializers.DictField())
    info = serializers.DictField()
    error = serializers.DictField(allow_null=True)
