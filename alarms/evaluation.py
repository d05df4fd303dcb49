"""Rule evaluation: incremental, idempotent, safe under concurrency.

Each (rule, device) has a ``RuleDeviceState`` row: how far the data was read
(``evaluated_until``), the current run of the condition and since when, and whether the alarm
is active. Evaluation locks that row (SELECT … FOR UPDATE), reads only the readings after
``evaluated_until``, and sweeps them in time order:

* the condition true for at least the trigger delay → the alarm opens (or re-triggers);
* false for at least the clear delay → it returns to normal.

Replaying a batch reads nothing new and changes nothing; two workers serialise on the row lock,
and the partial unique index on open alarms backs it up. Delays are measured on the data's own
timestamps, so late or bursty uploads give the same answer as live ones. Readings older than
``evaluated_until`` (backfills) are stored but do not raise alarms.

Communication loss is the one time-based rule: it compares the device's last communication with
the wall clock, evaluated every minute by beat and after each ingest (data arriving clears it).

``rule_test`` runs the same sweep over the last 24 hours against an in-memory state: what would
have fired, without touching alarms.
"""

from __future__ import annotations

import bisect
import itertools
import operator as op
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pandas as pd
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from plants.choices import DeviceType
from plants.models import Device
from telemetry.models import LatestValue, Metric, Reading

from . import services
from .choices import RuleType
from .decoding import bit_map_for, decode_word
from .models import Alarm, AlarmRule, RuleDeviceState

OPERATORS = {">": op.gt, ">=": op.ge, "<": op.lt, "<=": op.le, "==": op.eq, "!=": op.ne}
MATCH_TOLERANCE = timedelta(minutes=10)  # a weather reading this close counts as simultaneous
MAX_STEP = timedelta(minutes=15)  # lost-energy integration never bridges longer gaps
FIRST_LOOKBACK = timedelta(hours=1)
FIRST_MAX_AGE = timedelta(days=8)  # a first evaluation reads back at most this far (demo week, backfills)
FUTURE = timedelta(minutes=10)  # ingest accepts timestamps slightly ahead of the clock
TEST_WINDOW = timedelta(hours=24)

DEFAULT_DEVICE_TYPES = {
    RuleType.UNDERPERFORMANCE: (DeviceType.INVERTER,),
    RuleType.STRING_DEVIATION: (DeviceType.STRING_MONITORING_BOX,),
}


@dataclass
class Point:
    ts: datetime
    condition: bool
    value: float | None
    message: str = ""
    lost_kw: float | None = None
    metadata: dict = field(default_factory=dict)


@dataclass
class SweepState:
    condition: bool | None = None
    condition_since: datetime | None = None
    active: bool = False
    last_ts: datetime | None = None
    last_value: float | None = None


@dataclass
class Transition:
    kind: str  # "fire" | "clear"
    point: Point
    lost_kwh: float = 0.0  # a "clear": the energy lost since the previous transition (the alarm it ends)


def sweep(points: list[Point], state: SweepState, *, trigger: timedelta, clear: timedelta):
    """Advance ``state`` over ``points``; returns the transitions and the lost energy (kWh)
    accumulated while active since the last transition (the open alarm's). Energy lost before a
    clear travels on that transition: an alarm that fires and clears within one sweep keeps it."""
    transitions: list[Transition] = []
    lost_kwh = 0.0
    for point in points:
        if state.active and point.lost_kw and state.last_ts is not None:
            step = min(point.ts - state.last_ts, MAX_STEP)
            lost_kwh += max(point.lost_kw, 0.0) * step.total_seconds() / 3600
        if point.condition != state.condition:
            state.condition, state.condition_since = point.condition, point.ts
        if point.condition and not state.active and point.ts - state.condition_since >= trigger:
            state.active = True
            transitions.append(Transition("fire", point))
        elif not point.condition and state.active and point.ts - state.condition_since >= clear:
            state.active = False
            transitions.append(Transition("clear", point, lost_kwh=lost_kwh))
            lost_kwh = 0.0
        state.last_ts, state.last_value = point.ts, point.value
    return transitions, lost_kwh


# --- which rules and devices -------------------------------------------------------------------


def rule_devices(rule: AlarmRule, devices: list[Device] | None = None) -> list[Device]:
    """Devices the rule watches (optionally among ``devices``)."""
    if rule.device_id:
        candidates = [rule.device] if devices is None else [d for d in devices if d.pk == rule.device_id]
        return [d for d in candidates if d is not None]
    types = (rule.device_type,) if rule.device_type else DEFAULT_DEVICE_TYPES.get(rule.rule_type)
    if devices is None:
        devices = list(Device.objects.filter(plant_id=rule.plant_id, operational=True).select_related("plant"))
    return [d for d in devices if d.plant_id == rule.plant_id and d.operational and (not types or d.type in types)]


def _metric_ids(keys) -> dict[str, int]:
    return dict(Metric.objects.filter(key__in=list(keys)).values_list("key", "id"))


def _series(device_ids, keys, start: datetime, end: datetime) -> dict[tuple[int, str], list[tuple[datetime, float]]]:
    ids = _metric_ids(keys)
    by_id = {v: k for k, v in ids.items()}
    out: dict[tuple[int, str], list[tuple[datetime, float]]] = defaultdict(list)
    if not ids or not device_ids:
        return out
    rows = (
        Reading.objects.filter(
            device_id__in=list(device_ids), metric_id__in=list(ids.values()), ts__gt=start, ts__lte=end
        )
        .order_by("ts")
        .values_list("device_id", "metric_id", "ts", "value")
    )
    for device_id, metric_id, ts, value in rows:
        out[(device_id, by_id[metric_id])].append((ts, value))
    return out


def _nearest(series: list[tuple[datetime, float]], ts: datetime, times: list[datetime]) -> float | None:
    """Value of ``series`` (sorted; ``times`` its timestamps) closest to ``ts`` within
    MATCH_TOLERANCE."""
    if not series:
        return None
    i = bisect.bisect_left(times, ts)
    best = None
    for j in (i - 1, i):
        close = 0 <= j < len(series) and abs(series[j][0] - ts) <= MATCH_TOLERANCE
        if close and (best is None or abs(series[j][0] - ts) < abs(series[best][0] - ts)):
            best = j
    return series[best][1] if best is not None else None


class PlantContext:
    """Per-plant facts shared by rule evaluations: POA of the weather stations, sun elevation."""

    def __init__(self, plant, start: datetime, end: datetime):
        self.plant = plant
        self.start, self.end = start, end
        self._poa: list[tuple[datetime, float]] | None = None
        self._expected = None

    def poa(self) -> list[tuple[datetime, float]]:
        if self._poa is None:
            stations = list(
                Device.objects.filter(plant_id=self.plant.pk, type=DeviceType.WEATHER_STATION).values_list(
                    "id", flat=True
                )
            )
            data = _series(stations, ["irradiance_poa"], self.start - MATCH_TOLERANCE, self.end)
            merged = sorted(p for station in stations for p in data.get((station, "irradiance_poa"), []))
            self._poa = merged
            self._poa_times = [t for t, _ in merged]
        return self._poa

    def poa_at(self, ts: datetime) -> float | None:
        return _nearest(self.poa(), ts, self._poa_times)

    def sun_elevation(self, times: list[datetime]) -> list[float]:
        if not times:
            return []
        from pvlib.solarposition import get_solarposition

        index = pd.DatetimeIndex(times).tz_convert("UTC")
        position = get_solarposition(index, self.plant.latitude, self.plant.longitude, method="nrel_numpy")
        return list(position["apparent_elevation"].to_numpy())

    def expected_plant_kw(self, ts: datetime) -> float | None:
        """Modelled plant AC power (forecasting's pvlib model from measured weather), else
        capacity x POA / 1000."""
        if self._expected is None:
            self._expected = False
            try:
                from forecasting.services import expected_power_kw

                series = expected_power_kw(plant=self.plant, start=self.start - MATCH_TOLERANCE, end=self.end)
                if series is not None and len(series.dropna()):
                    self._expected = [(t.to_pydatetime(), float(v)) for t, v in series.dropna().items()]
                    self._expected_times = [t for t, _ in self._expected]
            except Exception:  # noqa: BLE001 -- a plant the model cannot describe falls back to POA scaling
                self._expected = False
        if self._expected:
            value = _nearest(self._expected, ts, self._expected_times)
            if value is not None:
                return value
        poa = self.poa_at(ts)
        return None if poa is None else self.plant.total_power_output_kw * poa / 1000.0


def _gated(rule: AlarmRule, ctx: PlantContext, points: list[Point]) -> list[Point]:
    """Outside the gate the condition counts as absent (never triggers, may clear)."""
    if rule.gate_min_sun_elevation is not None:
        for point, elevation in zip(points, ctx.sun_elevation([p.ts for p in points]), strict=True):
            if elevation <= rule.gate_min_sun_elevation:
                point.condition = False
    if rule.gate_min_irradiance is not None:
        for point in points:
            poa = ctx.poa_at(point.ts)
            if poa is None or poa <= rule.gate_min_irradiance:
                point.condition = False
    return points


# --- conditions per rule type ------------------------------------------------------------------


def _threshold_points(rule, device, ctx, start, end) -> list[Point]:
    key, compare, limit = rule.params["metric"], OPERATORS[rule.params["operator"]], float(rule.params["value"])
    data = _series([device.pk], [key], start, end).get((device.pk, key), [])
    return [
        Point(ts, compare(value, limit), value, f"{key} = {value:g} ({rule.params['operator']} {limit:g})")
        for ts, value in data
    ]


def _status_points(rule, device, ctx, start, end) -> list[Point]:
    key = rule.params.get("metric", "event_bits")
    data = _series([device.pk], [key], start, end).get((device.pk, key), [])
    codes = {int(c) for c in rule.params.get("codes", [])}
    bits = rule.params.get("bits", "any")
    mask = None if bits == "any" else sum(1 << int(b) for b in bits)
    bit_names = bit_map_for(device_type=device.type, manufacturer=device.manufacturer, model=device.model, word=key)
    lost_kw = _inverter_shortfall(device, ctx, start, end)
    points = []
    for ts, value in data:
        number = int(value)
        if codes:
            condition = number in codes
            flags = []
        else:
            flags = [f for f in decode_word(number, bit_names) if mask is None or mask >> f["bit"] & 1]
            condition = bool(flags)
        names = ", ".join(f["name"] for f in flags) or f"{key} = {number}"
        points.append(
            Point(
                ts, condition, value, names, metadata={"flags": flags, "word": key},
                lost_kw=lost_kw(ts) if condition else None,
            )
        )  # fmt: skip
    return points


def _inverter_shortfall(device: Device, ctx: PlantContext, start: datetime, end: datetime):
    """For an inverter, ``ts -> kW`` its expected share of the plant's modelled power minus what it
    made (no reading: nothing) — the energy a fault costs; for other devices, nothing."""
    if device.type != DeviceType.INVERTER:
        return lambda ts: None
    share = _capacity_share(device)
    made = _series([device.pk], ["ac_power"], start, end).get((device.pk, "ac_power"), [])
    times = [t for t, _ in made]

    def shortfall(ts: datetime) -> float | None:
        plant_kw = ctx.expected_plant_kw(ts)
        if plant_kw is None:
            return None
        return max(plant_kw * share - (_nearest(made, ts, times) or 0.0), 0.0)

    return shortfall


def _underperformance_points(rule, device, ctx, start, end) -> list[Point]:
    tolerance = float(rule.params.get("tolerance_pct", 20)) / 100
    minimum = float(rule.params.get("min_irradiance", 200))
    share = _capacity_share(device)
    data = _series([device.pk], ["ac_power"], start, end).get((device.pk, "ac_power"), [])
    points = []
    for ts, actual in data:
        poa = ctx.poa_at(ts)
        plant_kw = ctx.expected_plant_kw(ts)
        if poa is None or plant_kw is None or poa <= minimum:
            points.append(Point(ts, False, actual))
            continue
        expected = plant_kw * share
        condition = actual < expected * (1 - tolerance)
        points.append(
            Point(
                ts, condition, actual,
                f"AC power {actual:.1f} kW, expected {expected:.1f} kW at {poa:.0f} W/m²",
                lost_kw=expected - actual if condition else None,
                metadata={"expectedKw": round(expected, 3)},
            )
        )  # fmt: skip
    return points


def _capacity_share(device: Device) -> float:
    inverters = list(
        Device.objects.filter(plant_id=device.plant_id, type=DeviceType.INVERTER).values_list("capacity_kw", flat=True)
    )
    if inverters and all(inverters) and device.capacity_kw:
        return device.capacity_kw / sum(inverters)
    return 1 / max(len(inverters), 1)


def _string_points(rule, device, ctx, start, end) -> list[Point]:
    deviation = float(rule.params.get("deviation_pct", 20)) / 100
    minimum = float(rule.params.get("min_irradiance", 300))
    keys = [f"string{n}_current" for n in range(1, 65)]
    data = _series([device.pk], keys, start, end)
    by_ts: dict[datetime, dict[str, float]] = defaultdict(dict)
    for (_, key), series in data.items():
        for ts, value in series:
            by_ts[ts][key] = value
    points = []
    for ts in sorted(by_ts):
        currents = by_ts[ts]
        poa = ctx.poa_at(ts)
        if len(currents) < 2 or poa is None or poa <= minimum:
            points.append(Point(ts, False, None))
            continue
        median = statistics.median(currents.values())
        weak = sorted(
            (k for k, v in currents.items() if median > 0 and v < median * (1 - deviation)),
            key=lambda k: int(k[6:-8]),
        )
        worst = min(currents.values()) / median if median > 0 else None
        labels = [f"S{k[6:-8]}" for k in weak]
        message = f"{', '.join(labels)} below the median {median:.2f} A by more than {deviation:.0%}" if weak else ""
        points.append(Point(ts, bool(weak), worst, message, metadata={"weakStrings": labels}))
    return points


CONDITIONS = {
    RuleType.THRESHOLD: _threshold_points,
    RuleType.STATUS_CODE: _status_points,
    RuleType.UNDERPERFORMANCE: _underperformance_points,
    RuleType.STRING_DEVIATION: _string_points,
}


def rule_metric_keys(rule: AlarmRule) -> set[str] | None:
    """Metrics whose arrival re-evaluates the rule (None: any)."""
    if rule.rule_type == RuleType.THRESHOLD:
        return {rule.params.get("metric")}
    if rule.rule_type == RuleType.STATUS_CODE:
        return {rule.params.get("metric", "event_bits")}
    if rule.rule_type == RuleType.UNDERPERFORMANCE:
        return {"ac_power"}
    return None


# --- live evaluation ---------------------------------------------------------------------------


def _delays(rule: AlarmRule) -> tuple[timedelta, timedelta]:
    return timedelta(minutes=rule.trigger_delay_minutes), timedelta(minutes=rule.clear_delay_minutes)


def rule_device_evaluate(
    *, rule: AlarmRule, device: Device, now: datetime | None = None, since: datetime | None = None, ctx=None
) -> list[str]:
    """Evaluate one (rule, device) over the data not yet seen; returns the transitions made."""
    now = now or timezone.now()
    if rule.rule_type == RuleType.COMMUNICATION_LOSS:
        return _comms_evaluate(rule=rule, device=device, now=now)
    trigger, clear = _delays(rule)
    with transaction.atomic():
        RuleDeviceState.objects.get_or_create(rule=rule, device=device)
        state_row = RuleDeviceState.objects.select_for_update().get(rule=rule, device=device)
        start = state_row.evaluated_until
        if start is None:  # first look: from just before the data that arrived (bounded)
            start = max(min(since or now, now) - max(trigger, clear) - FIRST_LOOKBACK, now - FIRST_MAX_AGE)
        end = now + FUTURE
        ctx = ctx if ctx is not None and ctx.start <= start else PlantContext(device.plant, start, end)
        points = CONDITIONS[rule.rule_type](rule, device, ctx, start, end)
        if not points:
            return []
        points = _gated(rule, ctx, points)
        state = SweepState(state_row.condition, state_row.condition_since, state_row.active, state_row.evaluated_until)
        transitions, lost_kwh = sweep(points, state, trigger=trigger, clear=clear)
        done = []
        for transition in transitions:
            point = transition.point
            if transition.kind == "fire":
                services.alarm_raise(
                    rule=rule, device=device, at=point.ts, value=point.value, message=point.message,
                    affected_power_kw=point.lost_kw, metadata=point.metadata,
                )  # fmt: skip
            else:
                alarm = _open_alarm(rule, device)
                if alarm is not None:
                    services.alarm_add_lost_energy(alarm=alarm, kwh=transition.lost_kwh)
                    services.alarm_return_to_normal(alarm=alarm, at=point.ts, value=point.value)
            done.append(transition.kind)
        last = points[-1]
        alarm = _open_alarm(rule, device) if state.active else None
        if alarm is not None:
            Alarm.objects.filter(pk=alarm.pk).update(
                last_value=last.value,
                affected_power_kw=last.lost_kw,
                lost_energy_kwh=(alarm.lost_energy_kwh or 0) + lost_kwh if lost_kwh else alarm.lost_energy_kwh,
            )
        state_row.evaluated_until = last.ts
        state_row.condition, state_row.condition_since = state.condition, state.condition_since
        state_row.active, state_row.last_value = state.active, last.value
        state_row.save()
        return done


def _open_alarm(rule: AlarmRule, device) -> Alarm | None:
    key = f"{rule.pk}:{device.pk if device else 0}"
    return Alarm.objects.filter(dedupe_key=key, closed_at__isnull=True).first()


def _comms_evaluate(*, rule: AlarmRule, device: Device, now: datetime) -> list[str]:
    minutes = float(rule.params.get("minutes", 30)) + rule.trigger_delay_minutes
    last = LatestValue.objects.filter(device=device).aggregate(last=Max("ts"))["last"]
    if last is None:  # never reported: a device not yet connected is not a lost one
        return []
    silent = now - last >= timedelta(minutes=minutes)
    if silent and rule.gate_min_sun_elevation is not None:
        ctx = PlantContext(device.plant, now, now)
        silent = ctx.sun_elevation([now])[0] > rule.gate_min_sun_elevation
    with transaction.atomic():
        RuleDeviceState.objects.get_or_create(rule=rule, device=device)
        state_row = RuleDeviceState.objects.select_for_update().get(rule=rule, device=device)
        done = []
        if silent and not state_row.active:
            services.alarm_raise(
                rule=rule, device=device, at=now, value=None,
                message=f"No data from {device.name} since {last:%Y-%m-%d %H:%M} UTC ({minutes:g} min limit).",
                metadata={"lastCommunication": last.isoformat()},
            )  # fmt: skip
            state_row.active = True
            done.append("fire")
        elif not silent and state_row.active and now - last < timedelta(minutes=minutes):
            alarm = _open_alarm(rule, device)
            if alarm is not None:
                services.alarm_return_to_normal(alarm=alarm, at=last)
            state_row.active = False
            done.append("clear")
        state_row.evaluated_until = last
        state_row.save()
        return done


def devices_evaluate(*, device_ids, metric_ids=None, since: datetime | None = None, now: datetime | None = None) -> int:
    """After an ingest batch: the enabled rules that watch the touched devices and metrics."""
    now = now or timezone.now()
    devices = list(Device.objects.filter(pk__in=list(device_ids)).select_related("plant"))
    if not devices:
        return 0
    keys = set(Metric.objects.filter(pk__in=list(metric_ids)).values_list("key", flat=True)) if metric_ids else None
    rules = AlarmRule.objects.filter(plant_id__in={d.plant_id for d in devices}, enabled=True).select_related("device")
    count = 0
    for rule in rules:
        watched = rule_metric_keys(rule)
        if (
            keys is not None
            and watched is not None
            and rule.rule_type != RuleType.COMMUNICATION_LOSS
            and not (watched & keys)
        ):
            continue
        watched_devices = rule_devices(rule, devices)
        if rule.rule_type == RuleType.COMMUNICATION_LOSS:
            # arriving data can only clear a communication loss: look at the active ones only
            active = set(
                RuleDeviceState.objects.filter(rule=rule, active=True, device__in=watched_devices).values_list(
                    "device_id", flat=True
                )
            )
            watched_devices = [d for d in watched_devices if d.pk in active]
        for device in watched_devices:
            count += len(rule_device_evaluate(rule=rule, device=device, now=now, since=since))
    return count


def time_based_evaluate(*, now: datetime | None = None) -> int:
    """Beat, every minute: communication loss for every enabled rule."""
    now = now or timezone.now()
    count = 0
    for rule in AlarmRule.objects.filter(enabled=True, rule_type=RuleType.COMMUNICATION_LOSS).select_related("plant"):
        for device in rule_devices(rule):
            count += len(_comms_evaluate(rule=rule, device=device, now=now))
    return count


# --- dry run -----------------------------------------------------------------------------------


def rule_test(*, rule: AlarmRule, now: datetime | None = None, window: timedelta = TEST_WINDOW) -> dict:
    """What the rule would have done over the last ``window``, without opening alarms."""
    now = now or timezone.now()
    start = now - window
    trigger, clear = _delays(rule)
    ctx = PlantContext(rule.plant, start, now)
    results = []
    for device in rule_devices(rule):
        episodes = []
        if rule.rule_type == RuleType.COMMUNICATION_LOSS:
            episodes = _comms_gaps(rule, device, ctx, start, now)
        else:
            points = _gated(rule, ctx, CONDITIONS[rule.rule_type](rule, device, ctx, start, now))
            transitions, _ = sweep(points, SweepState(), trigger=trigger, clear=clear)
            for transition in transitions:
                if transition.kind == "fire":
                    episodes.append(
                        {"firedAt": transition.point.ts, "clearedAt": None, "value": transition.point.value,
                         "message": transition.point.message}
                    )  # fmt: skip
                elif episodes:
                    episodes[-1]["clearedAt"] = transition.point.ts
        results.append({"deviceId": device.pk, "deviceName": device.name, "wouldFire": episodes})
    return {
        "ruleId": rule.pk,
        "start": start,
        "end": now,
        "firings": sum(len(r["wouldFire"]) for r in results),
        "devices": results,
    }


def _comms_gaps(rule, device, ctx, start, end) -> list[dict]:
    minutes = timedelta(minutes=float(rule.params.get("minutes", 30)) + rule.trigger_delay_minutes)
    times = sorted(set(Reading.objects.filter(device=device, ts__gt=start, ts__lte=end).values_list("ts", flat=True)))
    gaps = []
    for before, after in itertools.pairwise(times):
        if after - before >= minutes:
            fired = before + minutes
            if rule.gate_min_sun_elevation is None or ctx.sun_elevation([fired])[0] > rule.gate_min_sun_elevation:
                gaps.append({"firedAt": fired, "clearedAt": after, "value": None, "message": "no data"})
    return gaps


__all__ = ["devices_evaluate", "rule_device_evaluate", "rule_test", "sweep", "time_based_evaluate"]
