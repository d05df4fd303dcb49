"""Celery tasks of the collector: thin, take ids, call a service.

``dispatch_due`` (beat, every 30 s) claims the due devices and fans them out in batches of
``COLLECTOR_BATCH``; each ``poll_devices`` reads its batch concurrently (at most
``COLLECTOR_CONCURRENCY`` in flight) and stores through the ingest service. A redelivered batch
is harmless: readings are stamped with their poll slot, so a second poll stores nothing new.
"""

from __future__ import annotations

from celery import shared_task

from solarhub.celery import BaseTask


@shared_task(base=BaseTask, name="collector.dispatch_due")
def dispatch_due() -> int:
    from django.conf import settings

    from collector.services import collection_dispatch_due

    ids = collection_dispatch_due()
    size = settings.COLLECTOR_BATCH
    for start in range(0, len(ids), size):
        poll_devices.delay(ids[start : start + size])
    return len(ids)


@shared_task(base=BaseTask, name="collector.poll_devices")
def poll_devices(config_ids: list[int]) -> dict:
    from collector.services import collection_poll

    results = collection_poll(config_ids=config_ids)
    return {"polled": len(results), "failed": sum(1 for r in results if not r.ok)}
