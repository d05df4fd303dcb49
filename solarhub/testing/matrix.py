"""The permission matrix (OWASP API1/API5): every URL pattern x method x persona x
{own plant, other plant}, with the status each must answer.

Each app lists its routes in ``<app>/tests/matrix.py`` as ``MATRIX: list[Route]``;
``solarhub/tests/test_permission_matrix.py`` runs them all and fails when a URL pattern (and
method) of the API has no entry — a route without a matrix entry is a bug.

Personas: ``anonymous``, ``customer`` (owns the own plant), ``installer`` (installs it),
``plant_admin`` and ``outsider`` (owns the other plant, installed by a rival installer).

List, summary and analytics routes also say what their answer must cover (``visible``, a
:class:`Visible`): the plant or device ids read from the body must be exactly those of the
caller's plants (paperless-ngx's ``assert_visible_document_ids``), not merely a 200.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver

PERSONAS = ("anonymous", "customer", "installer", "plant_admin", "outsider")

# Which of the world's two plants each persona sees (anonymous: none, it gets a 401).
TARGETS_SEEN_BY: dict[str, tuple[str, ...]] = {
    "anonymous": (),
    "customer": ("own",),
    "installer": ("own",),
    "plant_admin": ("own", "other"),
    "outsider": ("other",),
}


@dataclass
class World:
    """Everything a route needs to build its URL and body, for both targets."""

    users: dict[str, Any]
    plants: dict[str, Any]  # "own" / "other"
    devices: dict[str, Any]  # an inverter on each plant
    viewers: dict[str, Any]  # a viewer member of each plant
    jobs: dict[str, Any]  # a job on each plant
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Visible:
    """What a 200 must cover: ``ids(body)`` are plant ids (``kind="plants"``) or device ids
    (``kind="devices"``) and must equal the ids of the caller's plants / their devices."""

    kind: str
    ids: Callable[[Any], set[int]]

    def expected(self, world: World, persona: str) -> set[int]:
        objects = world.plants if self.kind == "plants" else world.devices
        return {objects[target].id for target in TARGETS_SEEN_BY[persona]}


def _rows(body) -> list:
    """The rows of a list answer: a JSON array, or the ``items`` of ``{total, items}``."""
    return body["items"] if isinstance(body, dict) else body


def ids_of(key: str, kind: str) -> Visible:
    """``key`` of every row of a list answer (``"id"``, ``"plantId"``, ``"deviceId"``)."""
    return Visible(kind, lambda body: {row[key] for row in _rows(body)})


@dataclass(frozen=True)
class Route:
    """One method of one URL pattern. ``path``/``body`` get ``(world, target)`` where target is
    ``"own"`` or ``"other"``. ``own``/``other`` map persona → expected status; ``other=None``
    means the route has no plant target."""

    name: str
    method: str
    path: Callable[[World, str], str]
    own: dict[str, int]
    other: dict[str, int] | None = None
    body: Callable[[World, str], Any] | None = None
    format: str = "json"
    visible: Visible | None = None

    def targets(self) -> Iterator[tuple[str, dict[str, int]]]:
        yield "own", self.own
        if self.other is not None:
            yield "other", self.other


def expect(*, anonymous: int = 401, customer: int, installer: int, plant_admin: int, outsider: int) -> dict[str, int]:
    return {
        "anonymous": anonymous,
        "customer": customer,
        "installer": installer,
        "plant_admin": plant_admin,
        "outsider": outsider,
    }


def everyone(status: int) -> dict[str, int]:
    return dict.fromkeys(PERSONAS, status)


def _methods_of(pattern: URLPattern) -> set[str]:
    callback = pattern.callback
    actions = getattr(callback, "actions", None)
    if actions:
        return {method.upper() for method in actions if method not in ("options", "head")}
    view_class = getattr(callback, "view_class", None) or getattr(callback, "cls", None)
    if view_class is None:
        return {"GET"}
    names = getattr(view_class, "http_method_names", ["get", "post", "put", "patch", "delete"])
    return {name.upper() for name in names if name not in ("options", "head", "trace") and hasattr(view_class, name)}


def api_routes() -> set[tuple[str, str]]:
    """(namespaced url name, method) of every API route, from the live URL configuration.
    The /api/v1/ mirror shares its patterns with /api/ and so is covered by the same names."""
    found: set[tuple[str, str]] = set()

    def walk(patterns, namespace: str | None) -> None:
        for entry in patterns:
            if isinstance(entry, URLResolver):
                if entry.namespace in ("admin", "v1") or str(entry.pattern).startswith("accounts/"):
                    continue
                walk(entry.url_patterns, entry.namespace or namespace)
            elif isinstance(entry, URLPattern) and entry.name and not entry.name.startswith("solarhub-not-found"):
                name = f"{namespace}:{entry.name}" if namespace else entry.name
                for method in _methods_of(entry):
                    found.add((name, method))

    walk(get_resolver().url_patterns, None)
    return found
