"""Serializers of the telemetry API."""

from rest_framework import serializers

from telemetry.choices import EventSeverity
from telemetry.models import DeviceEvent, IngestKey


class IngestErrorSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text="Position of the reading in the batch (CSV: data row, 0-based).")
    field = serializers.CharField(help_text="deviceId, timestamp, metrics.<key> ...")
    message = serializers.CharField()


class EventIngestResultSerializer(serializers.Serializer):
    accepted = serializers.IntegerField(help_text="Events stored by this request.")
    duplicates = serializers.IntegerField(help_text="Events already stored (same device, timestamp, type, code).")
    rejected = serializers.IntegerField(help_text="Events refused; see errors (index into events).")
    errors = IngestErrorSerializer(many=True)


class IngestResultSerializer(serializers.Serializer):
    accepted = serializers.IntegerField(help_text="Values stored by this request.")
    duplicates = serializers.IntegerField(help_text="Values already stored (replays change nothing).")
    rejected = serializers.IntegerField(help_text="Values refused; see errors.")
    errors = IngestErrorSerializer(many=True)
    events = EventIngestResultSerializer(required=False, help_text="Only when the body had events.")


class IngestNothingStoredSerializer(IngestResultSerializer):
    """The 400 of a batch of which no value was stored: the result and the error body."""

    detail = serializers.CharField()
    status_code = serializers.IntegerField()
    error_code = serializers.ChoiceField(choices=["NOTHING_STORED"])


class IngestReadingSerializer(serializers.Serializer):
    device_id = serializers.IntegerField(required=False)
    serial_number = serializers.CharField(required=False)
    timestamp = serializers.CharField(help_text="ISO 8601 with offset or Z, or epoch seconds.")
    metrics = serializers.DictField(child=serializers.FloatField(), help_text="metric key → number")


class IngestEventSerializer(serializers.Serializer):
    device_id = serializers.IntegerField(required=False)
    serial_number = serializers.CharField(required=False)
    timestamp = serializers.CharField(help_text="ISO 8601 with offset or Z, or epoch seconds.")
    event_type = serializers.CharField(max_length=64)
    code = serializers.CharField(max_length=64, required=False)
    message = serializers.CharField(max_length=2000, required=False)
    # A plain string in the schema: the alarms app documents the same four levels as its enum.
    severity = serializers.CharField(
        required=False, help_text=f"One of {', '.join(EventSeverity.values)} (default info); 1..4 too (seed 004)."
    )


class IngestRequestSerializer(serializers.Serializer):
    plant_id = serializers.IntegerField(required=False, help_text="Optional: resolve serial numbers in this plant.")
    readings = IngestReadingSerializer(many=True, required=False)
    events = IngestEventSerializer(many=True, required=False)


class DeviceEventSerializer(serializers.ModelSerializer):
    device_id = serializers.IntegerField(read_only=True)
    timestamp = serializers.DateTimeField(source="ts", read_only=True)
    severity = serializers.CharField(read_only=True, help_text=f"One of {', '.join(EventSeverity.values)}.")

    class Meta:
        model = DeviceEvent
        fields = ["id", "device_id", "timestamp", "event_type", "code", "message", "severity", "created_at"]
        read_only_fields = fields


class IngestKeySerializer(serializers.ModelSerializer):
    plant_id = serializers.IntegerField(read_only=True)
    created_by = serializers.IntegerField(source="created_by_id", read_only=True, allow_null=True)
    active = serializers.BooleanField(source="is_active", read_only=True)

    class Meta:
        model = IngestKey
        fields = [
            "id",
            "plant_id",
            "name",
            "prefix",
            "active",
            "created_by",
            "created_at",
            "last_used_at",
            "revoked_at",
        ]
        read_only_fields = fields


class IngestKeyCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)


class IngestKeyCreatedSerializer(IngestKeySerializer):
    key = serializers.CharField(read_only=True, help_text="The key itself. Shown once: store it in the logger now.")

    class Meta(IngestKeySerializer.Meta):
        fields = [*IngestKeySerializer.Meta.fields, "key"]
        read_only_fields = fields
