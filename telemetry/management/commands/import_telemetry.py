"""``manage.py import_telemetry FILE --plant CODE [--format auto|wide|long] [--batch 5000]
[--resume/--no-resume]``: stream a telemetry CSV into one plant through the ingest service,
resumably (see :mod:`telemetry.importing`)."""

from __future__ import annotations

import argparse

from django.core.management.base import BaseCommand, CommandError

from plants.models import Plant
from solarhub import background
from telemetry.importing import ImportInterrupted, ImportProblem, ImportSummary, telemetry_import_csv


class Command(BaseCommand):
    help = (
        "Import a telemetry CSV (wide: timestamp, device, <metric>...; long: timestamp, device, metric, value) "
        "into one plant. Streams in constant memory; re-run after an interruption to resume."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", metavar="FILE", help="CSV file (UTF-8, with or without BOM).")
        parser.add_argument("--plant", required=True, metavar="CODE", help="The plant's plant_code.")
        parser.add_argument("--format", dest="fmt", choices=["auto", "wide", "long"], default="auto")
        parser.add_argument("--batch", type=int, default=5000, help="Rows per committed batch (default 5000).")
        parser.add_argument(
            "--resume",
            action=argparse.BooleanOptionalAction,
            default=True,
            help="Continue after the last committed batch of an earlier run (default); --no-resume starts over.",
        )
        parser.add_argument("--checkpoint", metavar="PATH", help="Checkpoint (default: FILE.solarhub-import.json).")
        parser.add_argument(
            "--progress-every", type=int, default=50_000, metavar="N", help="Print progress every N rows."
        )
        parser.add_argument("--stop-after-batches", type=int, help=argparse.SUPPRESS)  # tests and smoke checks

    def handle(self, *args, file: str, plant: str, fmt: str, batch: int, resume: bool, **options):
        target = Plant.objects.filter(plant_code=plant).first()
        if target is None:
            raise CommandError(f"No plant with plant_code {plant!r}.")
        if batch < 1:
            raise CommandError("--batch must be at least 1.")
        every = max(1, options["progress_every"])
        printed = {"rows": 0}

        def progress(summary: ImportSummary) -> None:
            if summary.rows - printed["rows"] < every:
                return
            printed["rows"] = summary.rows
            self.stderr.write(_progress_line(summary))

        try:
            summary = telemetry_import_csv(
                path=file,
                plant=target,
                fmt=fmt,
                batch_size=batch,
                resume=resume,
                checkpoint=options["checkpoint"],
                progress=progress if options["verbosity"] >= 1 else None,
                stop_after_batches=options["stop_after_batches"],
            )
        except ImportProblem as exc:
            raise CommandError(f"{file}: {exc}") from None
        except ImportInterrupted as exc:
            self.stdout.write(exc.summary.report())
            raise CommandError(
                f"Import stopped ({exc.reason}). Lines up to {exc.summary.next_line - 1:,} are committed; "
                "run the same command again to resume."
            ) from exc
        finally:
            # Without a broker each committed batch hands its alarm evaluation to the background
            # thread (coalesced, overlapping the import): the alarms are evaluated when we return.
            background.drain()
        self.stdout.write(summary.report())


def _progress_line(summary: ImportSummary) -> str:
    share = summary.offset / summary.file_size if summary.file_size else 1.0
    bar = "#" * int(share * 30)
    return (
        f"[{bar:<30}] {share:6.1%}  {summary.total_rows:>12,} rows  {summary.rows_per_second:>9,.0f} rows/s  "
        f"{summary.accepted:,} accepted, {summary.duplicates:,} duplicates, {summary.rejected:,} rejected"
    )
