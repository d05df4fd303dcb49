"""``manage.py import_devices CSV --plant CODE [--dry-run]``: bulk device onboarding of one plant
from a spreadsheet (CSV, docs/plant-config.md) through :func:`plants.importers.devices_csv_import`."""

from __future__ import annotations

import csv

from django.core.management.base import BaseCommand, CommandError

from plants.importers import ImportFailed, devices_csv_import
from plants.models import Plant

from .import_plant_config import failure_message


class Command(BaseCommand):
    help = "Create or update the devices of one plant from a CSV file (one device per row, matched by serial)."

    def add_arguments(self, parser):
        parser.add_argument("csv_file", metavar="CSV", help="Path to the CSV file (UTF-8, with or without BOM).")
        parser.add_argument("--plant", required=True, metavar="CODE", help="The plant's plant_code.")
        parser.add_argument("--dry-run", action="store_true", help="Validate and report the changes; write nothing.")

    def handle(self, *args, csv_file: str, plant: str, dry_run: bool, **options):
        target = Plant.objects.filter(plant_code=plant).first()
        if target is None:
            raise CommandError(f"No plant with plant_code {plant!r}.")
        line = 0
        try:
            with open(csv_file, encoding="utf-8-sig", newline="") as handle:
                reader = csv.DictReader(handle)
                columns = [c.strip() for c in reader.fieldnames or []]
                reader.fieldnames = columns
                rows = []
                for row in reader:
                    rows.append(row)
                    line = reader.line_num
        except OSError as exc:
            raise CommandError(f"Cannot read {csv_file}: {exc.strerror or exc}") from None
        except UnicodeDecodeError as exc:
            raise CommandError(f"{csv_file} is not UTF-8 text (byte {exc.start}).") from None
        except csv.Error as exc:
            raise CommandError(f"{csv_file} is not valid CSV after line {line}: {exc}") from None
        if not columns:
            raise CommandError(f"{csv_file} is empty: the first line must name the columns.")
        try:
            result = devices_csv_import(plant=target, rows=rows, dry_run=dry_run, columns=columns)
        except ImportFailed as exc:
            raise CommandError(failure_message(csv_file, exc.problems)) from None
        self.stdout.write(result.summary())
