"""Writes of the plants app. Views, admin, import commands and the demo seeder call these; each
re-checks the caller's rights inside its transaction (``plant_lock_for``)."""

from __future__ import annotations

import secrets
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.choices import UserType

from .access import PlantAction, is_platform_admin, may_create_plants
from .choices import GRANTABLE_ROLES, PARENT_TYPES, PlantRole
from .models import DATASHEETS, Device, PanelSpec, Plant, PlantMembership

_tz_finder = None


def timezone_for(*, latitude: float, longitude: float) -> str:
    """The IANA zone at a coordinate (offline lookup, timezonefinder's bundled polygons)."""
    global _tz_finder
    if _tz_finder is None:
        from timezonefinder import TimezoneFinder

        _tz_finder = TimezoneFinder()
    return _tz_finder.timezone_at(lat=latitude, lng=longitude) or "UTC"


def plant_code_generate() -> str:
    while True:
        code = f"PLT-{secrets.token_hex(3).upper()}"
        if not Plant.objects.filter(plant_code=code).exists():
            return code


def _check_owner(owner) -> None:
    if owner is not None and owner.user_type != UserType.CUSTOMER:
        raise ValidationError({"owner_id": "The owner must be a customer account."})


def _check_installer(installer) -> None:
    if installer is not None and installer.user_type != UserType.INSTALLER:
        raise ValidationError({"installer_id": "The installer must be an installer account."})


def plant_memberships_sync(*, plant: Plant) -> None:
    """Owner and installer memberships follow the plant's fields (one owner, one installer)."""
    for role, user_id in ((PlantRole.OWNER, plant.owner_id), (PlantRole.INSTALLER, plant.installer_id)):
        PlantMembership.objects.filter(plant=plant, role=role).exclude(user_id=user_id).delete()
        if user_id is not None:
            PlantMembership.objects.update_or_create(plant=plant, user_id=user_id, defaults={"role": role})


def _full_clean(instance, exclude: list[str] | None = None) -> None:
    instance.full_clean(exclude=exclude, validate_unique=True)


@transaction.atomic
def plant_create(*, by, data: dict[str, Any]) -> Plant:
    """Create a plant. Installers become its installer; only platform admins may name another
    installer. ``plant_code`` is generated and ``timezone`` looked up from the coordinates when
    not given. Seed 001's fields are enough: mounting, layout and datasheets are optional and
    ``forecasting.selectors.plant_model_readiness`` says what the plant model still lacks (the
    features that need the model refuse with PLANT_CONFIG_INVALID naming those fields)."""
    if not may_create_plants(by):
        from rest_framework.exceptions import PermissionDenied

        raise PermissionDenied("Only installers and plant administrators can create plants.")
    data = dict(data)
    if not is_platform_admin(by):
        if data.get("installer") not in (None, by):
            raise ValidationError({"installer_id": "You can only create plants that you install."})
        data["installer"] = by
    plant = Plant(**data)
    if not plant.plant_code:
        plant.plant_code = plant_code_generate()
    if not data.get("timezone") and plant.latitude is not None and plant.longitude is not None:
        plant.timezone = timezone_for(latitude=plant.latitude, longitude=plant.longitude)
    _check_owner(plant.owner)
    _check_installer(plant.installer)
    _full_clean(plant)
    plant.save()
    plant_memberships_sync(plant=plant)
    return plant


@transaction.atomic
def plant_update(*, by, plant_id: int, data: dict[str, Any]) -> Plant:
    from solarhub.api.scoping import plant_lock_for

    plant = plant_lock_for(user=by, plant_id=plant_id, action=PlantAction.CHANGE_PLANT)
    data = dict(data)
    if "installer" in data and data["installer"] != plant.installer and not is_platform_admin(by):
        raise ValidationError({"installer_id": "Only plant administrators can hand a plant to another installer."})
    for field, value in data.items():
        setattr(plant, field, value)
    if ("latitude" in data or "longitude" in data) and "timezone" not in data:
        plant.timezone = timezone_for(latitude=plant.latitude, longitude=plant.longitude)
    _check_owner(plant.owner)
    _check_installer(plant.installer)
    _full_clean(plant)
    plant.save()
    plant_memberships_sync(plant=plant)
    return plant


@transaction.atomic
def plant_delete(*, by, plant_id: int) -> None:
    from solarhub.api.scoping import plant_lock_for
    from telemetry.services import readings_purge

    plant = plant_lock_for(user=by, plant_id=plant_id, action=PlantAction.DELETE_PLANT)
    readings_purge(device_ids=list(plant.devices.values_list("id", flat=True)))
    plant.delete()


@transaction.atomic
def membership_grant(*, by, plant_id: int, user, role: str) -> PlantMembership:
    """Grant engineer/operator/viewer. Owner and installer are plant fields, never granted."""
    from solarhub.api.scoping import plant_lock_for

    plant = plant_lock_for(user=by, plant_id=plant_id, action=PlantAction.MANAGE_MEMBERS)
    if role not in GRANTABLE_ROLES:
        raise ValidationError({"role": f"Grantable roles are {', '.join(GRANTABLE_ROLES)}."})
    if user.pk in (plant.owner_id, plant.installer_id):
        raise ValidationError({"user_id": "The plant's owner and installer already have their own roles."})
    membership, _ = PlantMembership.objects.update_or_create(
        plant=plant, user=user, defaults={"role": role, "granted_by": by}
    )
    return membership


@transaction.atomic
def membership_revoke(*, by, plant_id: int, user_id: int) -> None:
    from rest_framework.exceptions import NotFound

    from solarhub.api.scoping import plant_lock_for

    plant = plant_lock_for(user=by, plant_id=plant_id, action=PlantAction.MANAGE_MEMBERS)
    deleted, _ = PlantMembership.objects.filter(plant=plant, user_id=user_id, role__in=GRANTABLE_ROLES).delete()
    if not deleted:
        raise NotFound("No such member.")


def _check_parent(device: Device) -> None:
    if device.parent_id is None:
        return
    parent = device.parent
    if parent.plant_id != device.plant_id:
        raise ValidationError({"parent_id": "The parent device must belong to the same plant."})
    expected = PARENT_TYPES.get(device.type)
    if expected is None:
        raise ValidationError({"parent_id": f"A {device.type} has no parent device."})
    if parent.type != expected:
        raise ValidationError({"parent_id": f"The parent of a {device.type} must be a {expected}."})


def _save_datasheet(device: Device, datasheet: dict[str, Any] | None) -> None:
    if datasheet is None:
        return
    spec = DATASHEETS.get(device.type)
    if spec is None:
        if datasheet:
            raise ValidationError({"datasheet": f"A {device.type} has no datasheet."})
        return
    model, related = spec
    sheet = getattr(device, related, None) if hasattr(device, related) else None
    if sheet is None:
        sheet = model(device=device)
    for field, value in datasheet.items():
        setattr(sheet, field, value)
    try:
        sheet.full_clean(exclude=["device"])
    except ValidationError as exc:
        raise ValidationError({"datasheet": [f"{k}: {'; '.join(v)}" for k, v in exc.message_dict.items()]}) from None
    sheet.save()


@transaction.atomic
def device_create(*, by, plant_id: int, data: dict[str, Any], datasheet: dict[str, Any] | None = None) -> Device:
    from solarhub.api.scoping import plant_lock_for

    plant = plant_lock_for(user=by, plant_id=plant_id, action=PlantAction.MANAGE_DEVICES)
    device = Device(plant=plant, **data)
    _full_clean(device)
    _check_parent(device)
    device.save()
    _save_datasheet(device, datasheet)
    return device


@transaction.atomic
def device_update(*, by, device: Device, data: dict[str, Any], datasheet: dict[str, Any] | None = None) -> Device:
    """Moving a device to another plant needs device rights on both plants."""
    from solarhub.api.scoping import plant_lock_for

    plant_lock_for(user=by, plant_id=device.plant_id, action=PlantAction.MANAGE_DEVICES)
    new_plant_id = data.pop("plant_id", device.plant_id)
    if new_plant_id != device.plant_id:
        device.plant = plant_lock_for(user=by, plant_id=new_plant_id, action=PlantAction.MANAGE_DEVICES)
        if "parent" not in data:
            device.parent = None
    if "type" in data and data["type"] != device.type and hasattr(device, DATASHEETS.get(device.type, (None, "-"))[1]):
        getattr(device, DATASHEETS[device.type][1]).delete()
    for field, value in data.items():
        setattr(device, field, value)
    _full_clean(device)
    _check_parent(device)
    device.save()
    _save_datasheet(device, datasheet)
    return device


@transaction.atomic
def device_delete(*, by, device: Device) -> None:
    from solarhub.api.scoping import plant_lock_for
    from telemetry.services import readings_purge

    plant_lock_for(user=by, plant_id=device.plant_id, action=PlantAction.MANAGE_DEVICES)
    readings_purge(device_ids=[device.pk])
    device.delete()


@transaction.atomic
def panel_spec_create(*, by, plant_id: int, data: dict[str, Any]) -> PanelSpec:
    from solarhub.api.scoping import plant_lock_for

    plant = plant_lock_for(user=by, plant_id=plant_id, action=PlantAction.MANAGE_DEVICES)
    spec = PanelSpec(plant=plant, **data)
    _full_clean(spec)
    spec.save()
    return spec


def customer_by_id(*, user_id: int):
    User = get_user_model()
    return User.objects.filter(pk=user_id, user_type=UserType.CUSTOMER).first()
