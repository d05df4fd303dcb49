"""Reads of the telemetry app: keyword-only, typed functions named <entity>_<action>.

Time series come from the rollup table at the asked resolution, with hours not folded yet
recomputed from raw readings (``telemetry.rollups.rollups_read``), so answers are never stale.
Every bucket of the range appears; a bucket without data is ``None`` — gaps are shown, never
filled in. Query counts do not depend on the number of points or devices.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from plants.models import Device, Plant

from .catalog import FAMILY_MAX, METRIC_GROUPS
from .choices import MetricKind, Resolution
from .ingest import metric_catalog
from .models import LatestValue, Metric, Reading
from .quality import bucket_is_flatlined, should_vary
from .rollups.buckets import FIVE_MINUTES, HOUR, floor_five, floor_hour, local_day_start, zone
from .rollups.compute import from_epoch, rollups_read_rows, to_epoch

MAX_POINTS = 5_000
_STEPS = {Resolution.FIVE_MINUTES: FIVE_MINUTES, Resolution.HOUR: HOUR}
# Plant level: quantities that add up across devices; everything else (irradiance,
# temperatures, voltages, frequency, ...) is the mean of the devices that have data.
SUMMED_METRICS = frozenset(
    {
        "ac_power",
        "dc_power",
        "reactive_power",
        "battery_power",
        "import_power",
        "export_power",
        "energy_produced",
        "energy_today",
        "energy_total",
        "import_energy",
        "export_energy",
    }
)


class UnknownMetric(ValueError):
    """The metric is neither a group of ``METRIC_GROUPS`` nor a catalog key."""


class TooManyPoints(ValueError):
    """The range at this resolution would give more than :data:`MAX_POINTS` points."""

    def __init__(self, points: int):
        super().__init__(
            f"At most {MAX_POINTS} points per series; this range at this resolution gives {points}. "
            "Choose a coarser resolution or a shorter range."
        )
        self.points = points


@dataclass(frozen=True)
class SeriesColumns:
    """What a metric (group) becomes in a series: ``(label, metric key)`` columns and the unit."""

    columns: list[tuple[str, str]]
    unit: str


def series_columns_for(*, metric: str, device_ids: Sequence[int]) -> SeriesColumns:
    """Columns of ``metric``: a group (``panel_voltages`` → ``PV1..PVn`` for the inputs the
    devices report, n from their latest values), or a single catalog metric under ``value``.
    Raises :class:`UnknownMetric`. At most one query (latest values, for groups); the catalog
    comes from a per-process cache."""
    group = METRIC_GROUPS.get(metric)
    if group is not None:
        template, label = group
        if "{n}" not in template:
            return SeriesColumns([(label, template)], _unit_of(template))
        prefix, suffix = template.split("{n}")
        pattern = re.compile(re.escape(prefix) + r"(\d+)" + re.escape(suffix))
        reported = LatestValue.objects.filter(
            device_id__in=device_ids, metric__key__startswith=prefix, metric__key__endswith=suffix
        ).values_list("metric__key", flat=True)
        indexes = [int(match.group(1)) for key in reported if (match := pattern.fullmatch(key))]
        count = min(max(indexes, default=0), FAMILY_MAX)
        first = template.format(n=1)
        return SeriesColumns([(label.format(n=n), template.format(n=n)) for n in range(1, count + 1)], _unit_of(first))
    info = metric_info().get(metric)
    if info is None:
        info = metric_info(refresh=True).get(metric)  # added in the admin a moment ago?
    if info is None:
        raise UnknownMetric(metric)
    return SeriesColumns([("value", metric)], info.unit)


@dataclass(frozen=True)
class MetricInfo:
    id: int
    kind: str
    unit: str


_metric_info: dict[str, MetricInfo] | None = None
_metric_info_source: object = None


def metric_info(*, refresh: bool = False) -> dict[str, MetricInfo]:
    """key → id, kind, unit of every catalog metric, cached per process and rebuilt whenever the
    ingest catalog (``telemetry.ingest.metric_catalog``, 60 s) is: series requests then spend no
    query on the catalog, a metric added in the admin is served within a minute, and ids never
    disagree with the ones ingest and the folder use."""
    global _metric_info, _metric_info_source
    source = metric_catalog(refresh=refresh)
    if _metric_info is None or _metric_info_source is not source:
        _metric_info = {
            key: MetricInfo(pk, kind, unit)
            for pk, key, kind, unit in Metric.objects.values_list("id", "key", "kind", "unit")
        }
        _metric_info_source = source
    return _metric_info


def _unit_of(key: str) -> str:
    info = metric_info().get(key)
    return info.unit if info else ""


def series_points(*, resolution: str, start: datetime, end: datetime, tz: ZoneInfo) -> int:
    """How many buckets ``[start, end)`` has at ``resolution`` (not for raw), computed without
    building them, so a huge range is refused before any work."""
    if resolution == Resolution.DAY:
        first, last = start.astimezone(tz).date(), (end - timedelta(microseconds=1)).astimezone(tz).date()
        return (last - first).days + 1
    step = _STEPS[resolution]
    lo = floor_five(start) if resolution == Resolution.FIVE_MINUTES else floor_hour(start)
    return -(-(end - lo) // step)


def series_grid(*, resolution: str, start: datetime, end: datetime, tz: ZoneInfo) -> list[datetime]:
    """Bucket starts (UTC) covering ``[start, end)``: epoch-aligned 5 minutes, UTC hours, or
    plant-local midnights. Raises :class:`TooManyPoints` beyond :data:`MAX_POINTS`."""
    points = series_points(resolution=resolution, start=start, end=end, tz=tz)
    if points > MAX_POINTS:
        raise TooManyPoints(points)
    if resolution == Resolution.DAY:
        first = start.astimezone(tz).date()
        return [local_day_start(first + timedelta(days=n), tz) for n in range(points)]
    step = _STEPS[resolution]
    lo = floor_five(start) if resolution == Resolution.FIVE_MINUTES else floor_hour(start)
    return [lo + n * step for n in range(points)]


def _metrics(keys: Sequence[str]) -> dict[str, tuple[int, str]]:
    info = metric_info()
    return {key: (info[key].id, info[key].kind) for key in keys if key in info}


@dataclass
class SeriesData:
    """A bucketed series with its data quality (``telemetry.quality``), column per metric key.

    ``epochs``: bucket starts in Unix seconds (``grid`` as datetimes). ``completeness[i]``:
    share of the bucket's 5-minute slots with data (device) or of the devices' slots (plant:
    Σ slots / devices with data for the metrics in the range / slots in the bucket), 0 for a
    gap. ``devices_reporting[i]``: devices with data in the bucket (plant series only).
    ``flatlined[i]``: an hourly or daily bucket in which a should-vary metric carried one
    non-zero value in every reading."""

    epochs: list[int]
    values: dict[str, list[float | None]]
    completeness: list[float]
    devices_reporting: list[int] | None
    flatlined: list[bool]
    devices_expected: int

    @property
    def grid(self) -> list[datetime]:
        return [from_epoch(e) for e in self.epochs]

    def rows(self) -> list[dict]:
        """The classic shape: ``[{"timestamp": bucket, <metric key>: value | None, ...}]``."""
        columns = list(self.values.items())
        return [
            {"timestamp": bucket, **{key: values[i] for key, values in columns}} for i, bucket in enumerate(self.grid)
        ]


# A bucket's value by metric kind: the mean for gauges (the default), the last reading for counters
# and status words (an average status code means nothing), the sum for derived energy.
_MEAN, _LAST, _SUM = "mean", "last", "sum"
_MODES = {
    MetricKind.DERIVED.value: _SUM,
    MetricKind.COUNTER.value: _LAST,
    MetricKind.STATUS.value: _LAST,
    MetricKind.BITFIELD.value: _LAST,
}


def _series(
    *,
    device_ids: Sequence[int],
    metric_keys: Sequence[str],
    start: datetime,
    end: datetime,
    resolution: str,
    tz: ZoneInfo,
    combine: bool,
) -> SeriesData:
    """The buckets of ``[start, end)`` with values and quality. Works on epoch seconds
    throughout (a 30-day hourly series is 720 points: no datetime per point)."""
    metrics = _metrics(metric_keys)
    if resolution == Resolution.DAY:  # the end of the last local day
        grid = series_grid(resolution=resolution, start=start, end=end, tz=tz)
        if not grid:
            return SeriesData([], {key: [] for key in metric_keys}, [], [] if combine else None, [], 0)
        read_start = grid[0]
        read_end = local_day_start(grid[-1].astimezone(tz).date() + timedelta(days=1), tz)
        epochs = [to_epoch(bucket) for bucket in grid]
        ends = [*epochs[1:], to_epoch(read_end)]
        bucket_slots = [max(1, (hi - lo) // 300) for lo, hi in zip(epochs, ends, strict=True)]
    else:  # a regular grid: epochs straight from its first bucket, no datetime per bucket
        points = series_points(resolution=resolution, start=start, end=end, tz=tz)
        if points > MAX_POINTS:
            raise TooManyPoints(points)
        if points <= 0:
            return SeriesData([], {key: [] for key in metric_keys}, [], [] if combine else None, [], 0)
        read_start = floor_five(start) if resolution == Resolution.FIVE_MINUTES else floor_hour(start)
        read_end = end
        step = int(_STEPS[resolution].total_seconds())
        first = to_epoch(read_start)
        epochs = list(range(first, first + step * points, step))
        bucket_slots = [step // 300] * points
    wanted = [(key, *metrics.get(key, (None, ""))) for key in metric_keys]
    flat_keys = {key for key in metric_keys if should_vary(key)} if resolution != Resolution.FIVE_MINUTES else set()
    modes = {kind: _MODES.get(kind, _MEAN) for _key, _pk, kind in wanted}
    # Only the columns this series uses (each one fetched costs): rows are (device, metric, bucket,
    # count, sum, slots[, last][, single]).
    fields = ("count", "sum", "slots")
    fields += ("last",) if _LAST in modes.values() else ()
    fields += ("single",) if flat_keys else ()
    at_last = 3 + fields.index("last") if "last" in fields else None
    at_single = 3 + fields.index("single") if "single" in fields else None
    rows = (
        rollups_read_rows(
            device_ids=device_ids,
            metric_ids=[pk for pk, _ in metrics.values()],
            resolution=resolution,
            start=read_start,
            end=read_end,
            tz=tz,
            fields=fields,
        )
        if device_ids and metrics
        else []
    )
    points = len(epochs)
    position = {epoch: index for index, epoch in enumerate(epochs)}.get  # bucket start → point
    values: dict[str, list[float | None]] = {key: [None] * points for key, _pk, _kind in wanted}
    slots = [0] * points
    flatlined = [False] * points
    # metric id → (its column, how a bucket's value is taken, its key if flat lines are looked for)
    plan = {pk: (values[key], modes[kind], key if key in flat_keys else None) for key, pk, kind in wanted if pk}
    # One pass over the rows, a little arithmetic per row and nothing per gap. A plant series
    # collects each point's device values first (summed or averaged below).
    found: dict[tuple[int, int], list[float]] = defaultdict(list)  # (metric, point) → device values
    seen: dict[int, set[int]] = defaultdict(set)  # metric → devices with data in the range
    devices_in: list[set[int]] = [set() for _ in epochs] if combine else []
    for row in rows:
        index, count = position(row[2]), row[3]
        if index is None or not count:
            continue
        column, mode, flat = plan[row[1]]
        value = row[4] / count if mode is _MEAN else row[at_last] if mode is _LAST else row[4]
        if combine:
            found[(row[1], index)].append(value)
            seen[row[1]].add(row[0])
            devices_in[index].add(row[0])
        else:
            column[index] = value
        slots[index] += row[5]
        single = row[at_single] if flat else None
        if single is not None and bucket_is_flatlined(key=flat, count=count, low=single, high=single):
            flatlined[index] = True
    if combine:
        expected_devices = max((len(seen[pk]) for _key, pk, _kind in wanted if pk in seen), default=0)
        summed = {pk: key in SUMMED_METRICS for key, pk, _kind in wanted if pk}
        for (metric_id, index), items in found.items():
            plan[metric_id][0][index] = sum(items) if summed[metric_id] else sum(items) / len(items)
        reporting: list[int] | None = [len(devices) for devices in devices_in]
    else:
        expected_devices, reporting = 1, None
    columns = len(wanted) or 1
    scale = columns * max(expected_devices, 1)
    # Few distinct (slots filled, bucket size) pairs: one division and round each.
    pairs = list(zip(slots, bucket_slots, strict=True))
    shares = {pair: round(min(1.0, pair[0] / (pair[1] * scale)), 3) for pair in set(pairs)}
    completeness = [shares[pair] for pair in pairs]
    return SeriesData(epochs, values, completeness, reporting, flatlined, expected_devices)


def device_series(
    *, device: Device, metric_keys: Sequence[str], start: datetime, end: datetime, resolution: str
) -> list[dict]:
    """``[{"timestamp": bucket start, <metric key>: value | None, ...}]`` for every bucket of
    ``[start, end)`` at ``resolution`` (``raw``: every reading time instead). Values: mean for
    gauges, last for counters/status, energy (sum) for ``energy_produced``. Days are the
    plant's local days. Raises :class:`TooManyPoints`."""
    if resolution == Resolution.RAW:
        return _raw_series(device=device, metric_keys=metric_keys, start=start, end=end)
    return device_series_data(
        device=device, metric_keys=metric_keys, start=start, end=end, resolution=resolution
    ).rows()


def device_series_data(
    *, device: Device, metric_keys: Sequence[str], start: datetime, end: datetime, resolution: str
) -> SeriesData:
    """:func:`device_series` (not raw) with its data quality per bucket (:class:`SeriesData`)."""
    return _series(
        device_ids=[device.pk],
        metric_keys=metric_keys,
        start=start,
        end=end,
        resolution=resolution,
        tz=zone(device.plant.timezone),
        combine=False,
    )


def plant_series(
    *,
    plant: Plant,
    metric_keys: Sequence[str],
    start: datetime,
    end: datetime,
    resolution: str,
    device_ids: Sequence[int] | None = None,
) -> list[dict]:
    """The plant aggregate of every bucket: for each metric, the sum over the plant's devices of
    power and energy (:data:`SUMMED_METRICS`), the mean of the others (irradiance,
    temperatures...), over the devices with data in the bucket; ``None`` when none has any.
    Raw readings are not aggregated across devices (their times differ): 5min is the finest.
    ``device_ids`` saves the device query when the caller has them already."""
    return plant_series_data(
        plant=plant, metric_keys=metric_keys, start=start, end=end, resolution=resolution, device_ids=device_ids
    ).rows()


def plant_series_data(
    *,
    plant: Plant,
    metric_keys: Sequence[str],
    start: datetime,
    end: datetime,
    resolution: str,
    device_ids: Sequence[int] | None = None,
) -> SeriesData:
    """:func:`plant_series` with its data quality per bucket: completeness and devices
    reporting (:class:`SeriesData`)."""
    if resolution == Resolution.RAW:
        raise ValueError("plant series start at 5-minute resolution")
    if device_ids is None:
        device_ids = list(Device.objects.filter(plant=plant).values_list("id", flat=True))
    return _series(
        device_ids=device_ids,
        metric_keys=metric_keys,
        start=start,
        end=end,
        resolution=resolution,
        tz=zone(plant.timezone),
        combine=True,
    )


def _raw_series(*, device: Device, metric_keys: Sequence[str], start: datetime, end: datetime) -> list[dict]:
    """Every reading time in ``[start, end)``. At most ``MAX_POINTS`` rows per metric are read
    (no ORDER BY: the cap is checked before sorting, memory stays bounded)."""
    metrics = _metrics(metric_keys)
    if not metrics:
        return []
    key_of = {pk: key for key, (pk, _kind) in metrics.items()}
    limit = MAX_POINTS * len(metrics) + 1
    readings = list(
        Reading.objects.filter(device_id=device.pk, metric_id__in=key_of, ts__gte=start, ts__lt=end).values_list(
            "metric_id", "ts", "value"
        )[:limit]
    )
    by_time: dict[datetime, dict] = {}
    for metric_id, ts, value in readings:
        by_time.setdefault(ts, {})[key_of[metric_id]] = value
    if len(readings) >= limit or len(by_time) > MAX_POINTS:
        raise TooManyPoints(max(len(by_time), MAX_POINTS + 1))
    return [{"timestamp": ts, **{key: by_time[ts].get(key) for key in metric_keys}} for ts in sorted(by_time)]
