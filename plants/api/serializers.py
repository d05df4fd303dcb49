"""Serializers of the plants API: seed 001 list/detail shapes plus seed 000's configuration."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import URLValidator
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from plants.choices import GRANTABLE_ROLES, DeviceType, PlantEventKind, PlantRole, PlantStatus
from plants.hooks import plant_model_readiness
from plants.live import DEVICE_STATUS_VALUES, DeviceLive, PlantLive, device_live, plant_live
from plants.models import (
    DATASHEETS,
    BessDatasheet,
    Device,
    InverterDatasheet,
    MeterDatasheet,
    PanelSpec,
    PcsDatasheet,
    Plant,
    PlantEvent,
    PlantInvitation,
    PlantMembership,
    StringBoxDatasheet,
)
from solarhub.api.params import datetime_from_text
from solarhub.api.renderers import camel_key


class CoordinatesSerializer(serializers.Serializer):
    lat = serializers.FloatField(min_value=-90, max_value=90)
    lng = serializers.FloatField(min_value=-180, max_value=180)


@extend_schema_field(CoordinatesSerializer)
class CoordinatesField(serializers.Field):
    """``{"lat", "lng"}`` on the wire, ``latitude``/``longitude`` on the model (seed 001)."""

    def __init__(self, **kwargs):
        super().__init__(source="*", **kwargs)

    def to_representation(self, plant) -> dict:
        return {"lat": plant.latitude, "lng": plant.longitude}

    def to_internal_value(self, data) -> dict:
        serializer = CoordinatesSerializer(data=data)
        serializer.is_valid(raise_exception=True)
        return {"latitude": serializer.validated_data["lat"], "longitude": serializer.validated_data["lng"]}


def _plant_live(plant: Plant) -> PlantLive:
    """Computed once per plant per response (several fields read it); no query — the facts were
    annotated on the queryset by ``plant_list_visible_to``."""
    cached = getattr(plant, "_live_figures", None)
    if cached is None:
        cached = plant._live_figures = plant_live(plant=plant)
    return cached


def _device_live(device: Device) -> DeviceLive:
    cached = getattr(device, "_live_figures", None)
    if cached is None:
        cached = device._live_figures = device_live(device=device)
    return cached


class PlantListSerializer(serializers.ModelSerializer):
    """Seed 001's plant list item. Live figures come from the plant's latest telemetry values
    (``plants.live``, annotated by telemetry) and are null until telemetry exists."""

    total_capacity = serializers.FloatField(source="total_power_output_kw", read_only=True)
    current_generation = serializers.SerializerMethodField(
        help_text="kW: sum of the latest ac_power of the plant's inverters that reported within 15 minutes; "
        "null when none did."
    )
    efficiency = serializers.SerializerMethodField(
        help_text="%: inverter AC/DC conversion efficiency = Σ ac_power / Σ dc_power over the plant's inverters "
        "reporting both within 15 minutes (DC ≥ 0.01 kW); null otherwise (e.g. at night)."
    )
    device_count = serializers.IntegerField(read_only=True, default=0)
    status = serializers.SerializerMethodField(
        help_text="Derived: 'maintenance' when the stored status says so, else 'online' if any device "
        "communicated within 15 minutes, else 'offline'."
    )
    last_update = serializers.SerializerMethodField(help_text="Timestamp of the plant's newest telemetry value.")
    owner_id = serializers.IntegerField(read_only=True, allow_null=True)
    installer_id = serializers.IntegerField(read_only=True, allow_null=True)

    class Meta:
        model = Plant
        fields = [
            "id",
            "name",
            "location",
            "total_capacity",
            "current_generation",
            "efficiency",
            "device_count",
            "status",
            "last_update",
            "owner_id",
            "installer_id",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.FloatField(allow_null=True))
    def get_current_generation(self, plant):
        return _plant_live(plant).current_generation

    @extend_schema_field(serializers.FloatField(allow_null=True))
    def get_efficiency(self, plant):
        return _plant_live(plant).efficiency

    @extend_schema_field(serializers.ChoiceField(choices=PlantStatus.choices))
    def get_status(self, plant) -> str:
        return _plant_live(plant).status

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_last_update(self, plant):
        return _datetime(_plant_live(plant).last_update)


def _datetime(value):
    """Render like a DRF DateTimeField (ISO 8601, UTC as ``Z``)."""
    return None if value is None else serializers.DateTimeField().to_representation(value)


CONFIG_FIELDS = [
    "plant_code",
    "cctv_url",
    "timezone",
    "elevation_m",
    "no_of_inverters",
    "no_of_panels",
    "panel_per_string",
    "string_per_row",
    "string_per_inverter",
    "power_output_per_inverter_kw",
    "power_output_per_panel_kw",
    "total_area_m2",
    "tracking",
    "surface_tilt",
    "surface_azimuth",
    "axis_tilt",
    "axis_azimuth",
    "max_angle",
    "backtrack",
    "gcr",
    "system_losses_pct",
    "albedo",
    "temperature_model",
]


class ModelReadinessSerializer(serializers.Serializer):
    ready = serializers.BooleanField(help_text="True when the record is enough for the pvlib plant model.")
    missing = serializers.ListField(
        child=serializers.CharField(),
        help_text="Fields missing or inconsistent for the model (camelCase, as PLANT_CONFIG_INVALID names them).",
    )
    errors = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))
    features = serializers.ListField(
        child=serializers.CharField(),
        help_text="What needs the model: these answer 400 PLANT_CONFIG_INVALID until ready.",
    )


class LenientDateField(serializers.DateField):
    """A date; also accepts an ISO 8601 date-time (seed 001 sends ``installationDate`` as
    ``2023-06-15T00:00:00Z``) and keeps its calendar date as written."""

    def to_internal_value(self, value):
        if isinstance(value, str) and "T" in value:
            parsed = datetime_from_text(value)
            if parsed is not None:
                return parsed.date()
        return super().to_internal_value(value)


class PlantDetailSerializer(PlantListSerializer):
    """Seed 001's detail (``coordinates``, ``installationDate``) plus seed 000's configuration.
    Writes accept this same shape; ``ownerId``/``installerId`` are validated by the service.
    Only seed 001's fields are needed to create a plant (mounting, layout and datasheets are
    optional); ``modelReadiness`` says what the pvlib model still lacks. The site may be given
    as ``coordinates {lat, lng}`` or as ``latitude``/``longitude``."""

    name = serializers.CharField(max_length=128)
    location = serializers.CharField(max_length=255, required=False, allow_blank=True)
    total_capacity = serializers.FloatField(source="total_power_output_kw", min_value=0.001)
    coordinates = CoordinatesField(required=False)
    latitude = serializers.FloatField(
        source="site_latitude", min_value=-90, max_value=90, required=False, write_only=True
    )
    longitude = serializers.FloatField(
        source="site_longitude", min_value=-180, max_value=180, required=False, write_only=True
    )
    installation_date = LenientDateField(required=False, allow_null=True)
    model_readiness = serializers.SerializerMethodField()
    owner_id = serializers.IntegerField(required=False, allow_null=True)
    installer_id = serializers.IntegerField(required=False, allow_null=True)
    plant_code = serializers.CharField(max_length=32, required=False)
    # A URL or "" (none): a plain string in the schema, since "" is no "uri" (validate_cctv_url).
    cctv_url = serializers.CharField(max_length=500, required=False, allow_blank=True, help_text="Camera stream URL.")
    timezone = serializers.CharField(max_length=64, required=False)

    def validate_cctv_url(self, value: str) -> str:
        if value:
            try:
                URLValidator()(value)
            except DjangoValidationError as exc:
                raise serializers.ValidationError("Enter a valid URL.") from exc
        return value

    class Meta(PlantListSerializer.Meta):
        fields = [
            *PlantListSerializer.Meta.fields,
            "coordinates",
            "latitude",
            "longitude",
            "installation_date",
            *CONFIG_FIELDS,
            "model_readiness",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "device_count", "status", "created_at", "updated_at"]

    def validate(self, attrs):
        given = {"latitude": attrs.pop("site_latitude", None), "longitude": attrs.pop("site_longitude", None)}
        if any(value is not None for value in given.values()):
            for name, value in given.items():
                if value is None:  # the other coordinate: from coordinates, else the stored one
                    value = attrs.get(name, getattr(self.instance, name, None))
                    if value is None:
                        raise serializers.ValidationError({name: ["Required with the other coordinate."]})
                elif name in attrs and attrs[name] != value:
                    raise serializers.ValidationError({name: ["Contradicts coordinates; give one of them."]})
                attrs[name] = value
        if self.instance is None and attrs.get("latitude") is None:
            raise serializers.ValidationError({"coordinates": ["Required: {lat, lng} (or latitude and longitude)."]})
        return attrs

    @extend_schema_field(ModelReadinessSerializer)
    def get_model_readiness(self, plant) -> dict:
        readiness = plant_model_readiness(plant=plant)
        readiness["missing"] = [camel_key(name) for name in readiness["missing"]]
        return readiness


class PanelSpecSerializer(serializers.ModelSerializer):
    plant_id = serializers.IntegerField(read_only=True)

    class Meta:
        model = PanelSpec
        exclude = ["plant"]
        read_only_fields = ["id", "plant_id", "created_at", "updated_at"]


class InverterDatasheetSerializer(serializers.ModelSerializer):
    class Meta:
        model = InverterDatasheet
        exclude = ["id", "device"]


class MeterDatasheetSerializer(serializers.ModelSerializer):
    class Meta:
        model = MeterDatasheet
        exclude = ["id", "device"]


class StringBoxDatasheetSerializer(serializers.ModelSerializer):
    class Meta:
        model = StringBoxDatasheet
        exclude = ["id", "device"]


class BessDatasheetSerializer(serializers.ModelSerializer):
    class Meta:
        model = BessDatasheet
        exclude = ["id", "device"]


class PcsDatasheetSerializer(serializers.ModelSerializer):
    class Meta:
        model = PcsDatasheet
        exclude = ["id", "device"]


DATASHEET_SERIALIZERS: dict[str, type[serializers.ModelSerializer]] = {
    DeviceType.INVERTER: InverterDatasheetSerializer,
    DeviceType.METER: MeterDatasheetSerializer,
    DeviceType.STRING_MONITORING_BOX: StringBoxDatasheetSerializer,
    DeviceType.BESS: BessDatasheetSerializer,
    DeviceType.PCS: PcsDatasheetSerializer,
}


class DeviceListSerializer(serializers.ModelSerializer):
    """Seed 001's device list item. Live figures come from the device's latest telemetry values
    (``plants.live``, annotated by telemetry) and are null/offline until telemetry exists."""

    plant_id = serializers.IntegerField(read_only=True)
    status = serializers.SerializerMethodField(
        help_text="'offline' when nothing arrived within 15 minutes; else 'fault' when the latest status_code "
        "is SunSpec 7 (FAULT); else 'online'."
    )
    current_output = serializers.SerializerMethodField(
        help_text="kW: latest ac_power if it arrived within 15 minutes, else null."
    )
    efficiency = serializers.SerializerMethodField(
        help_text="%: AC/DC conversion efficiency = ac_power / dc_power, both from the last 15 minutes and "
        "DC ≥ 0.01 kW; null otherwise."
    )
    last_update = serializers.SerializerMethodField(help_text="Timestamp of the device's newest telemetry value.")

    class Meta:
        model = Device
        fields = ["id", "plant_id", "name", "type", "status", "current_output", "efficiency", "last_update"]
        read_only_fields = fields

    # A plain string in the schema: an enum here collides with the other "status" choice sets
    # unless ENUM_NAME_OVERRIDES names plants.live.DeviceStatus (settings).
    @extend_schema_field(serializers.CharField(help_text=f"One of {', '.join(DEVICE_STATUS_VALUES)}."))
    def get_status(self, device) -> str:
        return _device_live(device).status

    @extend_schema_field(serializers.FloatField(allow_null=True))
    def get_current_output(self, device):
        return _device_live(device).current_output

    @extend_schema_field(serializers.FloatField(allow_null=True))
    def get_efficiency(self, device):
        return _device_live(device).efficiency

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_last_update(self, device):
        return _datetime(_device_live(device).last_communication)


class DeviceDetailSerializer(DeviceListSerializer):
    """Seed 001's device detail plus registry fields and the typed ``datasheet``."""

    plant_id = serializers.IntegerField()
    name = serializers.CharField(max_length=128)
    type = serializers.ChoiceField(choices=DeviceType.choices)
    serial_number = serializers.CharField(max_length=64)
    capacity = serializers.FloatField(source="capacity_kw", required=False, allow_null=True, min_value=0)
    parent_id = serializers.IntegerField(required=False, allow_null=True)
    last_communication = serializers.SerializerMethodField(
        help_text="Timestamp of the device's newest telemetry value (same as lastUpdate)."
    )
    datasheet = serializers.DictField(required=False, allow_null=True, help_text="Fields depend on the device type.")

    class Meta(DeviceListSerializer.Meta):
        fields = [
            *DeviceListSerializer.Meta.fields,
            "model",
            "serial_number",
            "capacity",
            "firmware",
            "manufacturer",
            "operational",
            "commissioned_at",
            "parent_id",
            "last_communication",
            "datasheet",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "status", "current_output", "efficiency", "last_update", "created_at", "updated_at"]

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_last_communication(self, device):
        return _datetime(_device_live(device).last_communication)

    def to_representation(self, device):
        data = super().to_representation(device)
        spec = DATASHEETS.get(device.type)
        sheet = getattr(device, spec[1], None) if spec and hasattr(device, spec[1]) else None
        data["datasheet"] = DATASHEET_SERIALIZERS[device.type](sheet).data if sheet is not None else None
        return data

    def validate(self, attrs):
        device_type = attrs.get("type") or getattr(self.instance, "type", None)
        datasheet = attrs.get("datasheet")
        if datasheet:
            serializer_class = DATASHEET_SERIALIZERS.get(device_type)
            if serializer_class is None:
                raise serializers.ValidationError({"datasheet": f"A {device_type} has no datasheet."})
            sheet = serializer_class(data=datasheet, partial=self.partial or self.instance is not None)
            if not sheet.is_valid():
                raise serializers.ValidationError({"datasheet": sheet.errors})
            attrs["datasheet"] = dict(sheet.validated_data)
        return attrs


class MemberSerializer(serializers.ModelSerializer):
    """A member on the plant's member list: shown to those who manage the plant's members."""

    user_id = serializers.IntegerField(read_only=True)
    username = serializers.CharField(source="user.username", read_only=True)
    name = serializers.CharField(source="user.name", read_only=True)
    email = serializers.EmailField(source="user.email", read_only=True)
    granted_by = serializers.IntegerField(source="granted_by_id", read_only=True, allow_null=True)

    class Meta:
        model = PlantMembership
        fields = ["user_id", "username", "name", "email", "role", "granted_by", "created_at"]
        read_only_fields = fields


@extend_schema_field({"type": "integer", "description": "Refused (400): members are invited by e-mail."})
class _RefusedField(serializers.Field):
    """A key the body must not carry: any value is a 400 naming it."""

    def __init__(self, message: str, **kwargs):
        self.message = message
        super().__init__(required=False, write_only=True, **kwargs)

    def to_internal_value(self, data):
        raise serializers.ValidationError(self.message)

    def to_representation(self, value):  # pragma: no cover - write-only
        return None


_ROLES = [(r.value, r.label) for r in GRANTABLE_ROLES]


class MemberGrantSerializer(serializers.Serializer):
    """Members are invited by e-mail; nobody is looked up by id (that was a user directory)."""

    email = serializers.EmailField(help_text="Where the invitation goes; nobody is looked up by it.")
    role = serializers.ChoiceField(choices=_ROLES)
    user_id = _RefusedField("Members are invited by e-mail: give email, not userId.")


@extend_schema_field(serializers.CharField(help_text=f"One of {', '.join(GRANTABLE_ROLES)}."))
class _GrantableRoleField(serializers.ChoiceField):
    """The grantable roles, documented as a plain string (one enum per choice set and name)."""

    def __init__(self, **kwargs):
        super().__init__(choices=_ROLES, **kwargs)


class MemberRoleSerializer(serializers.Serializer):
    role = _GrantableRoleField()


class MemberRevokeSerializer(serializers.Serializer):
    user_id = serializers.IntegerField()


class InvitationSerializer(serializers.ModelSerializer):
    """A pending invitation: only what the inviter gave (address, role), never anything about an
    account — the answer is the same whether or not the address has one."""

    plant_id = serializers.IntegerField(read_only=True)
    role = serializers.CharField(read_only=True, help_text=f"One of {', '.join(PlantRole.values)}; owner: a transfer.")
    invited_by = serializers.IntegerField(source="invited_by_id", read_only=True, allow_null=True)
    status = serializers.SerializerMethodField(help_text="'pending', or 'expired' once expiresAt has passed.")

    class Meta:
        model = PlantInvitation
        fields = ["id", "plant_id", "email", "role", "status", "invited_by", "created_at", "sent_at", "expires_at"]
        read_only_fields = fields

    @extend_schema_field(serializers.ChoiceField(choices=["pending", "expired"]))
    def get_status(self, invitation) -> str:
        return "expired" if invitation.is_expired else "pending"


class InvitationAcceptedSerializer(serializers.Serializer):
    plant_id = serializers.IntegerField()
    role = serializers.CharField(help_text="Your role on the plant now.")


class TransferSerializer(serializers.Serializer):
    owner_email = serializers.EmailField(
        required=False, help_text="Offer the plant to this address; the holder accepts (owner consent)."
    )
    owner_id = serializers.IntegerField(required=False, help_text="Plant admins only: hand over at once.")

    def validate(self, attrs):
        if ("owner_email" in attrs) == ("owner_id" in attrs):
            raise serializers.ValidationError({"owner_email": ["Give ownerEmail (or, plant admins, ownerId)."]})
        return attrs


class PlantEventSerializer(serializers.ModelSerializer):
    kind = serializers.ChoiceField(choices=PlantEventKind.choices, read_only=True)
    role = serializers.CharField(read_only=True, help_text="The role concerned, if any (empty otherwise).")
    actor_id = serializers.IntegerField(read_only=True, allow_null=True)
    from_user_id = serializers.IntegerField(read_only=True, allow_null=True)
    to_user_id = serializers.IntegerField(read_only=True, allow_null=True)

    class Meta:
        model = PlantEvent
        fields = ["id", "kind", "at", "actor_id", "from_user_id", "to_user_id", "role", "email", "data"]
        read_only_fields = fields
