"""Serializers of the alarms API (seed 000's alarm record, plus the lifecycle fields)."""

from __future__ import annotations

from rest_framework import serializers

from solarhub.api.scoping import VisibleDeviceField, VisiblePlantField

from ..choices import RuleType, Severity
from ..models import Alarm, AlarmEvent, AlarmRule


class AlarmSerializer(serializers.ModelSerializer):
    plant_id = serializers.IntegerField(read_only=True)
    device_id = serializers.IntegerField(read_only=True, allow_null=True)
    rule_id = serializers.IntegerField(read_only=True, allow_null=True)
    acknowledged_by = serializers.IntegerField(source="acknowledged_by_id", read_only=True, allow_null=True)
    closed_by = serializers.IntegerField(source="closed_by_id", read_only=True, allow_null=True)
    assignee_id = serializers.IntegerField(read_only=True, allow_null=True)
    acknowledged = serializers.SerializerMethodField()
    status = serializers.SerializerMethodField(help_text="Seed 000's open / acknowledged / closed.")

    class Meta:
        model = Alarm
        fields = [
            "id", "plant_id", "device_id", "device_type", "rule_id", "title", "message", "severity", "state",
            "status", "active", "acknowledged", "triggered_at", "last_triggered_at", "acknowledged_at",
            "acknowledged_by", "cleared_at", "closed_at", "closed_by", "shelved_until", "assignee_id",
            "occurrence_count", "last_value", "affected_power_kw", "lost_energy_kwh", "metadata",
            "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields

    def get_acknowledged(self, alarm) -> bool:
        return alarm.acknowledged_at is not None

    def get_status(self, alarm) -> str:
        if alarm.closed_at:
            return "closed"
        return "acknowledged" if alarm.acknowledged_at else "open"


class AlarmCreateSerializer(serializers.Serializer):
    # scoped to the caller (``context["request"]``): a foreign id is as unknown as a missing one
    plant_id = VisiblePlantField(source="plant")
    title = serializers.CharField(max_length=255)
    message = serializers.CharField(allow_blank=True, required=False, default="")
    severity = serializers.ChoiceField(choices=Severity.choices, default=Severity.MEDIUM)
    device_type = serializers.CharField(required=False, allow_blank=True)
    device_id = VisibleDeviceField(source="device", required=False, allow_null=True)
    metadata = serializers.DictField(required=False, default=dict)

    def validate(self, attrs):
        device = attrs.get("device")
        if device is not None and device.plant_id != attrs["plant"].pk:
            raise serializers.ValidationError({"device_id": ["The device belongs to another plant."]})
        return attrs


class AlarmUpdateSerializer(serializers.Serializer):
    severity = serializers.ChoiceField(choices=Severity.choices, required=False)
    message = serializers.CharField(required=False, allow_blank=True)
    metadata = serializers.DictField(required=False)
    acknowledged = serializers.BooleanField(required=False)
    closed = serializers.BooleanField(required=False)

    def validate_acknowledged(self, value):
        if value is False:
            raise serializers.ValidationError("An acknowledgement cannot be withdrawn.")
        return value

    def validate_closed(self, value):
        if value is False:
            raise serializers.ValidationError("A closed alarm cannot be reopened; a new occurrence opens a new alarm.")
        return value


class CommentSerializer(serializers.Serializer):
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=4000)


class ShelveSerializer(CommentSerializer):
    until = serializers.DateTimeField(required=False)
    minutes = serializers.IntegerField(required=False, min_value=1, max_value=7 * 24 * 60)

    def validate(self, attrs):
        if not attrs.get("until") and not attrs.get("minutes"):
            raise serializers.ValidationError({"until": ["Give 'until' or 'minutes'."]})
        return attrs


class AssignSerializer(CommentSerializer):
    assignee_id = serializers.IntegerField(allow_null=True)


class AlarmEventSerializer(serializers.ModelSerializer):
    actor_id = serializers.IntegerField(read_only=True, allow_null=True)

    class Meta:
        model = AlarmEvent
        fields = ["id", "kind", "at", "actor_id", "comment", "from_state", "to_state", "data"]
        read_only_fields = fields


class AlarmRuleSerializer(serializers.ModelSerializer):
    plant_id = VisiblePlantField(source="plant")
    device_id = VisibleDeviceField(source="device", required=False, allow_null=True)
    rule_type = serializers.ChoiceField(choices=RuleType.choices)
    trigger_delay_minutes = serializers.FloatField(min_value=0, max_value=24 * 60, required=False)
    clear_delay_minutes = serializers.FloatField(min_value=0, max_value=24 * 60, required=False)
    gate_min_sun_elevation = serializers.FloatField(min_value=-90, max_value=90, required=False, allow_null=True)
    gate_min_irradiance = serializers.FloatField(min_value=0, max_value=2000, required=False, allow_null=True)

    class Meta:
        model = AlarmRule
        fields = [
            "id", "plant_id", "device_id", "device_type", "name", "rule_type", "severity", "enabled", "params",
            "trigger_delay_minutes", "clear_delay_minutes", "gate_min_sun_elevation", "gate_min_irradiance",
            "is_default", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = ["id", "is_default", "created_at", "updated_at"]

    def validate(self, attrs):
        from ..services import alarm_rule_params_errors

        plant = attrs.get("plant") or getattr(self.instance, "plant", None)
        device = attrs.get("device", getattr(self.instance, "device", None))
        if self.instance is not None and "plant" in attrs and attrs["plant"].pk != self.instance.plant_id:
            raise serializers.ValidationError({"plant_id": ["A rule cannot move to another plant."]})
        if device is not None and plant is not None and device.plant_id != plant.pk:
            raise serializers.ValidationError({"device_id": ["The device belongs to another plant."]})
        rule_type = attrs.get("rule_type", getattr(self.instance, "rule_type", None))
        params = attrs.get("params", getattr(self.instance, "params", {}))
        errors = alarm_rule_params_errors(rule_type=rule_type, params=params)
        if errors:
            raise serializers.ValidationError({"params": errors})
        return attrs


class RuleTestSerializer(serializers.Serializer):
    hours = serializers.IntegerField(required=False, min_value=1, max_value=24 * 7, default=24)
