"""Seed 003's site views from the registry and the latest values: the BESS rack table, a PCS,
the meters, the aux meter's day, an inverter, the sidebar counts, the topology and overview."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.db.models import Count
from django.utils import timezone

from alarms.selectors import pcs_alert_words
from plants.choices import DeviceType, MeterRole
from plants.live import device_live, device_live_annotate
from plants.models import Device, Plant
from solarhub.health import check_broker, check_cache, check_database, check_workers
from telemetry.live import LatestPoint
from telemetry.rollups.buckets import local_day_bounds

from ..choices import BatteryMode
from .common import (
    counter_by_day,
    energy_of,
    latest,
    meter_role,
    meters_by_role,
    numbered,
    plant_devices,
    plant_tz,
    power_series,
    value_of,
)

# Rows of the BESS table: (label, metric key). Values are sent as strings (seed 003).
BESS_ROWS: tuple[tuple[str, str], ...] = (
    ("Mode", "battery_mode"),
    ("Voltage (V)", "battery_voltage"),
    ("Current (A)", "battery_current"),
    ("Power (kW)", "battery_power"),
    ("SOC (%)", "soc"),
    ("SOH (%)", "soh"),
    ("Cell Voltage Max (V)", "cell_voltage_max"),
    ("Cell Voltage Max ID", "cell_voltage_max_id"),
    ("Cell Voltage Min (V)", "cell_voltage_min"),
    ("Cell Voltage Min ID", "cell_voltage_min_id"),
    ("Cell Voltage Avg (V)", "cell_voltage_avg"),
    ("Temperature Max (°C)", "cell_temp_max"),
    ("Temperature Max ID", "cell_temp_max_id"),
    ("Temperature Min (°C)", "cell_temp_min"),
    ("Temperature Min ID", "cell_temp_min_id"),
    ("Module Temperature Max (°C)", "module_temp_max"),
    ("Module Temperature Min (°C)", "module_temp_min"),
)
_ID_KEYS = {key for _label, key in BESS_ROWS if key.endswith("_id")}
PCS_LIVE_KEYS = (
    "ac_power",
    "reactive_power",
    "apparent_power",
    "power_factor",
    "frequency",
    "pcs_dc_power",
    "pcs_dc_voltage",
    "ac_voltage_l1",
    "ac_voltage_l2",
    "ac_voltage_l3",
    "ac_current_l1",
    "ac_current_l2",
    "ac_current_l3",
    "internal_temp",
    "charge_energy",
    "discharge_energy",
)
METER_KEYS = {
    "phase_a_current": "ac_current_l1",
    "phase_b_current": "ac_current_l2",
    "phase_c_current": "ac_current_l3",
    "phase_a_voltage": "ac_voltage_l1",
    "phase_b_voltage": "ac_voltage_l2",
    "phase_c_voltage": "ac_voltage_l3",
    "active_power": "ac_power",
    "reactive_power": "reactive_power",
    "apparent_power": "apparent_power",
    "frequency": "frequency",
    "power_factor": "power_factor",
    "import_energy": "import_energy",
    "export_energy": "export_energy",
}


def _text(key: str, point: LatestPoint | None) -> str | None:
    if point is None:
        return None
    if key == "battery_mode":
        try:
            return BatteryMode(int(point.value)).label
        except ValueError:
            return f"Unknown ({point.value:g})"
    if key in _ID_KEYS:
        return str(int(point.value))
    return f"{round(point.value, 3):g}"


def bess_units(plant: Plant) -> list[Device]:
    return list(plant_devices(plant, DeviceType.BESS))


def bess_racks(bess: Device) -> list[Device]:
    return list(Device.objects.filter(parent=bess, type=DeviceType.BESS_RACK).order_by("id"))


def bess_table(*, plant: Plant, bess_number: int, rack: int | None = None) -> dict:
    """Seed 003's ``/bess/{n}``: the n-th BESS of the plant (by id; 400 ``BESS_NUMBER_OUT_OF_RANGE``
    outside 1..count), its racks (children of type ``bess_rack`` by id: ``Rack 01``...) as
    columns and one row per metric of :data:`BESS_ROWS` from the latest values (null when a rack
    never reported it). ``rack`` narrows to one column (400 ``RACK_OUT_OF_RANGE``)."""
    bess = numbered(bess_units(plant), bess_number, name="bess_number", code="BESS_NUMBER_OUT_OF_RANGE")
    racks = list(enumerate(bess_racks(bess), start=1))
    if rack is not None:
        racks = [numbered(racks, rack, name="rack", code="RACK_OUT_OF_RANGE")]
    heads = [f"Rack {index:02d}" for index, _device in racks]
    values = latest([device.pk for _index, device in racks], [key for _label, key in BESS_ROWS])
    data = [
        {
            "metric": label,
            **{
                head: _text(key, values.get(device.pk, {}).get(key))
                for head, (_i, device) in zip(heads, racks, strict=True)
            },
        }
        for label, key in BESS_ROWS
    ]
    unit = latest([bess.pk], ["soc", "soh", "battery_power", "battery_mode"]).get(bess.pk, {})
    stamps = [point.ts for points in values.values() for point in points.values()]
    return {
        "bess_number": bess_number,
        "plant_id": plant.pk,
        "device_id": bess.pk,
        "device_name": bess.name,
        "rack_device_ids": {head: device.pk for head, (_i, device) in zip(heads, racks, strict=True)},
        "unit": {key: value_of(unit, key) for key in ("soc", "soh", "battery_power", "battery_mode")},
        "timestamp": max(stamps) if stamps else None,
        "table_head": heads,
        "data": data,
        "status": "success",
    }


def _state(device: Device) -> str:
    return device_live(device=device).status


def pcs_detail(*, plant: Plant, pcs_number: int) -> dict:
    """Seed 003's ``/pcs/{n}``: the n-th PCS (by id; 400 ``PCS_NUMBER_OUT_OF_RANGE``), its live
    values and its seven status words raw (16-char binary) and decoded through the bit maps."""
    devices = list(device_live_annotate(queryset=plant_devices(plant, DeviceType.PCS)))
    pcs = numbered(devices, pcs_number, name="pcs_number", code="PCS_NUMBER_OUT_OF_RANGE")
    values = latest([pcs.pk], PCS_LIVE_KEYS).get(pcs.pk, {})
    words = pcs_alert_words(device=pcs)
    stamps = [point.ts for point in values.values()] + ([words["timestamp"]] if words["timestamp"] else [])
    return {
        "pcs_number": pcs_number,
        "plant_id": plant.pk,
        "device_id": pcs.pk,
        "device_name": pcs.name,
        "state": _state(pcs),
        "timestamp": max(stamps) if stamps else None,
        "live": {key: value_of(values, key) for key in PCS_LIVE_KEYS},
        "status_words": words["words"],
        "decoded": words["decoded"],
        "status": "success",
    }


def meters_list(*, plant: Plant, role: str | None) -> dict:
    """Seed 003's ``/meters``: every meter of the plant (or of one role), numbered 1.. by id, with
    its latest per-phase and total values; ``total_power`` is the sum of their active powers."""
    meters = meters_by_role(plant, role)
    values = latest([meter.pk for meter in meters], METER_KEYS.values())
    rows = []
    for number, meter in enumerate(meters, start=1):
        points = values.get(meter.pk, {})
        stamps = [point.ts for point in points.values()]
        rows.append(
            {
                "meter_id": number,
                "device_id": meter.pk,
                "name": meter.name,
                "role": meter_role(meter) or None,
                **{name: value_of(points, key) for name, key in METER_KEYS.items()},
                "timestamp": max(stamps) if stamps else None,
            }
        )
    powers = [row["active_power"] for row in rows if row["active_power"] is not None]
    return {
        "plant_id": plant.pk,
        "meters": rows,
        "meter_count": len(rows),
        "total_power": round(sum(powers), 3) if powers else None,
        "status": "success",
    }


def aux_meter_day(*, plant: Plant, day: date, data_type: str) -> dict:
    """Seed 003's ``/meters/aux``: the aux meters' (role ``aux``) plant-local ``day``. ``chart``:
    the 5-minute series of their summed mean ``ac_power`` as ``[epoch_ms, kW]``; ``summary``:
    ``total_energy`` (the ``import_energy`` counters' advance, else the series' integral) and the
    mean, highest and lowest 5-minute power."""
    tz = plant_tz(plant)
    start, end = local_day_bounds(day, tz)
    ids = [meter.pk for meter in meters_by_role(plant, MeterRole.AUX)]
    series = power_series(device_ids=ids, key="ac_power", start=start, end=end, tz=tz)
    body: dict = {"plant_id": plant.pk, "date": day, "timezone": plant.timezone, "data_type": data_type}
    if data_type == "chart":
        body["data"] = [[epoch * 1000, round(value, 3)] for epoch, value in series.items()]
    else:
        counted = counter_by_day(device_ids=ids, key="import_energy", first=day, last=day, tz=tz)[day]
        total = counted if counted is not None else (energy_of(series) if series else None)
        values = list(series.values())
        body["data"] = {
            "total_energy": None if total is None else round(total, 3),
            "avg_power": round(sum(values) / len(values), 3) if values else None,
            "max_power": round(max(values), 3) if values else None,
            "min_power": round(min(values), 3) if values else None,
        }
    body["status"] = "success"
    return body


def inverter_detail(*, inverter: Device, now: datetime | None = None) -> dict:
    """Seed 003's ``/inverter``: the inverter's latest values, its MPPT inputs (``pv{n}_voltage``
    / ``pv{n}_current``, power = V x I in W), string currents and phases; ``daily_power_yields``
    is the ``energy_total`` counter's advance since plant-local midnight (else the device's own
    ``energy_today``), ``total_power_yields`` the counter itself."""
    now = now or timezone.now()
    points = latest([inverter.pk]).get(inverter.pk, {})
    tz = plant_tz(inverter.plant)
    today = now.astimezone(tz).date()
    daily = counter_by_day(device_ids=[inverter.pk], key="energy_total", first=today, last=today, tz=tz)[today]
    if daily is None:
        daily = value_of(points, "energy_today")
    sheet = getattr(inverter, "inverter_datasheet", None)
    nominal = sheet.nominal_output_power_kw if sheet is not None and sheet.nominal_output_power_kw else None
    mppt, strings = [], []
    for n in range(1, 65):
        voltage, current = value_of(points, f"pv{n}_voltage"), value_of(points, f"pv{n}_current")
        if voltage is not None or current is not None:
            power = round(voltage * current, 3) if voltage is not None and current is not None else None
            mppt.append({"mppt_id": n, "voltage": voltage, "current": current, "power": power})
        string = value_of(points, f"string{n}_current")
        if string is not None:
            strings.append({"string_id": n, "current": string})
    stamps = [point.ts for point in points.values()]
    return {
        "plant_id": inverter.plant_id,
        "device_id": inverter.pk,
        "device_name": inverter.name,
        "timestamp": max(stamps) if stamps else None,
        "inverter_data": {
            "nominal_active_power": nominal if nominal is not None else inverter.capacity_kw,
            "total_active_power": value_of(points, "ac_power"),
            "total_apparent_power": value_of(points, "apparent_power"),
            "total_reactive_power": value_of(points, "reactive_power"),
            "daily_power_yields": None if daily is None else round(daily, 3),
            "total_power_yields": value_of(points, "energy_total"),
            "internal_temperature": value_of(points, "internal_temp"),
            "bus_voltage": value_of(points, "dc_bus_voltage"),
            "dc_power": value_of(points, "dc_power"),
        },
        "mppt_data": mppt,
        "string_currents": strings,
        "phase_data": [
            {
                "phase": phase,
                "voltage": value_of(points, f"ac_voltage_l{n}"),
                "current": value_of(points, f"ac_current_l{n}"),
            }
            for n, phase in ((1, "A"), (2, "B"), (3, "C"))
        ],
        "status": "success",
    }


def sidebar(*, plant: Plant) -> dict:
    """Seed 003's ``/config/sidebar``: the plant's device counts and its camera URL."""
    counts = dict(Device.objects.filter(plant=plant).values_list("type").annotate(n=Count("id")).order_by())
    racks = (
        Device.objects.filter(plant=plant, type=DeviceType.BESS_RACK, parent__type=DeviceType.BESS)
        .values("parent_id")
        .annotate(n=Count("id"))
        .order_by("-n")
        .values_list("n", flat=True)
        .first()
    )
    return {
        "plant_id": plant.pk,
        "bess_type": DeviceType.BESS.value.upper(),
        "bess_number": counts.get(DeviceType.BESS, 0),
        "pcs_number": counts.get(DeviceType.PCS, 0),
        "inverter_number": counts.get(DeviceType.INVERTER, 0),
        "meter_number": counts.get(DeviceType.METER, 0),
        "rack_number": racks or 0,
        "total_racks": counts.get(DeviceType.BESS_RACK, 0),
        "number_of_devices": sum(counts.values()),
        "cctv_url": plant.cctv_url or None,
        "status": "success",
    }


# --- topology and overview -----------------------------------------------------------------------


def platform_services() -> list[dict]:
    """The platform's own services as topology nodes, from the health checks."""
    broker = check_broker()
    checks = (
        ("database", "Database", "database", check_database()),
        ("cache", "Cache", "redis", check_cache()),
        ("broker", "Broker", "broker", broker),
        ("workers", "Workers", "worker", check_workers(broker)),
    )
    nodes = [{"id": "server", "name": "SolarHub API", "type": "server", "status": "online"}]
    for node_id, name, kind, result in checks:
        nodes.append(
            {
                "id": node_id,
                "name": name,
                "type": kind,
                "status": "online" if result["status"] == "healthy" else "offline",
            }
        )
    return nodes


_SERVICE_LINKS = (("server", "database"), ("server", "cache"), ("server", "broker"), ("broker", "workers"))


def _node(device: Device, kind: str) -> dict:
    return {
        "id": f"device-{device.pk}",
        "name": device.name,
        "type": kind,
        "status": device_live(device=device).status,
        "device_id": device.pk,
    }


def _link(source: str, target: str, nodes: dict[str, dict]) -> dict:
    status = (
        "connected" if nodes[source]["status"] != "offline" and nodes[target]["status"] != "offline" else "disconnected"
    )
    return {"source": source, "target": target, "status": status}


def topology(*, plant: Plant, services: bool = True) -> dict:
    """The plant's device graph with each node's live status, plus the platform services.

    Edges: grid meter → each PCS → its BESS (the BESS's parent when that is a PCS, else the PCS
    of the same number) → its racks; grid meter → PV meter → inverters (grid meter → inverters
    without a PV meter) → their string boxes; grid meter → aux meter. Other devices hang off the
    grid meter (or stand alone on a plant without one)."""
    devices = list(
        device_live_annotate(
            queryset=Device.objects.filter(plant=plant).select_related("meter_datasheet").order_by("id")
        )
    )
    nodes: dict[str, dict] = {}
    links: list[tuple[str, str]] = []
    by_type: dict[str, list[Device]] = {}
    for device in devices:
        by_type.setdefault(device.type, []).append(device)
        kind = f"meter_{meter_role(device)}" if device.type == DeviceType.METER and meter_role(device) else device.type
        nodes[f"device-{device.pk}"] = _node(device, kind)
    meters = by_type.get(DeviceType.METER, [])
    grid = next((m for m in meters if meter_role(m) == MeterRole.GRID), None)
    pv = next((m for m in meters if meter_role(m) == MeterRole.PV), None)
    root = f"device-{grid.pk}" if grid else None
    pcs_list = by_type.get(DeviceType.PCS, [])
    linked: set[str] = set()

    def link(source: str | None, target: Device) -> None:
        key = f"device-{target.pk}"
        if source is not None and source != key:
            links.append((source, key))
            linked.add(key)

    for pcs in pcs_list:
        link(root, pcs)
    for index, bess in enumerate(by_type.get(DeviceType.BESS, [])):
        parent = next((p for p in pcs_list if p.pk == bess.parent_id), None)
        if parent is None and index < len(pcs_list):
            parent = pcs_list[index]
        link(f"device-{parent.pk}" if parent else root, bess)
    for kind in (DeviceType.BESS_RACK, DeviceType.STRING_MONITORING_BOX):
        for child in by_type.get(kind, []):
            link(f"device-{child.parent_id}" if child.parent_id else root, child)
    pv_source = f"device-{pv.pk}" if pv else root
    if pv is not None:
        link(root, pv)
    for inverter in by_type.get(DeviceType.INVERTER, []):
        link(pv_source, inverter)
    for device in devices:
        if f"device-{device.pk}" not in linked and device is not grid:
            link(root, device)
    body_nodes = list(nodes.values())
    body_links = [_link(source, target, nodes) for source, target in links]
    if services:
        service_nodes = platform_services()
        service_map = {node["id"]: node for node in service_nodes}
        body_nodes = service_nodes + body_nodes
        body_links = [_link(s, t, service_map) for s, t in _SERVICE_LINKS] + body_links
    return {
        "plant_id": plant.pk,
        "nodes": body_nodes,
        "links": body_links,
        "timestamp": timezone.now(),
        "status": "success",
    }


def _sum_fresh(devices: list[Device], values: dict, key: str, now: datetime) -> float | None:
    found = [
        values[d.pk][key].value
        for d in devices
        if key in values.get(d.pk, {}) and values[d.pk][key].ts >= now - timedelta(minutes=15)
    ]
    return round(sum(found), 3) if found else None


def _mean(devices: list[Device], values: dict, key: str) -> float | None:
    found = [values[d.pk][key].value for d in devices if key in values.get(d.pk, {})]
    return round(sum(found) / len(found), 3) if found else None


def overview(*, plant: Plant, now: datetime | None = None) -> dict:
    """Seed 003's ``/system/overview``: live power flows (PV, battery, grid, aux — sums of fresh
    latest values), the BESS units' mean SoC/SoH, today's energies from the counters, device
    states and the platform services."""
    now = now or timezone.now()
    devices = list(device_live_annotate(queryset=Device.objects.filter(plant=plant).select_related("meter_datasheet")))
    values = latest([d.pk for d in devices], ["ac_power", "soc", "soh"])
    of_type = {kind: [d for d in devices if d.type == kind] for kind in DeviceType.values}
    meters = of_type[DeviceType.METER]
    tz = plant_tz(plant)
    today = now.astimezone(tz).date()
    pcs_ids = [d.pk for d in of_type[DeviceType.PCS]]

    def counter(ids, key):
        value = counter_by_day(device_ids=ids, key=key, first=today, last=today, tz=tz)[today]
        return None if value is None else round(value, 3)

    states: dict[str, int] = {"online": 0, "offline": 0, "fault": 0}
    for device in devices:
        states[device_live(device=device, now=now).status] += 1
    return {
        "plant_id": plant.pk,
        "plant_name": plant.name,
        "timezone": plant.timezone,
        "date": today,
        "power": {
            "pv": _sum_fresh(of_type[DeviceType.INVERTER], values, "ac_power", now),
            "battery": _sum_fresh(of_type[DeviceType.PCS], values, "ac_power", now),
            "grid": _sum_fresh([m for m in meters if meter_role(m) == MeterRole.GRID], values, "ac_power", now),
            "aux": _sum_fresh([m for m in meters if meter_role(m) == MeterRole.AUX], values, "ac_power", now),
        },
        "soc": _mean(of_type[DeviceType.BESS], values, "soc"),
        "soh": _mean(of_type[DeviceType.BESS], values, "soh"),
        "energy_today": {
            "pv": counter([d.pk for d in of_type[DeviceType.INVERTER]], "energy_total"),
            "charge": counter(pcs_ids, "charge_energy"),
            "discharge": counter(pcs_ids, "discharge_energy"),
            "aux": counter([m.pk for m in meters if meter_role(m) == MeterRole.AUX], "import_energy"),
        },
        "device_states": states,
        "devices": {kind: len(of_type[kind]) for kind in DeviceType.values},
        "services": platform_services(),
        "status": "success",
    }
