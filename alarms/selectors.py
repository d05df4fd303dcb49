"""Reads of the alarms app: keyword-only, typed functions named <entity>_<action>.

Insights (``/api/alarms/summary``, ``/api/alarms/analytics``, seed 003's header and PCS/BESS
alert words). Every function takes an already scoped ``Alarm`` queryset or a plant/device the
caller looked up among the visible ones; scoping is the view's job.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.db.models import (
    Avg,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    FloatField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    Window,
)
from django.db.models.functions import Coalesce, Lag, TruncDate, TruncMinute

from .choices import LEGACY_STATES, AlarmState, EventKind, FlagCategory, Severity
from .decoding import bit_map_for, decode_word, word_as_binary
from .models import Alarm, AlarmEvent, AlarmRule

# --- summary / seed 003 header -------------------------------------------------------------------

# Alarms without decoded flags fall into a header group by severity: a critical alarm stops
# production (fault), a high one is a protective trip/derate (protection), the rest are warnings.
SEVERITY_HEADER_GROUP = {
    Severity.CRITICAL: FlagCategory.FAULT,
    Severity.HIGH: FlagCategory.PROTECTION,
    Severity.MEDIUM: FlagCategory.WARNING,
    Severity.LOW: FlagCategory.WARNING,
}
HEADER_GROUPS = (FlagCategory.PROTECTION, FlagCategory.WARNING, FlagCategory.FAULT)
HEADER_MAX_ITEMS = 100


def alarm_counts(*, alarms: QuerySet[Alarm]) -> dict:
    """Counts by state (all alarms, ISA-18.2 states and seed 000's three legacy ones) and by
    severity (open = not closed alarms only), in two grouped queries."""
    by_state = dict.fromkeys(AlarmState.values, 0)
    for row in alarms.order_by().values("state").annotate(n=Count("id")):
        by_state[row["state"]] = row["n"]
    by_severity = dict.fromkeys(Severity.values, 0)
    for row in alarms.filter(closed_at__isnull=True).order_by().values("severity").annotate(n=Count("id")):
        by_severity[row["severity"]] = row["n"]
    legacy = {name: sum(by_state.get(str(s), 0) for s in states) for name, states in LEGACY_STATES.items()}
    total = sum(by_state.values())
    return {
        "total": total,
        "open": total - by_state[AlarmState.CLOSED],
        "active": alarms.filter(active=True, closed_at__isnull=True).count(),
        "by_state": by_state,
        "by_legacy_state": legacy,
        "by_severity": by_severity,
    }


def _label(row: dict) -> str:
    return row["device__name"] or row["title"]


def alarm_header(*, alarms: QuerySet[Alarm]) -> dict:
    """Seed 003's header block: open, unshelved alarms grouped into protection / warning /
    fault. An alarm with decoded flags (``metadata["flags"]``, stored by status-code rules)
    contributes one item per flag of those categories ("Inverter 1: OVER_TEMP"); ``status``
    flags are informational. Otherwise (no flags, or only status flags) the alarm's severity
    decides (:data:`SEVERITY_HEADER_GROUP`) and its title is the item. Flag items come first,
    then titles, newest first; ``count`` is complete, ``items`` at most :data:`HEADER_MAX_ITEMS`.

    Alarms without flags are counted and listed in SQL (a plant with thousands of open alarms
    does not load them); only the flagged ones (one per status rule and device) are read."""
    shown = alarms.filter(closed_at__isnull=True).exclude(state=AlarmState.SHELVED).order_by("-triggered_at", "-id")
    items: dict[str, list[str]] = {str(g): [] for g in HEADER_GROUPS}
    seen: dict[str, set[str]] = {str(g): set() for g in HEADER_GROUPS}
    counts = dict.fromkeys(items, 0)
    fallback: list[tuple[str, str]] = []
    for row in shown.filter(metadata__has_key="flags").values("title", "severity", "metadata", "device__name"):
        flags = row["metadata"].get("flags") if isinstance(row["metadata"], dict) else None
        placed = False
        for flag in flags if isinstance(flags, list) else []:
            category = flag.get("category") if isinstance(flag, dict) else None
            if category in items:
                item = f"{_label(row)}: {flag.get('name') or 'BIT' + str(flag.get('bit'))}"
                if item not in seen[category]:
                    seen[category].add(item)
                    items[category].append(item)
                    counts[category] += 1
                placed = True
        if not placed:
            fallback.append((str(SEVERITY_HEADER_GROUP.get(row["severity"], FlagCategory.WARNING)), row["title"]))
    for group, title in fallback:
        items[group].append(title)
        counts[group] += 1
    plain = shown.exclude(metadata__has_key="flags")
    by_severity = dict(plain.order_by().values("severity").annotate(n=Count("id")).values_list("severity", "n"))
    for group in items:
        severities = [str(s) for s, g in SEVERITY_HEADER_GROUP.items() if g == group]
        in_group = sum(by_severity.get(s, 0) for s in severities)
        counts[group] += in_group
        room = HEADER_MAX_ITEMS - len(items[group])
        if in_group and room > 0:
            items[group].extend(plain.filter(severity__in=severities).values_list("title", flat=True)[:room])
    return {f"{group}_info": {"count": counts[group], "items": items[group][:HEADER_MAX_ITEMS]} for group in items}


# --- analytics -----------------------------------------------------------------------------------

ISA_RATE_PER_HOUR = 6.0  # ISA-18.2: ~150 alarms/day per operator ≈ 6/h is "very likely acceptable"
FLOOD_WINDOW = timedelta(minutes=10)
FLOOD_THRESHOLD = 10  # more than 10 alarms opened in 10 minutes
CHATTER_WINDOW = timedelta(hours=1)
CHATTER_MIN = 3
TOP_N = 10


def _minutes(duration: timedelta | None) -> float | None:
    return None if duration is None else round(duration.total_seconds() / 60, 2)


def alarm_response_times(*, alarms: QuerySet[Alarm]) -> dict:
    """MTTA: mean of (first acknowledgement event - triggered_at) over acknowledged alarms — the
    acknowledgement an operator made (a close without one does not count). MTTR: mean of
    (cleared, else closed - triggered_at) over alarms no longer active. One aggregate query."""
    first_ack = (
        AlarmEvent.objects.filter(alarm_id=OuterRef("pk"), kind=EventKind.ACKNOWLEDGED).order_by("at").values("at")[:1]
    )
    duration = DurationField()
    result = (
        alarms.order_by()
        .annotate(first_ack=Subquery(first_ack))
        .aggregate(
            mtta=Avg(ExpressionWrapper(F("first_ack") - F("triggered_at"), output_field=duration)),
            acknowledged=Count("id", filter=Q(first_ack__isnull=False)),
            mttr=Avg(
                ExpressionWrapper(Coalesce("cleared_at", "closed_at") - F("triggered_at"), output_field=duration),
                filter=Q(active=False) & (Q(cleared_at__isnull=False) | Q(closed_at__isnull=False)),
            ),
            resolved=Count("id", filter=Q(active=False) & (Q(cleared_at__isnull=False) | Q(closed_at__isnull=False))),
        )
    )
    return {
        "mtta_minutes": _minutes(result["mtta"]),
        "mtta_sample": result["acknowledged"],
        "mttr_minutes": _minutes(result["mttr"]),
        "mttr_sample": result["resolved"],
    }


def alarm_per_day(*, alarms: QuerySet[Alarm], zone: str) -> list[dict]:
    rows = (
        alarms.order_by()
        .annotate(day=TruncDate("triggered_at", tzinfo=ZoneInfo(zone)))
        .values("day")
        .annotate(count=Count("id"))
        .order_by("day")
    )
    return [{"date": row["day"].isoformat(), "count": row["count"]} for row in rows]


def alarm_bad_actors(*, alarms: QuerySet[Alarm], limit: int = TOP_N) -> list[dict]:
    """The (device, rule) pairs with most alarms; ``occurrences`` adds re-triggers."""
    rows = (
        alarms.order_by()
        .values("device_id", "device__name", "rule_id", "rule__name")
        .annotate(count=Count("id"), occurrences=Sum("occurrence_count"), lost=Sum("lost_energy_kwh"))
        .order_by("-count", "-occurrences", "device_id", "rule_id")[:limit]
    )
    return [
        {
            "device_id": row["device_id"],
            "device_name": row["device__name"],
            "rule_id": row["rule_id"],
            "rule_name": row["rule__name"],
            "alarms": row["count"],
            "occurrences": row["occurrences"] or 0,
            "lost_energy_kwh": row["lost"],
        }
        for row in rows
    ]


def alarm_chattering(*, alarms: QuerySet[Alarm]) -> list[dict]:
    """Rules whose (rule, device) alarm occurred (triggered or re-triggered) at least
    :data:`CHATTER_MIN` times within :data:`CHATTER_WINDOW`. One window query: an occurrence
    whose (CHATTER_MIN - 1)-th predecessor of the same (rule, device) lies less than the window
    before it completes a chattering run (``runs`` counts those occurrences per rule)."""
    kinds = (EventKind.TRIGGERED, EventKind.RETRIGGERED)
    partition = [F("alarm__rule_id"), F("alarm__device_id")]
    occurrences = (
        AlarmEvent.objects.filter(alarm__in=alarms.filter(rule__isnull=False).values("id"), kind__in=kinds)
        .annotate(earlier=Window(Lag("at", CHATTER_MIN - 1), partition_by=partition, order_by=F("at").asc()))
        .filter(earlier__isnull=False, earlier__gt=F("at") - Value(CHATTER_WINDOW, output_field=DurationField()))
        .values_list("alarm__rule_id", "alarm__device_id")
    )
    runs: Counter = Counter()
    devices: dict[int, set] = {}
    for rule_id, device_id in occurrences:
        runs[rule_id] += 1
        devices.setdefault(rule_id, set()).add(device_id)
    if not runs:
        return []
    names = dict(AlarmRule.objects.filter(pk__in=runs).values_list("id", "name"))
    return [
        {"rule_id": rule_id, "rule_name": names.get(rule_id), "runs": count, "devices": len(devices[rule_id])}
        for rule_id, count in sorted(runs.items(), key=lambda item: (-item[1], item[0]))
    ]


def alarm_flood_minutes(*, alarms: QuerySet[Alarm]) -> float:
    """Minutes in flood: the time during which more than :data:`FLOOD_THRESHOLD` alarms were
    opened in the preceding 10 minutes. Openings per minute come from SQL; a sweep over
    (+n at the minute, -n ten minutes later) finds the flooded spans in O(buckets)."""
    changes: Counter = Counter()
    rows = alarms.order_by().annotate(minute=TruncMinute("triggered_at")).values("minute").annotate(n=Count("id"))
    for row in rows:
        changes[row["minute"]] += row["n"]
        changes[row["minute"] + FLOOD_WINDOW] -= row["n"]
    flooded, level, previous = timedelta(0), 0, None
    for moment in sorted(changes):
        if previous is not None and level > FLOOD_THRESHOLD:
            flooded += moment - previous
        level += changes[moment]
        previous = moment
    return round(flooded.total_seconds() / 60, 2)


def alarm_lost_energy_by_cause(*, alarms: QuerySet[Alarm]) -> list[dict]:
    rows = (
        alarms.order_by()
        .annotate(cause=Coalesce("rule__rule_type", Value("manual")))
        .values("cause")
        .annotate(kwh=Sum("lost_energy_kwh"), count=Count("id"))
        .order_by("-kwh", "cause")
    )
    return [
        {"cause": row["cause"], "lost_energy_kwh": round(row["kwh"] or 0.0, 3), "alarms": row["count"]} for row in rows
    ]


def alarm_analytics(*, alarms: QuerySet[Alarm], since: datetime, until: datetime, zone: str) -> dict:
    """Every figure over the alarms opened in [since, until)."""
    window = alarms.filter(triggered_at__gte=since, triggered_at__lt=until)
    total = window.count()
    hours = max((until - since).total_seconds() / 3600, 1e-9)
    rate = total / hours
    return {
        "since": since,
        "until": until,
        "timezone": zone,
        "total": total,
        **alarm_response_times(alarms=window),
        "per_day": alarm_per_day(alarms=window, zone=zone),
        "bad_actors": alarm_bad_actors(alarms=window),
        "chattering": alarm_chattering(alarms=window),
        "flood_minutes": alarm_flood_minutes(alarms=window),
        "rate": {
            "per_hour": round(rate, 3),
            "isa_guideline_per_hour": ISA_RATE_PER_HOUR,
            "exceeds_guideline": rate > ISA_RATE_PER_HOUR,
        },
        "lost_energy_by_cause": alarm_lost_energy_by_cause(alarms=window),
        "lost_energy_kwh": round(
            window.aggregate(kwh=Coalesce(Sum("lost_energy_kwh"), 0.0, output_field=FloatField()))["kwh"], 3
        ),
    }


# --- seed 003 status words -----------------------------------------------------------------------

PCS_WORDS = (
    "inverter_status",
    "inverter_inhibits1_status",
    "environment_status",
    "warning_status",
    "grid_status",
    "fault_status1",
    "fault_status2",
)
RACK_KINDS = ("protection", "alarm", "warning")
NORMAL = "Normal"


def _latest(device) -> dict[str, tuple[float, datetime]]:
    from telemetry.models import LatestValue

    return {
        key: (value, ts)
        for key, value, ts in LatestValue.objects.filter(device=device, metric__kind="bitfield").values_list(
            "metric__key", "value", "ts"
        )
    }


def _decoded(device, word: str, value) -> list[dict]:
    bits = bit_map_for(device_type=device.type, manufacturer=device.manufacturer, model=device.model, word=word)
    return decode_word(value, bits)


def pcs_alert_words(*, device) -> dict:
    """Seed 003's ``/pcs/alert``: each PCS word as a 16-char binary string (``None`` when the
    PCS never reported it) and its set bits decoded through the device's bit maps."""
    latest = _latest(device)
    words, decoded, times = {}, {}, []
    for word in PCS_WORDS:
        entry = latest.get(f"pcs_{word}")
        value = entry[0] if entry else None
        words[word] = None if entry is None else word_as_binary(value)
        decoded[word] = _decoded(device, f"pcs_{word}", value)
        if entry:
            times.append(entry[1])
    return {"words": words, "decoded": decoded, "timestamp": max(times) if times else None}


def _flags_text(flags: list[dict]) -> str:
    return ", ".join(flag["name"] for flag in flags) if flags else NORMAL


def rack_alert_words(*, device) -> dict:
    """Seed 003's rack alerts: ``battery_<n>_<kind>`` for every battery module the rack
    reported, ``bams_status``; "Normal" or the set flags' names."""
    latest = _latest(device)
    modules = sorted(
        {
            int(key.removeprefix("battery").split("_", 1)[0])
            for key in latest
            if key.startswith("battery") and key.removeprefix("battery").split("_", 1)[0].isdigit()
        }
    )
    battery, bams, decoded, times = {}, {}, {}, []
    for n in modules:
        for kind in RACK_KINDS:
            metric = f"battery{n}_{kind}"
            entry = latest.get(metric)
            flags = _decoded(device, metric, entry[0] if entry else None)
            key = f"battery_{n}_{kind}"
            battery[key] = _flags_text(flags) if entry else None
            decoded[key] = flags
            if entry:
                times.append(entry[1])
    for metric in sorted(k for k in latest if k.startswith("bams")):
        entry = latest[metric]
        flags = _decoded(device, metric, entry[0])
        bams[metric] = _flags_text(flags)
        decoded[metric] = flags
        times.append(entry[1])
    return {"battery": battery, "bams": bams, "decoded": decoded, "timestamp": max(times) if times else None}
