"""``manage.py import_plant_config FILE [--dry-run]``: create or update one plant from a plant
config (JSON, docs/plant-config.md) through :func:`plants.importers.plant_config_import`."""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from plants.importers import ImportFailed, plant_config_import


def failure_message(path: str, problems: list[str]) -> str:
    """The CommandError text: every problem, one per line (Django prints it to stderr)."""
    return "\n".join([f"{path}: {len(problems)} problem(s), nothing was imported:", *(f"  - {p}" for p in problems)])


class Command(BaseCommand):
    help = "Create or update one plant with its panel specs and devices from a plant config JSON file."

    def add_arguments(self, parser):
        parser.add_argument("file", help="Path to the plant config (JSON, UTF-8).")
        parser.add_argument("--dry-run", action="store_true", help="Validate and report the changes; write nothing.")

    def handle(self, *args, file: str, dry_run: bool, **options):
        try:
            text = Path(file).read_text(encoding="utf-8-sig")
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc.strerror or exc}") from None
        except UnicodeDecodeError as exc:
            raise CommandError(f"{file} is not UTF-8 text (byte {exc.start}).") from None

        duplicates: list[str] = []

        def pairs(items: list[tuple[str, object]]) -> dict:
            seen: dict[str, object] = {}
            for key, value in items:
                if key in seen:
                    duplicates.append(f"{key}: duplicate key in one JSON object (each key may appear once)")
                seen[key] = value
            return seen

        try:
            data = json.loads(text, object_pairs_hook=pairs)
        except json.JSONDecodeError as exc:
            where = f"line {exc.lineno}, column {exc.colno}"
            raise CommandError(f"{file} is not valid JSON: {exc.msg} at {where}.") from None
        try:
            result = plant_config_import(data=data, dry_run=dry_run or bool(duplicates))
        except ImportFailed as exc:
            raise CommandError(failure_message(file, duplicates + exc.problems)) from None
        if duplicates:
            raise CommandError(failure_message(file, duplicates))
        self.stdout.write(result.summary())
