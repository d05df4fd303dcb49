"""``manage.py dispatch_import FILE --plant CODE``: seed 003's schedule rows from CSV."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from plants.models import Plant
from storage.services import dispatch_events_import


class Command(BaseCommand):
    help = "Import dispatch events (CSV with the DispatchEvent field names as header) into a plant."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--plant", required=True, help="The plant's plant_code.")

    def handle(self, *args, file: str, plant: str, **options):
        target = Plant.objects.filter(plant_code=plant).first()
        if target is None:
            raise CommandError(f"No plant with code {plant!r}.")
        try:
            count = dispatch_events_import(plant=target, text=Path(file).read_text(encoding="utf-8-sig"))
        except (OSError, ValueError) as exc:
            raise CommandError(f"Nothing imported: {exc}") from exc
        self.stdout.write(f"{count} dispatch event(s) imported into {target.plant_code}.")
