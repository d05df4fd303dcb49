"""The dispatch schedule, its execution rate and income (README "Battery storage: income").

For every awarded block (``is_get`` and ``power > 0``) of a plant:

* committed energy (MWh) = awarded ``power`` (MW) x the block's hours;
* delivered energy (MWh) = Σ over the 5-minute buckets starting inside the block of the plant's
  PCS power magnitude |Σ mean ``ac_power``| (kW) x 5 min / 1000 — regulation counts both
  directions;
* execution rate = delivered / committed;
* performance index = the ``index`` of the highest tier of the plant's ``StorageTariff`` whose
  ``min_exec_rate`` the block's execution rate reaches (0 below every tier);
* capacity fee = ``price`` x ``power`` x hours x performance index;
* efficiency fee = tariff ``efficiency_price`` x ``power`` x hours x performance index.

Hourly and daily figures split a block over the plant-local hours it overlaps, pro rata of time,
with the block's own performance index; an hour's execution rate is its delivered over its
committed energy.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from plants.choices import DeviceType
from plants.models import Plant
from solarhub.api.exceptions import ApiError
from telemetry.rollups.buckets import local_day_bounds, local_day_start

from ..models import DispatchEvent, StorageTariff
from .common import FIVE_MINUTES, plant_devices, plant_tz, power_series

HOUR = timedelta(hours=1)
_BUCKET_HOURS = FIVE_MINUTES.total_seconds() / 3600.0


def tariff_get(*, plant: Plant) -> StorageTariff:
    tariff = StorageTariff.objects.filter(plant=plant).first()
    if tariff is None:
        raise ApiError("The plant has no storage tariff (set it in the admin).", code="NO_TARIFF", status_code=404)
    return tariff


def performance_index(*, tariff: StorageTariff, exec_rate: float | None) -> float:
    if exec_rate is None:
        return 0.0
    reached = [tier for tier in tariff.performance_tiers or [] if exec_rate >= float(tier["min_exec_rate"])]
    return float(max(reached, key=lambda tier: float(tier["min_exec_rate"]))["index"]) if reached else 0.0


def schedule_events(*, plant: Plant, mode: str | None, start: datetime, end: datetime):
    events = DispatchEvent.objects.filter(plant=plant, time_start__gte=start, time_start__lt=end)
    if mode is not None:
        events = events.filter(mode=mode)
    return events.order_by("time_start", "id")


def event_row(event: DispatchEvent, index: int, tz) -> dict:
    local_day = event.time_start.astimezone(tz).date()
    return {
        "index": index,
        "id": event.pk,
        "mode": event.mode,
        "time_number": event.time_number,
        "time_start": event.time_start,
        "time_end": event.time_end,
        "time_date": local_day_start(local_day, tz),
        "is_get": event.is_get,
        "interrupt": event.interrupt,
        "quote_capacity": event.quote_capacity,
        "power": event.power,
        "price": event.price,
        "quote_price": event.quote_price,
        "quote_code": event.quote_code,
        "title": event.title,
        "description": event.description,
    }


def schedule(*, plant: Plant, mode: str | None, weeks: int, start: date | None, today: date) -> dict:
    """Seed 003's ``/schedule``: events starting in ``weeks`` weeks from ``start`` (default the
    Monday of the plant-local current week)."""
    tz = plant_tz(plant)
    first = start or today - timedelta(days=today.weekday())
    lo, hi = local_day_start(first, tz), local_day_start(first + timedelta(weeks=weeks), tz)
    events = [
        event_row(event, n, tz) for n, event in enumerate(schedule_events(plant=plant, mode=mode, start=lo, end=hi), 1)
    ]
    return {
        "plant_id": plant.pk,
        "events": events,
        "mode": mode or "all",
        "weeks": weeks,
        "start_date": first,
        "timezone": plant.timezone,
        "total_count": len(events),
    }


@dataclass
class Block:
    """One awarded event with its delivered power per 5-minute bucket inside it."""

    event: DispatchEvent
    delivered_mwh: float = 0.0
    buckets: dict[int, float] = field(default_factory=dict)  # epoch → |kW|

    @property
    def committed_mwh(self) -> float:
        return self.event.power * self.event.hours

    @property
    def exec_rate(self) -> float | None:
        return self.delivered_mwh / self.committed_mwh if self.committed_mwh > 0 else None


def awarded_blocks(*, plant: Plant, start: datetime, end: datetime) -> list[Block]:
    """The awarded blocks overlapping ``[start, end)`` with their delivery (one rollup read)."""
    events = list(
        DispatchEvent.objects.filter(
            plant=plant, is_get=True, power__gt=0, time_start__lt=end, time_end__gt=start
        ).order_by("time_start", "id")
    )
    if not events:
        return []
    lo, hi = min(e.time_start for e in events), max(e.time_end for e in events)
    pcs = list(plant_devices(plant, DeviceType.PCS).values_list("id", flat=True))
    series = power_series(device_ids=pcs, key="ac_power", start=lo, end=hi, tz=plant_tz(plant))
    blocks = []
    for event in events:
        lo_epoch, hi_epoch = event.time_start.timestamp(), event.time_end.timestamp()
        inside = {epoch: abs(kw) for epoch, kw in series.items() if lo_epoch <= epoch < hi_epoch}
        delivered = sum(inside.values()) * _BUCKET_HOURS / 1000.0
        blocks.append(Block(event=event, delivered_mwh=delivered, buckets=inside))
    return blocks


def _overlap_hours(a0: datetime, a1: datetime, b0: datetime, b1: datetime) -> float:
    return max((min(a1, b1) - max(a0, b0)).total_seconds(), 0.0) / 3600.0


@dataclass
class Slice:
    committed_mwh: float = 0.0
    delivered_mwh: float = 0.0
    capacity_fee: float = 0.0
    efficiency_fee: float = 0.0
    weighted_index: float = 0.0  # Σ performance index x committed MWh

    def add(self, other: Slice) -> None:
        self.committed_mwh += other.committed_mwh
        self.delivered_mwh += other.delivered_mwh
        self.capacity_fee += other.capacity_fee
        self.efficiency_fee += other.efficiency_fee
        self.weighted_index += other.weighted_index

    @property
    def exec_rate(self) -> float | None:
        return self.delivered_mwh / self.committed_mwh if self.committed_mwh > 0 else None

    @property
    def performance_index(self) -> float | None:
        return self.weighted_index / self.committed_mwh if self.committed_mwh > 0 else None


def _slice(block: Block, tariff: StorageTariff, lo: datetime, hi: datetime) -> Slice:
    event = block.event
    hours = _overlap_hours(event.time_start, event.time_end, lo, hi)
    index = performance_index(tariff=tariff, exec_rate=block.exec_rate)
    lo_epoch, hi_epoch = lo.timestamp(), hi.timestamp()
    delivered = sum(kw for epoch, kw in block.buckets.items() if lo_epoch <= epoch < hi_epoch) * _BUCKET_HOURS / 1000
    committed = event.power * hours
    return Slice(
        committed_mwh=committed,
        delivered_mwh=delivered,
        capacity_fee=event.price * event.power * hours * index,
        efficiency_fee=tariff.efficiency_price * event.power * hours * index,
        weighted_index=index * committed,
    )


def _r(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(value, digits)


def _hours_of_day(day: date, tz) -> list[tuple[int, datetime, datetime]]:
    """Plant-local hours of ``day`` as ``(local hour, start, end)`` in UTC (23-25 of them)."""
    start, end = local_day_bounds(day, tz)
    hours, moment = [], start
    while moment < end:
        hours.append((moment.astimezone(tz).hour, moment, min(moment + HOUR, end)))
        moment += HOUR
    return hours


def income_daily(*, plant: Plant, day: date) -> dict:
    """Seed 003's ``/schedule/income/daily``: the day's fees per plant-local hour and in total."""
    tariff = tariff_get(plant=plant)
    tz = plant_tz(plant)
    start, end = local_day_bounds(day, tz)
    blocks = awarded_blocks(plant=plant, start=start, end=end)
    hourly, total = [], Slice()
    for hour, lo, hi in _hours_of_day(day, tz):
        piece = Slice()
        for block in blocks:
            if block.event.time_start < hi and block.event.time_end > lo:
                piece.add(_slice(block, tariff, lo, hi))
        total.add(piece)
        hourly.append(
            {
                "hour": hour,
                "time": lo,
                "committed_energy": _r(piece.committed_mwh),
                "delivered_energy": _r(piece.delivered_mwh),
                "capacity_fee": _r(piece.capacity_fee, 2),
                "efficiency_fee": _r(piece.efficiency_fee, 2),
                "exec_rate": _r(piece.exec_rate),
                "performance_index": _r(piece.performance_index),
            }
        )
    return {
        "plant_id": plant.pk,
        "date": day,
        "timezone": plant.timezone,
        "currency": tariff.currency,
        "hourly_data": hourly,
        "total_capacity_fee": _r(total.capacity_fee, 2),
        "total_efficiency_fee": _r(total.efficiency_fee, 2),
        "total_income": _r(total.capacity_fee + total.efficiency_fee, 2),
        "avg_exec_rate": _r(total.exec_rate),
        "avg_performance_index": _r(total.performance_index),
    }


def income_monthly(*, plant: Plant, month: date) -> dict:
    """Seed 003's ``/schedule/income/monthly``: the month's fees per plant-local day and in total."""
    tariff = tariff_get(plant=plant)
    tz = plant_tz(plant)
    following = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
    blocks = awarded_blocks(plant=plant, start=local_day_start(month, tz), end=local_day_start(following, tz))
    daily, total = [], Slice()
    day = month
    while day < following:
        lo, hi = local_day_bounds(day, tz)
        piece = Slice()
        for block in blocks:
            if block.event.time_start < hi and block.event.time_end > lo:
                piece.add(_slice(block, tariff, lo, hi))
        total.add(piece)
        daily.append(
            {
                "date": day,
                "committed_energy": _r(piece.committed_mwh),
                "delivered_energy": _r(piece.delivered_mwh),
                "capacity_fee": _r(piece.capacity_fee, 2),
                "efficiency_fee": _r(piece.efficiency_fee, 2),
                "total_income": _r(piece.capacity_fee + piece.efficiency_fee, 2),
                "exec_rate": _r(piece.exec_rate),
                "performance_index": _r(piece.performance_index),
            }
        )
        day += timedelta(days=1)
    return {
        "plant_id": plant.pk,
        "month": f"{month:%Y-%m}",
        "timezone": plant.timezone,
        "currency": tariff.currency,
        "daily_data": daily,
        "total_capacity_fee": _r(total.capacity_fee, 2),
        "total_efficiency_fee": _r(total.efficiency_fee, 2),
        "total_income": _r(total.capacity_fee + total.efficiency_fee, 2),
        "avg_exec_rate": _r(total.exec_rate),
        "avg_performance_index": _r(total.performance_index),
    }


def exec_rate_series(*, plant: Plant, day: date, data_type: str) -> dict:
    """Seed 003's ``/schedule/exec-rate`` as ``[epoch_ms, rate]`` pairs over the plant-local day:
    ``exec_rate`` — each 5-minute bucket inside an awarded block, |PCS power| / awarded power;
    ``roll_exec_rate`` — the block's rate so far (delivered / committed up to the bucket's end);
    ``hour_exec_rate`` — per plant-local hour with commitment. ``blocks``: each block's rate."""
    tz = plant_tz(plant)
    start, end = local_day_bounds(day, tz)
    blocks = awarded_blocks(plant=plant, start=start, end=end)
    points: list[list[float]] = []
    if data_type == "hour_exec_rate":
        for _hour, lo, hi in _hours_of_day(day, tz):
            committed = delivered = 0.0
            for block in blocks:
                hours = _overlap_hours(block.event.time_start, block.event.time_end, lo, hi)
                committed += block.event.power * hours
                delivered += sum(kw for e, kw in block.buckets.items() if lo.timestamp() <= e < hi.timestamp())
            if committed > 0:
                points.append([int(lo.timestamp()) * 1000, _r(delivered * _BUCKET_HOURS / 1000 / committed)])
    else:
        by_bucket: dict[int, float] = defaultdict(float)
        for block in blocks:
            kw_awarded = block.event.power * 1000.0
            moment, running, done = block.event.time_start, 0.0, 0
            while moment < block.event.time_end:
                epoch = int(moment.timestamp())
                kw = block.buckets.get(epoch, 0.0)
                running += kw
                done += 1
                if start <= moment < end:
                    rate = kw / kw_awarded if data_type == "exec_rate" else running / (kw_awarded * done)
                    by_bucket[epoch] = rate
                moment += FIVE_MINUTES
        points = [[epoch * 1000, _r(rate)] for epoch, rate in sorted(by_bucket.items())]
    return {
        "plant_id": plant.pk,
        "date": day,
        "timezone": plant.timezone,
        "data_type": data_type,
        "data": points,
        "blocks": [
            {
                "event_id": b.event.pk,
                "mode": b.event.mode,
                "time_start": b.event.time_start,
                "time_end": b.event.time_end,
                "committed_energy": _r(b.committed_mwh),
                "delivered_energy": _r(b.delivered_mwh),
                "exec_rate": _r(b.exec_rate),
            }
            for b in blocks
        ],
        "status": "success",
    }
