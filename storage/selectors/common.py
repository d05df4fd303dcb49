"""Shared reads of the storage selectors: the plant of a seed-003 request, devices by role and
number, latest values, counter deltas per plant-local day and 5-minute power series.

Conventions of the stored metrics (README "Battery storage"): battery and PCS power are
positive when discharging (energy leaves the battery) and negative when charging; the
``charge_energy`` / ``discharge_energy`` counters are cumulative kWh (a drop is a reset); a
meter's ``ac_power`` is its active power and the aux meter's ``import_energy`` its consumption.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.db.models import QuerySet

from accounts.models import UserSetting
from plants.choices import DeviceType
from plants.models import Device, Plant
from plants.selectors import plant_get_for, plant_sole_visible_to
from solarhub.api.params import InvalidParameter
from telemetry.live import LatestPoint, device_latest_values
from telemetry.rollups.buckets import local_day_start, zone
from telemetry.rollups.compute import rollups_read_epoch
from telemetry.selectors import metric_info

FIVE_MINUTES = timedelta(minutes=5)


def storage_plant_for(*, user, plant_id: int | None) -> Plant:
    """The plant a seed-003 path (which names none) is about: ``?plantId`` (404 if not visible),
    else the user's default plant from their settings (when still visible), else their only
    plant; a user with several and no default gets a 400 asking for one."""
    if plant_id is not None:
        return plant_get_for(user=user, plant_id=plant_id)
    default_id = UserSetting.objects.filter(user_id=user.pk).values_list("default_plant_id", flat=True).first()
    if default_id is not None:
        plant = Plant.objects.visible_to(user).filter(pk=default_id).first()
        if plant is not None:
            return plant
    plant = plant_sole_visible_to(user)
    if plant is None:
        raise InvalidParameter(
            "plant_id", "plantId is required: set a default plant in your settings or name one.", code="PLANT_REQUIRED"
        )
    return plant


def plant_devices(plant: Plant, device_type: str) -> QuerySet[Device]:
    return Device.objects.filter(plant=plant, type=device_type).order_by("id")


def meters_by_role(plant: Plant, role: str | None = None) -> list[Device]:
    meters = plant_devices(plant, DeviceType.METER).select_related("meter_datasheet")
    found = list(meters)
    if role is None:
        return found
    return [meter for meter in found if meter_role(meter) == role]


def meter_role(meter: Device) -> str:
    sheet = getattr(meter, "meter_datasheet", None)
    return sheet.role if sheet is not None and sheet.role else ""


def numbered(devices: Sequence[Device], number: int, *, name: str, code: str) -> Device:
    """The ``number``-th device (1-based) of ``devices``; 400 ``code`` outside 1..len."""
    if not 1 <= number <= len(devices):
        if not devices:
            raise InvalidParameter(name, "The plant has none.", code=code)
        raise InvalidParameter(name, f"Must be between 1 and {len(devices)}; got {number}.", code=code)
    return devices[number - 1]


def latest(device_ids: Iterable[int], keys: Iterable[str] | None = None) -> dict[int, dict[str, LatestPoint]]:
    return device_latest_values(device_ids=list(device_ids), keys=None if keys is None else list(keys))


def value_of(points: dict[str, LatestPoint], key: str, digits: int = 3) -> float | None:
    point = points.get(key)
    return None if point is None else round(point.value, digits)


def _metric_ids(keys: Iterable[str]) -> dict[str, int]:
    info = metric_info()
    return {key: info[key].id for key in keys if key in info}


def counter_by_day(
    *, device_ids: Sequence[int], key: str, first: date, last: date, tz: ZoneInfo
) -> dict[date, float | None]:
    """Σ over ``device_ids`` of the ``key`` counter's advance on each plant-local day in
    ``[first, last]``: the day's last reading minus the previous day's last reading (or, on the
    first day with data, minus the day's first reading); a counter that went down (a reset)
    counts the day's own ``last - first``. ``None`` for a day no device reported."""
    ids = _metric_ids([key])
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    result: dict[date, float | None] = dict.fromkeys(days)
    if key not in ids or not device_ids:
        return result
    start = local_day_start(first - timedelta(days=1), tz)
    end = local_day_start(last + timedelta(days=1), tz)
    rows = rollups_read_epoch(
        device_ids=list(device_ids), metric_ids=[ids[key]], resolution="day", start=start, end=end, tz=tz
    )
    per_device: dict[int, dict[date, tuple[float, float]]] = defaultdict(dict)
    for (device_id, _metric, epoch), agg in rows.items():
        day = datetime.fromtimestamp(epoch, tz).date()
        per_device[device_id][day] = (agg.first, agg.last)
    for readings in per_device.values():
        for day in days:
            today = readings.get(day)
            if today is None:
                continue
            before = readings.get(day - timedelta(days=1))
            delta = today[1] - before[1] if before is not None else today[1] - today[0]
            if delta < 0:
                delta = today[1] - today[0]
            result[day] = (result[day] or 0.0) + max(delta, 0.0)
    return result


def power_series(
    *, device_ids: Sequence[int], key: str, start: datetime, end: datetime, tz: ZoneInfo, absolute: bool = False
) -> dict[int, float]:
    """5-minute bucket start (epoch seconds) → Σ over devices of the bucket's mean ``key``
    (``absolute``: of the mean's magnitude), for buckets in ``[start, end)`` with data."""
    ids = _metric_ids([key])
    if key not in ids or not device_ids:
        return {}
    rows = rollups_read_epoch(
        device_ids=list(device_ids), metric_ids=[ids[key]], resolution="5min", start=start, end=end, tz=tz
    )
    series: dict[int, float] = defaultdict(float)
    for (_device, _metric, epoch), agg in rows.items():
        mean = agg.sum / agg.count if agg.count else 0.0
        series[epoch] += abs(mean) if absolute else mean
    return dict(sorted(series.items()))


def energy_of(series: dict[int, float]) -> float:
    """kWh of a 5-minute kW series (each bucket's mean power over five minutes)."""
    return sum(series.values()) * FIVE_MINUTES.total_seconds() / 3600.0


def plant_tz(plant: Plant) -> ZoneInfo:
    return zone(plant.timezone)


def month_param(raw: str | None, name: str) -> date:
    """``YYYY-MM`` → the month's first day; 400 ``INVALID_MONTH`` for anything else (``2024-13``)."""
    text = (raw or "").strip()
    parts = text.split("-")
    if len(parts) != 2 or not all(part.isascii() and part.isdigit() for part in parts) or len(parts[0]) != 4:
        raise InvalidParameter(name, "A month looks like 2024-01 (YYYY-MM).", code="INVALID_MONTH")
    year, month = int(parts[0]), int(parts[1])
    if not 1 <= month <= 12 or not 1970 <= year <= 2199:
        raise InvalidParameter(name, f"{text} is not a month (YYYY-MM, month 01-12).", code="INVALID_MONTH")
    return date(year, month, 1)
