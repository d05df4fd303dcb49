"""Import of one plant from a plant config (JSON): the plant, its panel specs and devices."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model

from accounts.choices import UserType

from ..choices import DeviceType
from ..hooks import plant_created_send, plant_model_readiness
from ..models import DATASHEETS, Device, PanelSpec, Plant
from ..services import plant_code_generate, plant_handover_record, plant_memberships_sync, timezone_for
from .base import (
    KEEP,
    PANEL_SPEC_FIELDS,
    PLANT_FIELDS,
    DevicePlan,
    ImportFailed,
    ImportResult,
    apply_fields,
    atomic_import,
    clean_into,
    did_you_mean,
    existing_devices,
    from_json,
    plan_device,
    resolve_parents,
    show,
    snapshot,
    write_devices,
)

# JSON section → device type, parents before children (they are written in this order).
SECTIONS = {
    "inverters": DeviceType.INVERTER,
    "meters": DeviceType.METER,
    "weather_stations": DeviceType.WEATHER_STATION,
    "bess": DeviceType.BESS,
    "pcs": DeviceType.PCS,
    "loggers": DeviceType.LOGGER,
    "string_monitoring_boxes": DeviceType.STRING_MONITORING_BOX,
    "bess_racks": DeviceType.BESS_RACK,
}
TOP_LEVEL_KEYS = ("version", "plant", "panel_specs", *SECTIONS)


def _user(key: str, value: Any, user_type: str, problems: list[str]):
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        problems.append(f"plant.{key}: expected a username or e-mail address, got {show(value)}")
        return None
    users = get_user_model().objects
    user = users.filter(username=value).first() or users.filter(email__iexact=value).first()
    if user is None:
        problems.append(f"plant.{key}: no user with username or e-mail {value!r}")
    elif user.user_type != user_type:
        kind = "a customer" if user_type == UserType.CUSTOMER else "an installer"
        problems.append(f"plant.{key}: {value!r} is not {kind} account (user type {user.user_type})")
    else:
        return user
    return None


def _plan_plant(data: Any, problems: list[str]) -> tuple[Plant, bool, bool]:
    if not isinstance(data, dict):
        problems.append("plant: required, an object with the plant's fields")
        return Plant(plant_code="", name=""), True, True
    data, bad = dict(data), set()
    code, plant_id = data.pop("plant_code", None), data.pop("plant_id", None)
    if plant_id is not None:
        if isinstance(plant_id, bool) or not isinstance(plant_id, int | str):
            problems.append(f"plant.plant_id: expected a number or a string, got {show(plant_id)}")
        elif code is not None and code != str(plant_id):
            problems.append(f"plant.plant_id: {plant_id!r} contradicts plant_code {code!r}; give only one of them")
        else:
            code = str(plant_id)
    if code is not None and (not isinstance(code, str) or not code.strip()):
        problems.append(f"plant.plant_code: expected a non-empty string, got {show(code)}")
        code, bad = "", {"plant_code"}
    plant = Plant.objects.select_for_update().filter(plant_code=code).first() if code else None
    created = plant is None
    plant = plant or Plant(plant_code=plant_code_generate() if code is None else code)
    before, coords = snapshot(plant), (plant.latitude, plant.longitude)
    people = (plant.owner_id, plant.installer_id)  # not in the snapshot: compared on their own
    for key, user_type in (("owner", UserType.CUSTOMER), ("installer", UserType.INSTALLER)):
        if key in data:
            setattr(plant, key, _user(key, data.pop(key), user_type, problems))
    bad |= apply_fields(plant, data, PLANT_FIELDS, "plant.", problems, from_json)
    lat, lon = plant.latitude, plant.longitude
    if (
        "timezone" not in data
        and (created or coords != (lat, lon))
        and isinstance(lat, float) and isinstance(lon, float)
        and -90 <= lat <= 90 and -180 <= lon <= 180
    ):  # fmt: skip
        plant.timezone = timezone_for(latitude=lat, longitude=lon)
    clean_into(plant, "plant.", problems, bad | {"owner", "installer"})
    return plant, created, created or before != snapshot(plant) or people != (plant.owner_id, plant.installer_id)


def _plan_panel_specs(plant: Plant, entries: Any, problems: list[str]) -> list[tuple[PanelSpec, bool, bool]]:
    if entries is None:
        return []
    if not isinstance(entries, list):
        problems.append("panel_specs: expected a list of objects")
        return []
    existing = {(s.manufacturer_name, s.panel_type): s for s in plant.panel_specs.all()} if plant.pk else {}
    plans, seen = [], {}
    for i, entry in enumerate(entries):
        prefix = f"panel_specs[{i}]."
        if not isinstance(entry, dict):
            problems.append(f"panel_specs[{i}]: expected an object")
            continue
        key = (entry.get("manufacturer_name") or "", entry.get("panel_type"))
        key_ok = isinstance(key[0], str) and isinstance(key[1], str)
        if key_ok and key in seen:
            problems.append(f"{prefix}panel_type: duplicate of panel_specs[{seen[key]}] (same manufacturer and type)")
            continue
        if key_ok:
            seen[key] = i
        spec = existing.get(key) if key_ok else None
        created = spec is None
        spec = spec or PanelSpec(plant=plant)
        before = snapshot(spec)
        bad = apply_fields(spec, entry, PANEL_SPEC_FIELDS, prefix, problems, from_json)
        clean_into(spec, prefix, problems, bad | {"plant"})
        plans.append((spec, created, created or before != snapshot(spec)))
    return plans


def _plan_json_devices(plant: Plant, data: dict, existing: dict[str, Device], problems: list[str]) -> list[DevicePlan]:
    plans, seen = [], {}
    for section, dtype in SECTIONS.items():
        entries = data.get(section)
        if entries is None:
            continue
        if not isinstance(entries, list):
            problems.append(f"{section}: expected a list of objects")
            continue
        for i, entry in enumerate(entries):
            where = f"{section}[{i}]"
            if not isinstance(entry, dict):
                problems.append(f"{where}: expected an object")
                continue
            entry = dict(entry)
            sheet, parent = entry.pop("datasheet", None) or {}, entry.pop("parent", KEEP)
            serial = entry.get("serial_number")
            if not isinstance(serial, str) or not serial.strip():
                problems.append(f"{where}.serial_number: required, a non-empty string")
                continue
            if serial in seen:
                problems.append(f"{where}.serial_number: duplicate serial number {serial!r} (also {seen[serial]})")
                continue
            seen[serial] = where
            if not isinstance(sheet, dict):
                problems.append(f"{where}.datasheet: expected an object")
                sheet = {}
            elif sheet and dtype not in DATASHEETS:
                problems.append(f"{where}.datasheet: devices of type {dtype} have no datasheet")
                sheet = {}
            if parent is not KEEP and parent is not None and not isinstance(parent, str):
                problems.append(f"{where}.parent: expected the parent's serial number, got {show(parent)}")
                parent = KEEP
            plan = plan_device(
                plant=plant, existing=existing, dtype=dtype, fields=entry, sheet_fields=sheet, parent=parent,
                prefix=f"{where}.", sheet_prefix=f"{where}.datasheet.", parent_key="parent", problems=problems,
                conv=from_json,
            )  # fmt: skip
            if plan is not None:
                plans.append(plan)
    return plans


def plant_config_import(*, data: dict, dry_run: bool = False) -> ImportResult:
    """Create or update ONE plant from a parsed plant config (docs/plant-config.md).

    The plant is found by ``plant.plant_code`` (or seed 000's numeric ``plant.plant_id``, stored
    as a string); without either a new code is generated, so only files with a code are
    idempotent. Panel specs are matched by (manufacturer_name, panel_type), devices by serial
    number; given keys overwrite stored values, omitted keys and device sections leave the stored
    rows alone, and nothing is ever deleted. ``timezone`` is looked up from the coordinates when
    omitted (for a new plant or moved coordinates). Mounting, layout and datasheets are optional,
    as in the API: after a real import ``result.readiness`` (and the summary) names what the plant
    model still lacks, by the rule the forecasts apply. Every problem is collected and raised as
    :class:`ImportFailed` before anything is written; all writes share one transaction, and a
    ``dry_run`` validates and counts without writing.
    """
    if not isinstance(data, dict):
        raise ImportFailed([f"(top level): expected a JSON object, got {show(data)}"])

    def run() -> ImportResult:
        unknown = [key for key in data if key not in TOP_LEVEL_KEYS]
        problems = [f"{key}: unknown key{did_you_mean(key, TOP_LEVEL_KEYS)}" for key in unknown]
        version = data.get("version", 1)
        if type(version) is not int or version != 1:
            problems.append(f"version: only version 1 is supported, got {show(version)}")
        plant, created, changed = _plan_plant(data.get("plant"), problems)
        specs = _plan_panel_specs(plant, data.get("panel_specs"), problems)
        existing = existing_devices(plant)
        devices = _plan_json_devices(plant, data, existing, problems)
        resolve_parents(devices, existing, problems)
        if problems:
            raise ImportFailed(problems)
        result = ImportResult(plant=plant, dry_run=dry_run)
        result.count("plant", created=created, changed=changed)
        for _spec, spec_created, spec_changed in specs:
            result.count("panel_spec", created=spec_created, changed=spec_changed)
        for p in devices:
            result.count(p.device.type, created=p.created, changed=p.changed)
        if dry_run:
            return result
        stored = Plant.objects.filter(pk=plant.pk).values("owner_id", "installer_id").first() if plant.pk else None
        before = stored or {"owner_id": None, "installer_id": None}
        if changed:
            plant.save()
        if created:
            plant_created_send(plant=plant)
        plant_memberships_sync(plant=plant)
        # an owner or installer change by file is recorded and revokes the plant's ingest keys
        plant_handover_record(
            plant=plant,
            by=None,
            previous_owner_id=before["owner_id"],
            previous_installer_id=before["installer_id"],
            via="import",
        )
        for spec, _created, spec_changed in specs:
            if spec_changed:
                spec.plant = plant
                spec.save()
        write_devices(plant, devices)
        result.readiness = plant_model_readiness(plant=plant)
        return result

    return atomic_import(run)
