"""The CSV-file door of the ingest service: ``manage.py import_telemetry FILE --plant CODE``.

Files from data loggers and exports are large (years of devices and metrics), so the import

* streams: a ``csv.reader`` over the open file, one batch of rows in memory at a time, each batch
  written through :func:`telemetry.ingest.telemetry_ingest` (validation, idempotent store) — memory
  does not grow with the file;
* is resumable: after every committed batch a small JSON checkpoint records the byte offset and
  line reached, with the file's size, mtime and a hash of its header. Running the same command
  again seeks past the committed part. The checkpoint is written *after* the commit, so at worst
  the last batch is replayed, which the idempotent service turns into duplicates. A file changed
  since the checkpoint is imported from the start (again harmless, only slower);
* reports: progress after each batch, and a summary with the top rejection reasons and sample
  line numbers so a broken row can be found in the file.

Two layouts (``fmt="auto"`` picks long when there are ``metric`` and ``value`` columns):

* wide — ``timestamp, device|serialNumber|deviceId, <metric key>, <metric key>, ...``
* long — ``timestamp, device|serialNumber|deviceId, metric, value``

``device``/``serialNumber`` is a serial number, ``deviceId`` a numeric id; either is resolved
among the devices of the given plant only. Timestamps need an offset or ``Z`` (ISO 8601) or are
Unix epoch seconds, as everywhere else.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

from django.conf import settings

from plants.models import Plant

from .ingest import IngestResult, metric_catalog, telemetry_ingest

CHECKPOINT_SUFFIX = ".solarhub-import.json"
CHECKPOINT_VERSION = 1
_TIME_COLUMNS = ("timestamp", "ts")
_SERIAL_COLUMNS = ("device", "serialnumber", "serial_number", "serial")
_ID_COLUMNS = ("deviceid", "device_id")
_MAX_REASONS = 200  # distinct reasons kept; the rest are counted as "other" (memory stays bounded)
_MAX_SAMPLES = 20


class ImportProblem(ValueError):
    """The file cannot be imported as asked (missing columns, unreadable header)."""


class ImportInterrupted(Exception):
    """The import stopped part-way (error or Ctrl-C). Everything up to ``summary.next_line`` is
    committed and checkpointed; running the import again resumes there."""

    def __init__(self, summary: ImportSummary, reason: str):
        super().__init__(reason)
        self.summary = summary
        self.reason = reason


@dataclass
class Layout:
    """Where things are in a row."""

    format: str  # "wide" | "long"
    width: int
    time_index: int
    serial_index: int | None
    id_index: int | None
    metrics: list[tuple[int, str]] = field(default_factory=list)  # wide: (column index, metric key)
    metric_index: int | None = None  # long
    value_index: int | None = None  # long


@dataclass
class ImportSummary:
    """What one run did (``rows``…``rejected`` count this run; ``total_*`` include earlier runs of
    the same checkpoint)."""

    path: str
    plant_code: str
    format: str = ""
    checkpoint: str = ""
    file_size: int = 0
    resumed_at_line: int | None = None  # first line this run read, when resuming
    rows: int = 0
    batches: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    total_rows: int = 0
    total_accepted: int = 0
    total_duplicates: int = 0
    total_rejected: int = 0
    offset: int = 0  # bytes committed
    next_line: int = 2  # first line not yet committed
    completed: bool = False
    started: float = field(default_factory=time.monotonic)
    finished: float | None = None
    reasons: Counter = field(default_factory=Counter)
    samples: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def elapsed(self) -> float:
        return (self.finished or time.monotonic()) - self.started

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.elapsed if self.elapsed > 0 else 0.0

    def note(self, line: int, where: str, message: str) -> None:
        """Remember a problem: counted by reason (numbers folded so that reasons group, and at
        most ``_MAX_REASONS`` kept so memory stays bounded), plus the first few with their line."""
        reason = f"{where}: {_NUMBER.sub('#', message)}" if where else _NUMBER.sub("#", message)
        if reason in self.reasons or len(self.reasons) < _MAX_REASONS:
            self.reasons[reason] += 1
        else:
            self.reasons["other reasons"] += 1
        if len(self.samples) < _MAX_SAMPLES:
            self.samples.append(f"line {line}: {where + ': ' if where else ''}{message}")

    def reject_row(self, line: int, message: str) -> None:
        """A row the reader itself cannot use (bad CSV, too many cells): one rejected reading."""
        self.rejected += 1
        self.total_rejected += 1
        self.note(line, "row", message)

    def report(self) -> str:
        """The closing summary for people."""
        lines = [
            f"{self.path} → plant {self.plant_code} ({self.format} format)",
            f"  {'resumed at line ' + format(self.resumed_at_line, ',') + '; ' if self.resumed_at_line else ''}"
            f"{self.rows:,} rows in {self.batches:,} batches, {self.elapsed:.1f} s, {self.rows_per_second:,.0f} rows/s",
            f"  values: {self.accepted:,} accepted, {self.duplicates:,} duplicates, {self.rejected:,} rejected",
        ]
        if self.resumed_at_line:
            lines.append(
                f"  all runs: {self.total_rows:,} rows, {self.total_accepted:,} accepted, "
                f"{self.total_duplicates:,} duplicates, {self.total_rejected:,} rejected"
            )
        if self.reasons:
            lines.append("  top rejection reasons (problems):")
            lines += [f"    {count:>9,}  {reason}" for reason, count in self.reasons.most_common(5)]
            lines.append("  first rejections:")
            lines += [f"    {sample}" for sample in self.samples[:10]]
        lines += [f"  warning: {warning}" for warning in self.warnings]
        if self.completed:
            lines.append("  completed.")
        else:
            lines.append(f"  NOT completed: committed up to line {self.next_line - 1:,}; checkpoint {self.checkpoint}")
        return "\n".join(lines)


_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:e[+-]?\d+)?")


def telemetry_import_csv(
    *,
    path: str | os.PathLike,
    plant: Plant,
    fmt: str = "auto",
    batch_size: int = 5000,
    resume: bool = True,
    checkpoint: str | os.PathLike | None = None,
    progress: Callable[[ImportSummary], None] | None = None,
    stop_after_batches: int | None = None,
) -> ImportSummary:
    """Import a telemetry CSV for ``plant`` through the ingest service, in batches of
    ``batch_size`` rows, checkpointing after each committed batch.

    ``resume`` continues after the last committed batch of an earlier run of the same, unchanged
    file; ``progress`` is called after each batch. ``stop_after_batches`` ends the run early as an
    interruption would (for tests and smoke checks). Raises :class:`ImportProblem` before any
    write when the file does not fit, :class:`ImportInterrupted` when a batch fails part-way."""
    if fmt not in {"auto", "wide", "long"}:
        raise ImportProblem(f"format must be auto, wide or long, not {fmt!r}")
    if batch_size < 1:
        raise ImportProblem("batch size must be at least 1")
    source = Path(path)
    summary = ImportSummary(path=str(source), plant_code=plant.plant_code)
    try:
        handle = source.open("rb")
    except OSError as exc:
        raise ImportProblem(f"cannot read {source}: {exc.strerror or exc}") from None
    with handle:
        stat = os.fstat(handle.fileno())
        header_raw = handle.readline()
        header = next(csv.reader([header_raw.decode("utf-8-sig", errors="replace")]), [])
        layout = _layout([name.strip() for name in header], fmt)
        summary.format = layout.format
        summary.file_size = stat.st_size
        summary.warnings += _unknown_metric_warnings(layout)
        identity = {
            "size": stat.st_size,
            "mtime_ns": stat.st_mtime_ns,
            "header_sha256": hashlib.sha256(header_raw).hexdigest(),
            "plant": plant.plant_code,
            "format": layout.format,
        }
        store = Checkpoint(Path(checkpoint) if checkpoint else checkpoint_path_for(source), identity)
        summary.checkpoint = str(store.path)
        summary.offset, summary.next_line = handle.tell(), 2
        saved = store.load() if resume else None
        if saved is not None:
            summary.offset, summary.next_line = saved["offset"], saved["line"]
            summary.resumed_at_line = saved["line"]
            for name in ("rows", "accepted", "duplicates", "rejected"):
                setattr(summary, f"total_{name}", saved.get(name, 0))
        elif resume and store.stale_reason:
            summary.warnings.append(f"checkpoint ignored ({store.stale_reason}); imported from the start")
        handle.seek(summary.offset)
        try:
            _run(handle, layout, plant, summary, store, batch_size, progress, stop_after_batches)
        except (Exception, KeyboardInterrupt) as exc:
            summary.finished = time.monotonic()
            reason = "interrupted" if isinstance(exc, KeyboardInterrupt) else f"{type(exc).__name__}: {exc}"
            raise ImportInterrupted(summary, reason) from exc
    summary.finished = time.monotonic()
    if summary.completed:
        store.remove()
    return summary


def checkpoint_path_for(source: Path) -> Path:
    """``FILE.solarhub-import.json`` beside the file; under ``SOLARHUB_DATA_DIR/imports`` when
    the file's directory is read-only (a mounted archive, say)."""
    beside = source.with_name(source.name + CHECKPOINT_SUFFIX)
    if os.access(source.resolve().parent, os.W_OK):
        return beside
    digest = hashlib.sha256(str(source.resolve()).encode()).hexdigest()[:16]
    return Path(settings.DATA_DIR) / "imports" / f"{digest}-{source.name}{CHECKPOINT_SUFFIX}"


class Checkpoint:
    """The JSON file that makes an import resumable. Written atomically (temp file + rename), so
    a crash mid-write leaves the previous checkpoint, never a torn one."""

    def __init__(self, path: Path, identity: dict[str, Any]):
        self.path = path
        self.identity = identity
        self.stale_reason = ""

    def load(self) -> dict[str, Any] | None:
        try:
            data = json.loads(self.path.read_text())
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            self.stale_reason = "unreadable"
            return None
        if not isinstance(data, dict) or data.get("version") != CHECKPOINT_VERSION:
            self.stale_reason = "unknown version"
            return None
        changed = [key for key, value in self.identity.items() if data.get(key) != value]
        if changed:
            self.stale_reason = f"{', '.join(changed)} changed since it was written"
            return None
        if not isinstance(data.get("offset"), int) or not isinstance(data.get("line"), int):
            self.stale_reason = "no position"
            return None
        return data

    def save(self, summary: ImportSummary) -> None:
        data = {
            "version": CHECKPOINT_VERSION,
            "file": summary.path,
            **self.identity,
            "offset": summary.offset,
            "line": summary.next_line,
            "rows": summary.total_rows,
            "accepted": summary.total_accepted,
            "duplicates": summary.total_duplicates,
            "rejected": summary.total_rejected,
            "updated_at": datetime.now(UTC).isoformat(),
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_name(self.path.name + ".tmp")
        with temporary.open("w") as out:
            json.dump(data, out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, self.path)

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)


class _Lines:
    """Decoded lines of a binary file, counting the bytes and lines handed out. ``csv.reader``
    pulls lines lazily and only until a record is complete, so after each record ``offset`` is
    exactly where the next record starts — the resumable position."""

    def __init__(self, handle: BinaryIO, offset: int, line: int):
        self.handle = handle
        self.offset = offset
        self.line = line  # lines consumed so far (header included)

    def __iter__(self) -> Iterator[str]:
        for raw in self.handle:
            self.offset += len(raw)
            self.line += 1
            yield raw.decode("utf-8", errors="replace")


def _run(
    handle: BinaryIO,
    layout: Layout,
    plant: Plant,
    summary: ImportSummary,
    store: Checkpoint,
    batch_size: int,
    progress: Callable[[ImportSummary], None] | None,
    stop_after_batches: int | None,
) -> None:
    lines = _Lines(handle, summary.offset, summary.next_line - 1)
    reader = csv.reader(lines)
    readings: list[dict[str, Any]] = []
    where: list[int] = []  # line of each reading
    rows = 0
    while True:
        first_line = lines.line + 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            rows += 1
            summary.reject_row(first_line, f"not valid CSV ({exc})")
            cells = None
        if cells is not None and any(cell.strip() for cell in cells):
            rows += 1
            if len(cells) > layout.width:
                summary.reject_row(first_line, f"{len(cells)} cells but the header has {layout.width} columns")
            else:
                readings.append(_reading(cells, layout))
                where.append(first_line)
        if rows >= batch_size:
            _commit(readings, where, rows, lines, plant, summary, store)
            readings, where, rows = [], [], 0
            if progress is not None:
                progress(summary)
            if stop_after_batches is not None and summary.batches >= stop_after_batches:
                return
    if rows or readings:
        _commit(readings, where, rows, lines, plant, summary, store)
        if progress is not None:
            progress(summary)
    summary.completed = True


def _commit(
    readings: list[dict[str, Any]],
    where: list[int],
    rows: int,
    lines: _Lines,
    plant: Plant,
    summary: ImportSummary,
    store: Checkpoint,
) -> None:
    """Write one batch, then move the checkpoint past it (never before the commit)."""
    result = telemetry_ingest(plant_ids=[plant.id], readings=readings) if readings else IngestResult()
    for error in result.errors:  # the service lists at most 1,000 problems per batch; its counts stay exact
        summary.note(where[error["index"]], error["field"], error["message"])
    summary.rejected += result.rejected
    summary.total_rejected += result.rejected
    summary.accepted += result.accepted
    summary.total_accepted += result.accepted
    summary.duplicates += result.duplicates
    summary.total_duplicates += result.duplicates
    summary.rows += rows
    summary.total_rows += rows
    summary.batches += 1
    summary.offset, summary.next_line = lines.offset, lines.line + 1
    store.save(summary)


def _reading(cells: list[str], layout: Layout) -> dict[str, Any]:
    def cell(index: int | None) -> str:
        return cells[index].strip() if index is not None and index < len(cells) else ""

    reading: dict[str, Any] = {"timestamp": cell(layout.time_index)}
    if cell(layout.id_index):
        reading["deviceId"] = cell(layout.id_index)
    if cell(layout.serial_index):
        reading["serialNumber"] = cell(layout.serial_index)
    if layout.format == "long":
        reading["metrics"] = {cell(layout.metric_index): _number(cell(layout.value_index))}
    else:
        reading["metrics"] = {key: _number(value) for index, key in layout.metrics if (value := cell(index)) != ""}
    return reading


def _number(text: str) -> float | str:
    """A float, or the text itself so the service rejects it with its reason."""
    try:
        return float(text)
    except ValueError:
        return text


def _layout(columns: list[str], fmt: str) -> Layout:
    """Find the columns; :class:`ImportProblem` naming every missing one."""
    if not any(columns):
        raise ImportProblem("the file is empty: the first line must name the columns")
    lower = [name.lower() for name in columns]
    duplicated = sorted({name for name in columns if columns.count(name) > 1})
    if duplicated:
        raise ImportProblem(f"duplicate column(s): {', '.join(duplicated)}")

    def find(names: tuple[str, ...]) -> int | None:
        return next((lower.index(name) for name in names if name in lower), None)

    time_index, serial_index, id_index = find(_TIME_COLUMNS), find(_SERIAL_COLUMNS), find(_ID_COLUMNS)
    long_format = fmt == "long" or (fmt == "auto" and "metric" in lower and "value" in lower)
    missing = []
    if time_index is None:
        missing.append("timestamp")
    if serial_index is None and id_index is None:
        missing.append("device (or serialNumber / deviceId)")
    if long_format:
        missing += [name for name in ("metric", "value") if name not in lower]
    if missing:
        raise ImportProblem(f"missing column(s): {', '.join(missing)} (columns found: {', '.join(columns)})")
    if long_format:
        metric_index, value_index = lower.index("metric"), lower.index("value")
        return Layout("long", len(columns), time_index, serial_index, id_index, [], metric_index, value_index)
    fixed = {time_index, serial_index, id_index}
    metrics = [(index, name) for index, name in enumerate(columns) if index not in fixed and name]
    if not metrics:
        raise ImportProblem("missing column(s): at least one metric column (wide format), or metric and value (long)")
    return Layout("wide", len(columns), time_index, serial_index, id_index, metrics)


def _unknown_metric_warnings(layout: Layout) -> list[str]:
    catalog = metric_catalog()
    unknown = [key for _, key in layout.metrics if key not in catalog]
    if not unknown:
        return []
    return [f"column(s) {', '.join(unknown)} are not in the metric catalog; their values are rejected"]
