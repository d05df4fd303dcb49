"""Plants, their panel specs, memberships and the device registry with typed datasheets.

Field names follow seed 000's datasheets (``total_power_output_kw``, ``p_max_w``,
``european_efficiency_pct``...) so config files and the API speak one vocabulary.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from .choices import BatteryChemistry, DeviceType, MeterRole, PlantEventKind, PlantRole, PlantStatus, Tracking
from .querysets import PlantQuerySet
from .validators import validate_timezone

_positive = [MinValueValidator(0.0, message="Must not be negative.")]


# pvlib's SAPM cell-temperature parameter sets (temperature.TEMPERATURE_MODEL_PARAMETERS["sapm"]).
SAPM_TEMPERATURE_MODELS = [
    ("open_rack_glass_polymer", "Open rack, glass/polymer"),
    ("open_rack_glass_glass", "Open rack, glass/glass"),
    ("close_mount_glass_glass", "Close roof mount, glass/glass"),
    ("insulated_back_glass_polymer", "Insulated back, glass/polymer"),
]


def _pct(minimum: float = 0.0, maximum: float = 100.0):
    return [MinValueValidator(minimum), MaxValueValidator(maximum)]


class Plant(models.Model):
    # identity (seed 001 + seed 000)
    name = models.CharField(max_length=128)
    plant_code = models.CharField(
        max_length=32, unique=True, help_text="Stable code, e.g. from config.json's plant_id."
    )
    location = models.CharField(max_length=255, blank=True, help_text="Free text, e.g. 'California, USA'.")
    status = models.CharField(max_length=20, choices=PlantStatus.choices, default=PlantStatus.OFFLINE)
    installation_date = models.DateField(null=True, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="owned_plants"
    )
    installer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="installed_plants"
    )

    # site
    timezone = models.CharField(max_length=64, default="UTC", validators=[validate_timezone])
    latitude = models.FloatField(validators=[MinValueValidator(-90.0), MaxValueValidator(90.0)])
    longitude = models.FloatField(validators=[MinValueValidator(-180.0), MaxValueValidator(180.0)])
    elevation_m = models.FloatField(
        null=True, blank=True, validators=[MinValueValidator(-500.0), MaxValueValidator(9000.0)]
    )

    # size and electrical layout
    total_power_output_kw = models.FloatField(
        validators=[MinValueValidator(0.001, message="Capacity must be greater than 0.")],
        help_text="Installed DC capacity in kW (the SPA's totalCapacity).",
    )
    no_of_inverters = models.PositiveIntegerField(null=True, blank=True)
    no_of_panels = models.PositiveIntegerField(null=True, blank=True)
    panel_per_string = models.PositiveIntegerField(null=True, blank=True)
    string_per_row = models.PositiveIntegerField(null=True, blank=True)
    string_per_inverter = models.PositiveIntegerField(null=True, blank=True)
    power_output_per_inverter_kw = models.FloatField(null=True, blank=True, validators=_positive)
    power_output_per_panel_kw = models.FloatField(null=True, blank=True, validators=_positive)
    total_area_m2 = models.FloatField(null=True, blank=True, validators=_positive)

    # mounting
    tracking = models.CharField(max_length=16, choices=Tracking.choices, default=Tracking.FIXED)
    surface_tilt = models.FloatField(
        null=True, blank=True, validators=[MinValueValidator(0.0), MaxValueValidator(90.0)]
    )
    surface_azimuth = models.FloatField(
        null=True, blank=True, validators=[MinValueValidator(0.0), MaxValueValidator(360.0)],
        help_text="Degrees clockwise from north (180 = south).",
    )  # fmt: skip
    axis_tilt = models.FloatField(null=True, blank=True, validators=[MinValueValidator(0.0), MaxValueValidator(90.0)])
    axis_azimuth = models.FloatField(
        null=True, blank=True, validators=[MinValueValidator(0.0), MaxValueValidator(360.0)]
    )
    max_angle = models.FloatField(null=True, blank=True, validators=[MinValueValidator(0.0), MaxValueValidator(90.0)])
    backtrack = models.BooleanField(default=True)
    gcr = models.FloatField(
        null=True,
        blank=True,
        validators=[
            MinValueValidator(0.0001, message="GCR must be in (0, 1)."),
            MaxValueValidator(0.9999, message="GCR must be in (0, 1)."),
        ],
        help_text="Ground coverage ratio, in (0, 1).",
    )

    # performance model
    system_losses_pct = models.FloatField(default=14.0, validators=_pct(0.0, 99.0))
    albedo = models.FloatField(default=0.25, validators=[MinValueValidator(0.0), MaxValueValidator(1.0)])
    temperature_model = models.CharField(
        max_length=32,
        choices=SAPM_TEMPERATURE_MODELS,
        default="open_rack_glass_polymer",
        help_text="SAPM cell-temperature parameters (pvlib) used by the forecasting plant model.",
    )

    # site views (seed 003's sidebar)
    cctv_url = models.URLField(max_length=500, blank=True, help_text="Camera stream of the site (seed 003's cctv_url).")

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # ``Plant.objects.visible_to(user)`` / ``.allowing(user, action)``: the one scoping rule
    objects = PlantQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["owner"]), models.Index(fields=["installer"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.plant_code})"


class PanelSpec(models.Model):
    """A PV module datasheet used on a plant (seed 000 ``PanelSpec``)."""

    plant = models.ForeignKey(Plant, on_delete=models.CASCADE, related_name="panel_specs")
    manufacturer_name = models.CharField(max_length=64, blank=True)
    panel_type = models.CharField(max_length=64, help_text="Model / type designation.")
    manufacture_date = models.DateField(null=True, blank=True)
    # STC electrical
    p_max_w = models.FloatField(validators=[MinValueValidator(1.0)])
    v_oc_v = models.FloatField(null=True, blank=True, validators=_positive)
    i_sc_a = models.FloatField(null=True, blank=True, validators=_positive)
    v_mp_v = models.FloatField(null=True, blank=True, validators=_positive)
    i_mp_a = models.FloatField(null=True, blank=True, validators=_positive)
    efficiency_pct = models.FloatField(validators=_pct(0.1, 50.0))
    p_selection = models.IntegerField(null=True, blank=True)
    stc_irradiance_w_m2 = models.IntegerField(null=True, blank=True, default=1000)
    stc_temperature_c = models.FloatField(null=True, blank=True, default=25.0)
    max_system_voltage_v = models.IntegerField(validators=[MinValueValidator(1)])
    max_series_fuse_rating_a = models.IntegerField(validators=[MinValueValidator(1)])
    operating_temperature_min_c = models.FloatField(null=True, blank=True)
    operating_temperature_max_c = models.FloatField(null=True, blank=True)
    # NOCT electrical
    t_noct_c = models.FloatField(null=True, blank=True)
    p_max_noct_w = models.FloatField(null=True, blank=True, validators=_positive)
    v_oc_noct_v = models.FloatField(null=True, blank=True, validators=_positive)
    i_sc_noct_a = models.FloatField(null=True, blank=True, validators=_positive)
    v_mp_noct_v = models.FloatField(null=True, blank=True, validators=_positive)
    i_mp_noct_a = models.FloatField(null=True, blank=True, validators=_positive)
    # tolerances and temperature coefficients (%/°C)
    tolerance_p_max_pct = models.FloatField(null=True, blank=True)
    tolerance_v_oc_pct = models.FloatField(null=True, blank=True)
    tolerance_i_sc_pct = models.FloatField(null=True, blank=True)
    coefficient_pmax_pct = models.FloatField(null=True, blank=True, help_text="%/°C, e.g. -0.35")
    coefficient_voc_pct = models.FloatField(null=True, blank=True)
    coefficient_isc_pct = models.FloatField(null=True, blank=True)
    # mechanical
    cell_count = models.PositiveIntegerField(null=True, blank=True)
    dimension_length_mm = models.FloatField(null=True, blank=True, validators=_positive)
    dimension_width_mm = models.FloatField(null=True, blank=True, validators=_positive)
    dimension_depth_mm = models.FloatField(null=True, blank=True, validators=_positive)
    weight_kg = models.FloatField(null=True, blank=True, validators=_positive)
    front_glass = models.CharField(max_length=128, blank=True)
    frame = models.CharField(max_length=128, blank=True)
    junction_box = models.CharField(max_length=64, blank=True)
    wind_pa = models.FloatField(null=True, blank=True, validators=_positive)
    snow_pa = models.FloatField(null=True, blank=True, validators=_positive)
    safety_factor = models.FloatField(null=True, blank=True, validators=_positive)
    # warranty
    product_years = models.PositiveIntegerField(null=True, blank=True)
    performance_years = models.PositiveIntegerField(null=True, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["plant", "manufacturer_name", "panel_type"], name="plants_panelspec_unique_type"
            )
        ]

    def __str__(self) -> str:
        return f"{self.manufacturer_name} {self.panel_type} {self.p_max_w:g} W".strip()


class PlantMembership(models.Model):
    """A user's role on one plant (healthchecks' ``Member(user, project, role)``). Owner and
    installer memberships mirror the plant's ``owner``/``installer`` fields."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="plant_memberships")
    plant = models.ForeignKey(Plant, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=PlantRole.choices)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "plant"], name="plants_membership_user_plant_unique")]
        indexes = [models.Index(fields=["plant", "role"])]

    def __str__(self) -> str:
        return f"{self.user} {self.role} of {self.plant}"


class PlantInvitation(models.Model):
    """An invitation to a plant, sent to an e-mail address: a membership (engineer, operator,
    viewer) or, with role ``owner``, the plant's ownership (a transfer). Nobody is looked up when
    it is made; it becomes a membership (or the ownership) when a signed-in user whose account
    e-mail is ``email`` accepts it with the token from the e-mail before ``expires_at``. Only a
    SHA-256 of the token is stored. Accepted rows stay as the record of who accepted when."""

    plant = models.ForeignKey(Plant, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField(help_text="Lower-cased; matched against the accepting account's e-mail.")
    role = models.CharField(max_length=20, choices=PlantRole.choices)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(default=timezone.now, help_text="When the current token was e-mailed.")
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["id"]
        constraints = [
            # one pending membership invitation per address and plant (re-inviting replaces it) …
            models.UniqueConstraint(
                fields=["plant", "email"],
                condition=Q(accepted_at__isnull=True) & ~Q(role=PlantRole.OWNER),
                name="plants_invitation_pending_member_unique",
            ),
            # … and one pending ownership transfer per plant (a new offer replaces the old one)
            models.UniqueConstraint(
                fields=["plant"],
                condition=Q(accepted_at__isnull=True, role=PlantRole.OWNER),
                name="plants_invitation_pending_transfer_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.email} as {self.role} of {self.plant}"

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()


class PlantEvent(models.Model):
    """A plant's audit history: who changed its owner or installer, invited, admitted, re-roled
    or removed whom, and when. Written by ``plants.services`` only."""

    plant = models.ForeignKey(Plant, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=32, choices=PlantEventKind.choices)
    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="Who did it; empty for a management command.",
    )  # fmt: skip
    from_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    to_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    role = models.CharField(max_length=20, choices=PlantRole.choices, blank=True)
    email = models.EmailField(blank=True, help_text="The address an invitation went to.")
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["plant", "-at"])]

    def __str__(self) -> str:
        return f"{self.kind} on {self.plant} at {self.at:%Y-%m-%d %H:%M}"


class Device(models.Model):
    """One registry for every device kind; the typed datasheet hangs off it one-to-one."""

    plant = models.ForeignKey(Plant, on_delete=models.CASCADE, related_name="devices")
    type = models.CharField(max_length=32, choices=DeviceType.choices)
    name = models.CharField(max_length=128)
    serial_number = models.CharField(max_length=64)
    manufacturer = models.CharField(max_length=64, blank=True)
    model = models.CharField(max_length=64, blank=True)
    firmware = models.CharField(max_length=64, blank=True)
    capacity_kw = models.FloatField(null=True, blank=True, validators=_positive)
    commissioned_at = models.DateField(null=True, blank=True)
    operational = models.BooleanField(default=True)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["plant", "serial_number"], name="plants_device_plant_serial_unique"),
            models.CheckConstraint(condition=~Q(parent=models.F("id")), name="plants_device_not_own_parent"),
        ]
        indexes = [models.Index(fields=["plant", "type"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.serial_number})"


class InverterDatasheet(models.Model):
    device = models.OneToOneField(Device, on_delete=models.CASCADE, related_name="inverter_datasheet")
    nominal_output_power_kw = models.FloatField(null=True, blank=True, validators=_positive)
    nominal_output_current_a = models.FloatField(null=True, blank=True, validators=_positive)
    max_output_connections = models.PositiveIntegerField(null=True, blank=True)
    max_pv_power_dc_kw = models.FloatField(null=True, blank=True, validators=_positive)
    max_nominal_input_current_a = models.FloatField(null=True, blank=True, validators=_positive)
    max_allowed_pv_current_a = models.FloatField(null=True, blank=True, validators=_positive)
    max_dc_connections_1mppt = models.PositiveIntegerField(null=True, blank=True)
    mppt_count = models.PositiveIntegerField(null=True, blank=True)
    max_efficiency_pct = models.FloatField(null=True, blank=True, validators=_pct(1.0, 100.0))
    european_efficiency_pct = models.FloatField(null=True, blank=True, validators=_pct(1.0, 100.0))
    power_consumption_night_kw = models.FloatField(null=True, blank=True, validators=_positive)
    mpp_range_min_v = models.FloatField(null=True, blank=True, validators=_positive)
    mpp_range_max_v = models.FloatField(null=True, blank=True, validators=_positive)
    max_input_v = models.FloatField(null=True, blank=True, validators=_positive)
    nominal_output_ac_v = models.FloatField(null=True, blank=True, validators=_positive)
    phases = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(3)]
    )
    power_factor_min = models.FloatField(
        null=True, blank=True, validators=[MinValueValidator(-1.0), MaxValueValidator(1.0)]
    )
    power_factor_max = models.FloatField(
        null=True, blank=True, validators=[MinValueValidator(-1.0), MaxValueValidator(1.0)]
    )
    temp_range_min_c = models.FloatField(null=True, blank=True)
    temp_range_max_c = models.FloatField(null=True, blank=True)
    dimension_length_mm = models.FloatField(null=True, blank=True, validators=_positive)
    dimension_width_mm = models.FloatField(null=True, blank=True, validators=_positive)
    dimension_depth_mm = models.FloatField(null=True, blank=True, validators=_positive)
    weight_kg = models.FloatField(null=True, blank=True, validators=_positive)
    airflow_required_m3ph = models.FloatField(null=True, blank=True, validators=_positive)

    def __str__(self) -> str:
        return f"datasheet of {self.device}"


class MeterDatasheet(models.Model):
    """Meters including ABT (availability-based tariff) meters (seed 000 ``Abt_meter``)."""

    device = models.OneToOneField(Device, on_delete=models.CASCADE, related_name="meter_datasheet")
    is_abt = models.BooleanField(default=False)
    role = models.CharField(
        max_length=8, choices=MeterRole.choices, blank=True, help_text="Grid, auxiliary or PV meter (storage sites)."
    )
    ct_ratio = models.FloatField(null=True, blank=True, validators=_positive, help_text="Current transformer ratio.")
    phase_voltage_v = models.FloatField(null=True, blank=True, validators=_positive)
    phase_current_a = models.FloatField(null=True, blank=True, validators=_positive)
    phase_power_factor = models.FloatField(
        null=True, blank=True, validators=[MinValueValidator(-1.0), MaxValueValidator(1.0)]
    )
    phase_frequency_hz = models.FloatField(
        null=True, blank=True, validators=[MinValueValidator(40.0), MaxValueValidator(70.0)]
    )
    phase_voltage_unbalance_pct = models.FloatField(null=True, blank=True, validators=_pct())
    phase_current_unbalance_pct = models.FloatField(null=True, blank=True, validators=_pct())

    def __str__(self) -> str:
        return f"datasheet of {self.device}"


class StringBoxDatasheet(models.Model):
    device = models.OneToOneField(Device, on_delete=models.CASCADE, related_name="string_box_datasheet")
    p_kwp = models.FloatField(null=True, blank=True, validators=_positive)
    no_strings = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(64)]
    )

    def __str__(self) -> str:
        return f"datasheet of {self.device}"


class BessDatasheet(models.Model):
    device = models.OneToOneField(Device, on_delete=models.CASCADE, related_name="bess_datasheet")
    energy_rating_kwh = models.FloatField(null=True, blank=True, validators=_positive)
    usable_capacity_kwh = models.FloatField(
        null=True, blank=True, validators=_positive, help_text="Usable energy at the nameplate SoH (the EFC base)."
    )
    power_rating_kw = models.FloatField(null=True, blank=True, validators=_positive)
    max_charge_kw = models.FloatField(null=True, blank=True, validators=_positive)
    max_discharge_kw = models.FloatField(null=True, blank=True, validators=_positive)
    c_rate = models.FloatField(null=True, blank=True, validators=_positive, help_text="Continuous C-rate, 1/h.")
    racks = models.PositiveSmallIntegerField(null=True, blank=True)
    chemistry = models.CharField(max_length=16, choices=BatteryChemistry.choices, blank=True)
    nominal_voltage_v = models.FloatField(null=True, blank=True, validators=_positive)
    min_soc_pct = models.FloatField(null=True, blank=True, validators=_pct())
    max_soc_pct = models.FloatField(null=True, blank=True, validators=_pct())

    def __str__(self) -> str:
        return f"datasheet of {self.device}"


class PcsDatasheet(models.Model):
    device = models.OneToOneField(Device, on_delete=models.CASCADE, related_name="pcs_datasheet")
    power_rating_kw = models.FloatField(null=True, blank=True, validators=_positive)
    apparent_power_rating_kva = models.FloatField(null=True, blank=True, validators=_positive)
    nominal_ac_voltage_v = models.FloatField(null=True, blank=True, validators=_positive)
    nominal_dc_voltage_v = models.FloatField(null=True, blank=True, validators=_positive)
    max_efficiency_pct = models.FloatField(null=True, blank=True, validators=_pct(1.0, 100.0))

    def __str__(self) -> str:
        return f"datasheet of {self.device}"


# device type → (datasheet model, related name on Device)
DATASHEETS: dict[str, tuple[type[models.Model], str]] = {
    DeviceType.INVERTER: (InverterDatasheet, "inverter_datasheet"),
    DeviceType.METER: (MeterDatasheet, "meter_datasheet"),
    DeviceType.STRING_MONITORING_BOX: (StringBoxDatasheet, "string_box_datasheet"),
    DeviceType.BESS: (BessDatasheet, "bess_datasheet"),
    DeviceType.PCS: (PcsDatasheet, "pcs_datasheet"),
}
