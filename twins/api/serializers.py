"""Serializers of the twins API. The scene (``twinData``) is validated by ``twins.schema`` in
the services (a 400 naming each problem's JSON path), not field by field here."""

from __future__ import annotations

from rest_framework import serializers

from solarhub.api.scoping import VisiblePlantField
from twins.models import DigitalTwin, DigitalTwinVersion


class DigitalTwinListSerializer(serializers.ModelSerializer):
    """A twin without its scene (a scene of 20,000 panels is megabytes): counts instead."""

    plant_id = serializers.IntegerField(read_only=True)
    viewer_url = serializers.SerializerMethodField()

    class Meta:
        model = DigitalTwin
        fields = [
            "id", "plant_id", "name", "version", "object_count", "panel_count", "viewer_url",
            "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields

    def get_viewer_url(self, twin) -> str:
        return f"/twins/{twin.pk}/view"


class DigitalTwinDetailSerializer(DigitalTwinListSerializer):
    twin_data = serializers.JSONField(read_only=True)

    class Meta(DigitalTwinListSerializer.Meta):
        fields = [*DigitalTwinListSerializer.Meta.fields, "twin_data"]
        read_only_fields = fields


class DigitalTwinCreateSerializer(serializers.Serializer):
    plant_id = VisiblePlantField(help_text="A plant you see; a foreign id is as unknown as a missing one (400).")
    name = serializers.CharField(max_length=128, required=False, allow_blank=True, default="")
    twin_data = serializers.JSONField(help_text="{scene: {objects, lights, cameras, environment, metadata}}")


class DigitalTwinUpdateSerializer(serializers.Serializer):
    """PUT needs ``twinData``; PATCH takes either field. The plant of a twin never changes."""

    name = serializers.CharField(max_length=128, required=False, allow_blank=True)
    twin_data = serializers.JSONField(required=True)

    def validate(self, attrs):
        if (
            "plant_id" in self.initial_data
            and self.instance is not None
            and self.initial_data["plant_id"] != self.instance.plant_id
        ):
            raise serializers.ValidationError({"plant_id": ["A twin stays with its plant."]})
        return attrs


class DigitalTwinGenerateSerializer(serializers.Serializer):
    replace_obstacles = serializers.BooleanField(
        default=False, help_text="Drop the objects the generator did not make (user obstacles)."
    )
    obstacles = serializers.ListField(
        child=serializers.JSONField(), required=False, max_length=1000, help_text="Scene objects to add."
    )
    name = serializers.CharField(max_length=128, required=False, allow_blank=True)


class DigitalTwinVersionSerializer(serializers.ModelSerializer):
    created_by = serializers.IntegerField(source="created_by_id", read_only=True, allow_null=True)

    class Meta:
        model = DigitalTwinVersion
        fields = ["version", "reason", "object_count", "created_by", "created_at"]
        read_only_fields = fields


class TwinScriptSerializer(serializers.Serializer):
    script = serializers.CharField()
    twin_id = serializers.IntegerField()
    plant_id = serializers.IntegerField()
    version = serializers.IntegerField()
