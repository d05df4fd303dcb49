"""Django admin registrations of the plants app: plants (with their panel specs, devices and
memberships inline), devices (with the datasheet of their type inline) and panel specs.

Only platform admins reach these pages (``solarhub/admin.py``). Saving a plant re-syncs the
owner and installer memberships from the plant's fields, after the inlines are saved, so the
fields always have the last word.
"""

from __future__ import annotations

import csv

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.forms.models import BaseInlineFormSet
from django.http import HttpResponse
from django.utils.translation import ngettext

from accounts.choices import UserType
from solarhub.admin import PlatformAdminPermissions, ReadOnlyPlatformAdmin

from .choices import PARENT_TYPES, DeviceType, PlantRole
from .hooks import plant_created_send, plant_model_readiness
from .models import (
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
from .services import plant_code_generate, plant_handover_record, plant_memberships_sync

AUDIT_FIELDS = ("created_at", "updated_at")

# ---------------------------------------------------------------------------------------------
# Plant


class PlantAdminForm(forms.ModelForm):
    """Admin form of a plant (the admin's ``get_form`` supplies model and fields)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "plant_code" in self.fields:
            self.fields["plant_code"].required = False
            self.fields["plant_code"].help_text = "Stable code, e.g. from config.json's plant_id. Empty: generated."

    def clean_owner(self):
        owner = self.cleaned_data.get("owner")
        if owner is not None and owner.user_type != UserType.CUSTOMER:
            raise ValidationError("The owner must be a customer account.")
        return owner

    def clean_installer(self):
        installer = self.cleaned_data.get("installer")
        if installer is not None and installer.user_type != UserType.INSTALLER:
            raise ValidationError("The installer must be an installer account.")
        return installer

    def clean_plant_code(self):
        return self.cleaned_data.get("plant_code") or plant_code_generate()


class MembershipFormSet(BaseInlineFormSet):
    """Owner and installer memberships mirror the plant's fields; other roles are granted here."""

    def clean(self):
        super().clean()
        plant = self.instance
        for form in self.forms:
            if not form.has_changed() or self._should_delete_form(form) or not form.is_valid():
                continue
            role, user = form.cleaned_data.get("role"), form.cleaned_data.get("user")
            if role == PlantRole.OWNER and user is not None and user.pk != plant.owner_id:
                form.add_error("role", "The owner membership follows the plant's Owner field.")
            if role == PlantRole.INSTALLER and user is not None and user.pk != plant.installer_id:
                form.add_error("role", "The installer membership follows the plant's Installer field.")


class PlantMembershipInline(PlatformAdminPermissions, admin.TabularInline):
    model = PlantMembership
    formset = MembershipFormSet
    fk_name = "plant"
    extra = 0
    fields = ("user", "role", "granted_by", "created_at")
    readonly_fields = ("granted_by", "created_at")
    autocomplete_fields = ("user",)


class PanelSpecInline(PlatformAdminPermissions, admin.TabularInline):
    model = PanelSpec
    extra = 0
    show_change_link = True
    fields = (
        "manufacturer_name", "panel_type", "p_max_w", "efficiency_pct",
        "max_system_voltage_v", "max_series_fuse_rating_a",
    )  # fmt: skip


class DeviceInline(PlatformAdminPermissions, admin.TabularInline):
    model = Device
    fk_name = "plant"
    extra = 0
    show_change_link = True
    fields = ("type", "name", "serial_number", "operational")


@admin.register(Plant)
class PlantAdmin(PlatformAdminPermissions, admin.ModelAdmin):
    form = PlantAdminForm
    list_display = ("name", "plant_code", "status", "capacity", "owner", "installer", "device_count")
    list_filter = ("status", "tracking", ("installer", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("owner", "installer")
    ordering = ("name", "id")
    search_fields = ("name", "plant_code", "location", "owner__email")
    readonly_fields = ("model_readiness", *AUDIT_FIELDS)
    autocomplete_fields = ("owner", "installer")
    inlines = [PanelSpecInline, DeviceInline, PlantMembershipInline]
    fieldsets = (
        ("Identity", {"fields": ("name", "plant_code", "status", "installation_date", "owner", "installer")}),
        ("Site", {"fields": ("location", "timezone", ("latitude", "longitude"), "elevation_m")}),
        (
            "Layout",
            {
                "fields": (
                    "total_power_output_kw",
                    ("no_of_inverters", "power_output_per_inverter_kw"),
                    ("no_of_panels", "power_output_per_panel_kw"),
                    ("panel_per_string", "string_per_row", "string_per_inverter"),
                    "total_area_m2",
                )
            },
        ),
        (
            "Mounting",
            {
                "fields": (
                    "tracking",
                    ("surface_tilt", "surface_azimuth"),
                    ("axis_tilt", "axis_azimuth"),
                    ("max_angle", "backtrack", "gcr"),
                ),
                "description": "Optional (a monitoring-only plant needs none). For forecasts and expected "
                "power: fixed tilt needs surface tilt and azimuth; a single-axis tracker axis tilt, axis "
                "azimuth, max angle and GCR (with backtracking). 'Model readiness' below names what is missing.",
            },
        ),
        ("Performance model", {"fields": ("system_losses_pct", "albedo", "temperature_model", "model_readiness")}),
        ("Audit", {"fields": AUDIT_FIELDS, "classes": ("collapse",)}),
    )

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(device_count=Count("devices"))

    @admin.display(description="Model readiness")
    def model_readiness(self, obj: Plant) -> str:
        """The same check the forecasts apply (``plant_model_readiness``), after saving."""
        if obj.pk is None:
            return "Save the plant to check it."
        readiness = plant_model_readiness(plant=obj)
        if readiness["ready"]:
            return "Ready: forecasts and expected power can run."
        problems = "; ".join(f"{name}: {' '.join(msgs)}" for name, msgs in readiness["errors"].items())
        return f"Not ready for {', '.join(readiness['features'])}: {problems}"

    @admin.display(description="Capacity (kWp)", ordering="total_power_output_kw")
    def capacity(self, obj: Plant) -> str:
        return f"{obj.total_power_output_kw:,.1f}"

    @admin.display(description="Devices", ordering="device_count")
    def device_count(self, obj: Plant) -> int:
        return obj.device_count

    def save_formset(self, request, form, formset, change):
        if formset.model is PlantMembership:
            for membership in formset.save(commit=False):
                if membership.pk is None and membership.granted_by_id is None:
                    membership.granted_by = request.user
                membership.save()
            for membership in formset.deleted_objects:
                membership.delete()
            return
        super().save_formset(request, form, formset, change)

    def save_model(self, request, obj, form, change):
        # What the row held before this save, for plant_handover_record after the inlines.
        before = Plant.objects.filter(pk=obj.pk).values("owner_id", "installer_id").first() if change else None
        obj._handover_before = before or {"owner_id": None, "installer_id": None}
        super().save_model(request, obj, form, change)
        if not change:
            plant_created_send(plant=obj)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        plant = form.instance
        plant_memberships_sync(plant=plant)
        # An owner or installer change made here is recorded and revokes the plant's ingest keys,
        # as everywhere else (the admin's changeform runs in one transaction).
        before = getattr(plant, "_handover_before", {"owner_id": None, "installer_id": None})
        plant_handover_record(
            plant=plant,
            by=request.user,
            previous_owner_id=before["owner_id"],
            previous_installer_id=before["installer_id"],
            via="admin",
        )


@admin.register(PlantEvent)
class PlantEventAdmin(ReadOnlyPlatformAdmin, admin.ModelAdmin):
    """The plants' history, as written by ``plants.services``."""

    list_display = ("at", "plant", "kind", "actor", "from_user", "to_user", "role", "email")
    list_filter = ("kind",)
    list_select_related = ("plant", "actor", "from_user", "to_user")
    search_fields = ("plant__name", "plant__plant_code", "email")
    date_hierarchy = "at"


@admin.register(PlantInvitation)
class PlantInvitationAdmin(PlatformAdminPermissions, admin.ModelAdmin):
    """Invitations can be looked at and withdrawn here; they are made through the API (the token
    exists only in the e-mail)."""

    list_display = ("email", "plant", "role", "invited_by", "sent_at", "expires_at", "accepted_at", "accepted_by")
    list_filter = ("role", ("accepted_at", admin.EmptyFieldListFilter))
    list_select_related = ("plant", "invited_by", "accepted_by")
    search_fields = ("email", "plant__name", "plant__plant_code")
    exclude = ("token_hash",)

    def has_add_permission(self, request, *args) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


# ---------------------------------------------------------------------------------------------
# Devices and their typed datasheets


class DatasheetInline(PlatformAdminPermissions, admin.StackedInline):
    """One datasheet per device (one-to-one, so at most one form); shown for its type only."""

    extra = 1
    can_delete = False
    device_type: str = ""


class InverterDatasheetInline(DatasheetInline):
    model = InverterDatasheet
    device_type = DeviceType.INVERTER
    fieldsets = (
        ("Output (AC)", {"fields": (
            ("nominal_output_power_kw", "nominal_output_current_a", "max_output_connections"),
            ("nominal_output_ac_v", "phases"), ("power_factor_min", "power_factor_max"),
        )}),
        ("Input (DC)", {"fields": (
            ("max_pv_power_dc_kw", "max_input_v"), ("max_nominal_input_current_a", "max_allowed_pv_current_a"),
            ("mppt_count", "max_dc_connections_1mppt"), ("mpp_range_min_v", "mpp_range_max_v"),
        )}),
        ("Efficiency", {"fields": (("max_efficiency_pct", "european_efficiency_pct"), "power_consumption_night_kw")}),
        ("Mechanical", {"fields": (
            ("dimension_length_mm", "dimension_width_mm", "dimension_depth_mm"), "weight_kg",
            ("temp_range_min_c", "temp_range_max_c"), "airflow_required_m3ph",
        )}),
    )  # fmt: skip


class MeterDatasheetInline(DatasheetInline):
    model = MeterDatasheet
    device_type = DeviceType.METER


class StringBoxDatasheetInline(DatasheetInline):
    model = StringBoxDatasheet
    device_type = DeviceType.STRING_MONITORING_BOX


class BessDatasheetInline(DatasheetInline):
    model = BessDatasheet
    device_type = DeviceType.BESS


class PcsDatasheetInline(DatasheetInline):
    model = PcsDatasheet
    device_type = DeviceType.PCS


class DeviceAdminForm(forms.ModelForm):
    """Admin form of a device: the parent rule of ``plants.services`` (same plant, right type)."""

    def clean(self):
        cleaned = super().clean()
        device_type, plant, parent = cleaned.get("type"), cleaned.get("plant"), cleaned.get("parent")
        if parent is None or device_type is None or plant is None:
            return cleaned
        expected = PARENT_TYPES.get(device_type)
        if self.instance.pk is not None and parent.pk == self.instance.pk:
            self.add_error("parent", "A device cannot be its own parent.")
        elif parent.plant_id != plant.pk:
            self.add_error("parent", "The parent device must belong to the same plant.")
        elif expected is None:
            self.add_error("parent", f"A {device_type} has no parent device.")
        elif parent.type != expected:
            self.add_error("parent", f"The parent of a {device_type} must be a {expected}.")
        return cleaned


EXPORT_COLUMNS = (
    "type", "name", "serial_number", "manufacturer", "model", "firmware", "capacity_kw",
    "commissioned_at", "operational", "parent_serial", "plant_code",
)  # fmt: skip


def _csv_cell(value) -> str:
    """Text cells that a spreadsheet would run as a formula get a leading apostrophe."""
    text = "" if value is None else str(value)
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@admin.register(Device)
class DeviceAdmin(PlatformAdminPermissions, admin.ModelAdmin):
    form = DeviceAdminForm
    list_display = ("name", "type", "serial_number", "plant", "parent", "model", "capacity_kw", "operational")
    list_filter = ("type", "operational", "plant")
    list_select_related = ("plant", "parent")
    search_fields = ("name", "serial_number", "model", "plant__name", "plant__plant_code")
    readonly_fields = AUDIT_FIELDS
    autocomplete_fields = ("plant", "parent")
    actions = ["mark_non_operational", "mark_operational", "export_csv"]
    fieldsets = (
        (None, {"fields": ("plant", "type", "name", "serial_number", "parent")}),
        ("Hardware", {"fields": ("manufacturer", "model", "firmware", "capacity_kw")}),
        ("Operation", {"fields": ("commissioned_at", "operational")}),
        ("Audit", {"fields": AUDIT_FIELDS, "classes": ("collapse",)}),
    )
    inlines = [
        InverterDatasheetInline,
        MeterDatasheetInline,
        StringBoxDatasheetInline,
        BessDatasheetInline,
        PcsDatasheetInline,
    ]

    def get_inline_instances(self, request, obj=None):
        """Only the datasheet of the device's type. On the add page the type comes from the
        query string (``?type=inverter``); without it the datasheet is added after saving."""
        device_type = obj.type if obj is not None and obj.pk else request.GET.get("type")
        return [inline for inline in super().get_inline_instances(request, obj) if inline.device_type == device_type]

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # A device whose type changed keeps no datasheet of its former type.
        for device_type, (model, _related) in DATASHEETS.items():
            if device_type != form.instance.type:
                model.objects.filter(device=form.instance).delete()

    @admin.action(description="Mark selected devices non-operational")
    def mark_non_operational(self, request, queryset):
        self._set_operational(request, queryset, False)

    @admin.action(description="Mark selected devices operational")
    def mark_operational(self, request, queryset):
        self._set_operational(request, queryset, True)

    def _set_operational(self, request, queryset, operational: bool) -> None:
        updated = queryset.update(operational=operational)
        state = "operational" if operational else "non-operational"
        message = ngettext("%(n)d device marked %(state)s.", "%(n)d devices marked %(state)s.", updated)
        self.message_user(request, message % {"n": updated, "state": state}, messages.SUCCESS)

    @admin.action(description="Export selected devices as CSV")
    def export_csv(self, request, queryset):
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="devices.csv"'
        writer = csv.writer(response)
        writer.writerow(EXPORT_COLUMNS)
        for device in queryset.select_related("plant", "parent").order_by("plant_id", "id"):
            writer.writerow(
                [
                    device.type,
                    _csv_cell(device.name),
                    _csv_cell(device.serial_number),
                    _csv_cell(device.manufacturer),
                    _csv_cell(device.model),
                    _csv_cell(device.firmware),
                    "" if device.capacity_kw is None else f"{device.capacity_kw:g}",
                    device.commissioned_at.isoformat() if device.commissioned_at else "",
                    "true" if device.operational else "false",
                    _csv_cell(device.parent.serial_number) if device.parent_id else "",
                    _csv_cell(device.plant.plant_code),
                ]
            )
        return response


# ---------------------------------------------------------------------------------------------
# Panel specs


@admin.register(PanelSpec)
class PanelSpecAdmin(PlatformAdminPermissions, admin.ModelAdmin):
    list_display = ("panel_type", "manufacturer_name", "plant", "p_max_w", "efficiency_pct", "cell_count")
    list_filter = ("manufacturer_name",)
    list_select_related = ("plant",)
    search_fields = ("panel_type", "manufacturer_name", "plant__name", "plant__plant_code")
    readonly_fields = AUDIT_FIELDS
    autocomplete_fields = ("plant",)
    fieldsets = (
        ("Module", {"fields": ("plant", "manufacturer_name", "panel_type", "manufacture_date")}),
        ("Electrical (STC)", {"fields": (
            ("p_max_w", "efficiency_pct", "p_selection"), ("v_oc_v", "i_sc_a"), ("v_mp_v", "i_mp_a"),
            ("stc_irradiance_w_m2", "stc_temperature_c"), ("max_system_voltage_v", "max_series_fuse_rating_a"),
            ("operating_temperature_min_c", "operating_temperature_max_c"),
        )}),
        ("Electrical (NOCT)", {"fields": (
            ("t_noct_c", "p_max_noct_w"), ("v_oc_noct_v", "i_sc_noct_a"), ("v_mp_noct_v", "i_mp_noct_a"),
        )}),
        ("Tolerances and temperature coefficients", {"fields": (
            ("tolerance_p_max_pct", "tolerance_v_oc_pct", "tolerance_i_sc_pct"),
            ("coefficient_pmax_pct", "coefficient_voc_pct", "coefficient_isc_pct"),
        )}),
        ("Mechanical", {"fields": (
            "cell_count", ("dimension_length_mm", "dimension_width_mm", "dimension_depth_mm"), "weight_kg",
            ("front_glass", "frame", "junction_box"), ("wind_pa", "snow_pa", "safety_factor"),
        )}),
        ("Warranty", {"fields": (("product_years", "performance_years"),)}),
        ("Audit", {"fields": AUDIT_FIELDS, "classes": ("collapse",)}),
    )  # fmt: skip
