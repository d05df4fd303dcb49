"""What the plants services ask of the feature apps without importing them (the layering
contract, ``solarhub/tests/test_layering.py``: ``plants`` imports no feature app).

* **Signals** (Django's dispatcher, like ``telemetry.signals.readings_stored``) for lifecycle
  facts the plants services announce and any number of apps react to, inside the caller's
  transaction. The feature apps connect their receivers in ``AppConfig.ready()``.
* **One provider** for an answer plants shows but does not compute (the plant model readiness,
  owned by forecasting): exactly one implementation must answer and a missing one must fail
  loudly, which a signal's list of responses would not do.
"""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import ImproperlyConfigured
from django.dispatch import Signal

# ``plant=``: a plant was created (the API's plant_create, an import, the admin). alarms: the
# default rule set.
plant_created = Signal()

# ``device_ids=``: these devices (one, or all of a plant) are about to be deleted. telemetry:
# their raw readings (no FK on the readings table, so nothing cascades).
devices_deleting = Signal()

# ``plant=, by=``: a previous owner or installer lost the plant; ``by`` is the acting account,
# ``None`` for an operator at the shell. Receivers revoke what the previous people held and
# return how many credentials they revoked (telemetry: the plant's ingest keys).
plant_handed_over = Signal()


def plant_created_send(*, plant) -> None:
    """Send :data:`plant_created` (every way of creating a plant calls this once, after the save)."""
    plant_created.send(sender=type(plant), plant=plant)


def plant_handed_over_send(*, plant, by) -> int:
    """Send :data:`plant_handed_over`; the number of credentials the receivers revoked."""
    return sum(count for _receiver, count in plant_handed_over.send(sender=type(plant), plant=plant, by=by) if count)


_readiness: dict[str, Callable[..., dict]] = {}


def plant_model_readiness_register(provider: Callable[..., dict]) -> None:
    """forecasting registers ``forecasting.selectors.plant_model_readiness`` here."""
    _readiness["provider"] = provider


def plant_model_readiness(*, plant) -> dict:
    """What the plant record still lacks for the features that need the plant model:
    ``{"ready", "features", "missing", "errors"}`` (``forecasting.selectors``)."""
    provider = _readiness.get("provider")
    if provider is None:
        raise ImproperlyConfigured("No plant model readiness provider: forecasting registers it in its AppConfig.")
    return provider(plant=plant)
