"""The live status of plants and devices: its vocabulary, and its derivation from the live
facts a list queryset carries (``live_*`` annotations), without a query.

The annotations themselves read telemetry's latest values, so telemetry provides them: it
registers :func:`device_live_annotate` / :func:`plant_live_annotate`'s implementations in
``TelemetryConfig.ready()`` (plants imports no feature app; ``solarhub/tests/test_layering.py``).
The annotation names are the contract between the two (and ``plants.filters``, which filters on
them in SQL):

* devices: ``live_last_communication``, ``live_ac_power``/``_ts``, ``live_dc_power``/``_ts``,
  ``live_status_code``;
* plants: ``live_last_update``, ``live_generation_kw``, ``live_paired_ac_kw``, ``live_paired_dc_kw``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from django.core.exceptions import ImproperlyConfigured
from django.db.models import QuerySet
from django.utils import timezone

from .choices import PlantStatus
from .models import Device, Plant

# A device that has sent nothing for this long is offline, and its last values no longer count
# as "current" (a dead inverter's last 40 kW must not show as live generation).
ONLINE_WINDOW = timedelta(minutes=15)
FAULT_STATUS_CODE = 7  # SunSpec model 101-103 St: 7 = FAULT
MIN_DC_KW = 0.01  # below this (night, standby) AC/DC efficiency is noise, not a figure


class DeviceStatus(StrEnum):
    ONLINE = "online"
    OFFLINE = "offline"
    FAULT = "fault"


DEVICE_STATUS_VALUES = tuple(status.value for status in DeviceStatus)


def is_fresh(moment: datetime | None, now: datetime) -> bool:
    return moment is not None and moment >= now - ONLINE_WINDOW


def _round(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)


# --- the annotations, provided by telemetry ---------------------------------------------------

_annotators: dict[str, Callable[..., QuerySet]] = {}


def live_annotators_register(*, devices: Callable[..., QuerySet], plants: Callable[..., QuerySet]) -> None:
    """telemetry registers how it annotates device and plant querysets with their live facts."""
    _annotators.update(devices=devices, plants=plants)


def _annotator(kind: str) -> Callable[..., QuerySet]:
    try:
        return _annotators[kind]
    except KeyError:
        raise ImproperlyConfigured(
            "No live-status provider: telemetry registers one in TelemetryConfig.ready()."
        ) from None


def device_live_annotate(*, queryset: QuerySet[Device]) -> QuerySet[Device]:
    """``queryset`` with the facts :func:`device_live` needs, as subqueries of the same SELECT."""
    return _annotator("devices")(queryset=queryset)


def plant_live_annotate(*, queryset: QuerySet[Plant], now: datetime | None = None) -> QuerySet[Plant]:
    """``queryset`` with the facts :func:`plant_live` needs, as correlated aggregate subqueries."""
    return _annotator("plants")(queryset=queryset, now=now)


# --- derived figures (no query) ---------------------------------------------------------------


@dataclass(frozen=True)
class DeviceLive:
    status: str
    current_output: float | None
    efficiency: float | None
    last_communication: datetime | None


def device_live(*, device: Device, now: datetime | None = None) -> DeviceLive:
    """Derived live figures of one annotated device (no query).

    * ``status``: ``offline`` when nothing arrived within :data:`ONLINE_WINDOW` (we cannot know
      its state, however alarming the last one was); else ``fault`` when its latest status code
      is SunSpec 7 FAULT (status codes are often sent only on change, so the latest one counts
      whatever its age); else ``online``.
    * ``current_output``: latest ``ac_power`` (kW) if fresh, else null.
    * ``efficiency``: AC/DC conversion efficiency in % from fresh ``ac_power`` and ``dc_power``,
      null when either is stale or DC is below :data:`MIN_DC_KW`.
    """
    now = now or timezone.now()
    last = getattr(device, "live_last_communication", None)
    if not is_fresh(last, now):
        status = DeviceStatus.OFFLINE
    elif getattr(device, "live_status_code", None) == FAULT_STATUS_CODE:
        status = DeviceStatus.FAULT
    else:
        status = DeviceStatus.ONLINE
    ac = getattr(device, "live_ac_power", None) if is_fresh(getattr(device, "live_ac_power_ts", None), now) else None
    dc = getattr(device, "live_dc_power", None) if is_fresh(getattr(device, "live_dc_power_ts", None), now) else None
    efficiency = ac / dc * 100 if ac is not None and dc is not None and dc >= MIN_DC_KW else None
    return DeviceLive(
        status=status.value, current_output=_round(ac), efficiency=_round(efficiency, 2), last_communication=last
    )


@dataclass(frozen=True)
class PlantLive:
    status: str
    current_generation: float | None
    efficiency: float | None
    last_update: datetime | None


def plant_live(*, plant: Plant, now: datetime | None = None) -> PlantLive:
    """Derived live figures of one annotated plant (no query).

    * ``status``: ``maintenance`` when the stored status says so (an operator's decision wins
      over telemetry); else ``online`` if any device communicated within :data:`ONLINE_WINDOW`;
      else ``offline``.
    * ``current_generation``: Σ fresh ``ac_power`` of the plant's inverters (kW), null if none.
    * ``efficiency``: Σ AC / Σ DC (%) over the inverters reporting both fresh.
    """
    now = now or timezone.now()
    last = getattr(plant, "live_last_update", None)
    if plant.status == PlantStatus.MAINTENANCE:
        status = PlantStatus.MAINTENANCE
    else:
        status = PlantStatus.ONLINE if is_fresh(last, now) else PlantStatus.OFFLINE
    ac, dc = getattr(plant, "live_paired_ac_kw", None), getattr(plant, "live_paired_dc_kw", None)
    efficiency = ac / dc * 100 if ac is not None and dc else None
    return PlantLive(
        status=str(status.value),
        current_generation=_round(getattr(plant, "live_generation_kw", None)),
        efficiency=_round(efficiency, 2),
        last_update=last,
    )
