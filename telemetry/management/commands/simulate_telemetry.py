"""``manage.py simulate_telemetry --plant CODE --days N [--end DATE] [--step 5min] [--seed 42] [--no-faults]``

Thin wrapper over ``telemetry.simulator.telemetry_simulate``: N whole plant-local days ending
with ``--end`` (default: today, up to now).
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from plants.models import Plant
from telemetry.simulator import telemetry_simulate

_STEP = re.compile(r"^\s*(\d+)\s*(m|min|mins|minutes?|h|hours?)?\s*$", re.IGNORECASE)


def parse_step(raw: str) -> int:
    """``5min``, ``15m``, ``1h`` or a bare number of minutes → minutes (1..60)."""
    match = _STEP.match(raw)
    if not match:
        raise CommandError(f"--step {raw!r}: give minutes such as 5min, 15m or 1h")
    minutes = int(match.group(1)) * (60 if (match.group(2) or "m").lower().startswith("h") else 1)
    if not 1 <= minutes <= 60:
        raise CommandError("--step must be between 1 minute and 1 hour")
    return minutes


class Command(BaseCommand):
    help = (
        "Simulate realistic telemetry for a plant (pvlib + bundled TMY3 weather) and store it through the "
        "ingest fast path. Deterministic per --seed; re-running a range writes nothing new."
    )

    def add_arguments(self, parser):
        parser.add_argument("--plant", required=True, help="Plant code, e.g. DEMO-ROOF-01.")
        parser.add_argument("--days", type=int, default=1, help="Number of plant-local days (default 1).")
        parser.add_argument("--end", help="Last day, YYYY-MM-DD in the plant's time zone (default: today).")
        parser.add_argument("--step", default="5min", help="Sampling step: 5min (default), 15m, 1h...")
        parser.add_argument("--seed", type=int, default=42, help="Random seed (default 42).")
        parser.add_argument("--no-faults", action="store_true", help="No outage and no stuck sensor.")
        parser.add_argument(
            "--string-boxes-per-inverter",
            type=int,
            default=None,
            help="Report only the first N string boxes of each inverter (default: all).",
        )

    def handle(self, *args, **options):
        plant = Plant.objects.filter(plant_code=options["plant"]).first()
        if plant is None:
            raise CommandError(f"No plant with code {options['plant']!r}.")
        if options["days"] < 1:
            raise CommandError("--days must be at least 1.")
        if options["seed"] < 0:
            raise CommandError("--seed must not be negative.")
        boxes = options["string_boxes_per_inverter"]
        if boxes is not None and boxes < 0:
            raise CommandError("--string-boxes-per-inverter must not be negative.")
        step = parse_step(options["step"])
        zone = ZoneInfo(plant.timezone)
        if options["end"]:
            try:
                last_day = date.fromisoformat(options["end"])
            except ValueError as exc:
                raise CommandError(f"--end {options['end']!r} is not a date (YYYY-MM-DD).") from exc
        else:
            last_day = timezone.now().astimezone(zone).date()
        first_day = last_day - timedelta(days=options["days"] - 1)
        result = telemetry_simulate(
            plant=plant,
            start=datetime.combine(first_day, time(), tzinfo=zone),
            end=datetime.combine(last_day + timedelta(days=1), time(), tzinfo=zone),
            step_minutes=step,
            seed=options["seed"],
            faults=not options["no_faults"],
            max_string_boxes_per_inverter=boxes,
        )
        self.stdout.write(result.summary())
        if result.rows_generated == 0:
            self.stdout.write(self.style.WARNING("Nothing to simulate in that range (future, or no devices)."))
        else:
            self.stdout.write(self.style.SUCCESS(f"{result.rows_written:,} readings written."))
