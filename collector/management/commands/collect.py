"""Poll devices now: ``manage.py collect --device ID --once`` (reads and stores, like the beat
task does), ``--dry-run`` (reads, prints, stores nothing); without ``--device`` the due devices
are claimed and polled; without ``--once`` it keeps doing that every ``--every`` seconds (a
collector on the site's network without a Celery beat)."""

from __future__ import annotations

import json
import time

from django.core.management.base import BaseCommand, CommandError

from collector.models import CollectionConfig
from collector.services import collection_dispatch_due, collection_poll, target_of, targets_read


class Command(BaseCommand):
    help = "Poll devices through their collection config (SunSpec Modbus TCP, HTTP JSON)."

    def add_arguments(self, parser):
        parser.add_argument("--device", type=int, action="append", help="Device id (repeatable).")
        parser.add_argument("--once", action="store_true", help="Poll once and exit.")
        parser.add_argument("--dry-run", action="store_true", help="Read and print; store nothing.")
        parser.add_argument("--every", type=float, default=10.0, help="Seconds between rounds without --once.")

    def handle(self, *args, device=None, once=False, dry_run=False, every=10.0, **options):
        failed = 0
        while True:
            if device:
                configs = list(CollectionConfig.objects.select_related("device").filter(device_id__in=device))
                missing = set(device) - {c.device_id for c in configs}
                if missing:
                    raise CommandError(f"No collection config for device(s) {sorted(missing)}.")
            if dry_run:
                if not device:
                    raise CommandError("--dry-run needs --device.")
                results = targets_read(targets=[target_of(c) for c in configs])
            else:
                ids = [c.id for c in configs] if device else collection_dispatch_due()
                results = collection_poll(config_ids=ids)
            for result in results:
                failed += not result.ok
                self._print(result)
            if once:
                break
            time.sleep(max(1.0, every))
        if failed and once:
            raise CommandError(f"{failed} poll(s) failed.")

    def _print(self, result) -> None:
        if result.ok:
            stored = result.stored or {}
            self.stdout.write(
                f"device {result.device_id}: {len(result.values)} values in {result.duration_ms:.1f} ms"
                + (
                    f", stored {stored.get('accepted', 0)} new, {stored.get('duplicates', 0)} already there"
                    if stored
                    else ""
                )
            )
            self.stdout.write(json.dumps(result.values, sort_keys=True))
        else:
            self.stderr.write(f"device {result.device_id}: {result.error_code}: {result.error}")
