"""Every API route x method x persona x {own plant, other plant} answers the status the matrix
says, and every route has a matrix entry (a new route without one fails here)."""

from __future__ import annotations

import importlib

import pytest
from django.db import transaction

from plants.choices import DeviceType, PlantRole
from plants.models import Device, Plant, PlantMembership
from solarhub.jobs.handlers import SELFCHECK
from solarhub.models import Job
from solarhub.testing.matrix import PERSONAS, Route, World, api_routes
from solarhub.testing.personas import api_client_for

APPS_WITH_MATRIX = [
    "solarhub", "accounts", "plants", "telemetry", "alarms", "reports", "twins", "forecasting", "collector", "shadow",
    "storage",
]  # fmt: skip


def all_routes() -> list[Route]:
    """Every ``<app>/tests/matrix*.py`` module's ``MATRIX``."""
    from pathlib import Path

    from django.conf import settings

    routes: list[Route] = []
    for app in APPS_WITH_MATRIX:
        for module_path in sorted((Path(settings.BASE_DIR) / app / "tests").glob("matrix*.py")):
            module = importlib.import_module(f"{app}.tests.{module_path.stem}")
            routes.extend(module.MATRIX)
    return routes


ROUTES = all_routes()


@pytest.fixture
def world(db, personas, own_plant, other_plant) -> World:
    from accounts.services import user_create

    devices = {
        "own": Device.objects.create(plant=own_plant, type=DeviceType.INVERTER, name="Inv A", serial_number="OWN-1"),
        "other": Device.objects.create(
            plant=other_plant, type=DeviceType.INVERTER, name="Inv B", serial_number="OTH-1"
        ),
    }
    viewers = {}
    for target, plant in (("own", own_plant), ("other", other_plant)):
        viewer = user_create(email=f"viewer-{target}@example.com", password="x-Pass-1234", username=f"viewer-{target}")
        PlantMembership.objects.create(user=viewer, plant=plant, role=PlantRole.VIEWER)
        viewers[target] = viewer
    jobs = {
        "own": Job.objects.create(kind=SELFCHECK, plant=own_plant),
        "other": Job.objects.create(kind=SELFCHECK, plant=other_plant),
    }
    grantee = user_create(email="grantee@example.com", password="x-Pass-1234", username="grantee")
    from telemetry.models import IngestKey

    keys = {
        target: IngestKey.objects.create(plant=plant, name="k", prefix=f"p{target}", key_hash="0" * 64)
        for target, plant in (("own", own_plant), ("other", other_plant))
    }
    return World(
        users=personas,
        plants={"own": own_plant, "other": other_plant},
        devices=devices,
        viewers=viewers,
        jobs=jobs,
        extra={"grantee": grantee, "keys": keys},
    )


def test_every_api_route_has_a_matrix_entry():
    covered = {(route.name, route.method) for route in ROUTES}
    missing = sorted(api_routes() - covered)
    assert not missing, f"routes without a permission-matrix entry: {missing}"
    stale = sorted(covered - api_routes())
    assert not stale, f"matrix entries for routes that do not exist: {stale}"


def test_every_entry_names_every_persona():
    for route in ROUTES:
        for _, expected in route.targets():
            assert set(expected) == set(PERSONAS), route


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: f"{r.method} {r.name}")
def test_route_answers_each_persona_as_the_matrix_says(route: Route, world: World):
    failures = []
    for target, expected in route.targets():
        for persona in PERSONAS:
            # Each request runs in a savepoint rolled back afterwards: a DELETE by one persona
            # does not change what the next one sees.
            with transaction.atomic():
                client = api_client_for(world.users[persona])
                body = route.body(world, target) if route.body else None
                path = route.path(world, target)
                response = getattr(client, route.method.lower())(path, body, format=route.format)
                transaction.set_rollback(True)
            if response.status_code != expected[persona]:
                failures.append(
                    f"{persona} on {target}: {response.status_code} != {expected[persona]} {response.content[:200]!r}"
                )
            if response.status_code >= 400 and response.status_code != 503:
                assert "error_code" in response.json(), (persona, target, response.content)
            if route.visible is not None and response.status_code == 200:
                seen, wanted = route.visible.ids(response.json()), route.visible.expected(world, persona)
                if seen != wanted:
                    failures.append(f"{persona} on {target}: {route.visible.kind} {sorted(seen)} != {sorted(wanted)}")
    assert not failures, "\n".join(failures)


def test_list_summary_and_analytics_routes_declare_their_visible_set():
    """Every route listing across plants says which ids it must show (a new one must too)."""
    listing = {
        ("api:plant-list", "GET"),
        ("api:device-list", "GET"),
        ("api:device-group", "GET"),
        ("api:monitoring-devices", "GET"),
        ("api:alarm-list", "GET"),
        ("api:alarm-rule-list", "GET"),
        ("api:alarm-summary", "GET"),
        ("api:alarm-analytics", "GET"),
        ("api:config-header", "GET"),
        ("api:predicted-generation-list", "GET"),
        ("api:job-list", "GET"),
    }
    declared = {(route.name, route.method) for route in ROUTES if route.visible is not None}
    assert listing <= declared, sorted(listing - declared)


# Who does not see which of the world's plants: the customer and installer the outsider's, the
# outsider the customer's, anonymous either (401 first). Platform admins see every plant: for
# them nothing is foreign.
_FOREIGN_TARGET = {"anonymous": "other", "customer": "other", "installer": "other", "outsider": "own"}


@pytest.mark.parametrize("route", [r for r in ROUTES if r.other is not None], ids=lambda r: f"{r.method} {r.name}")
def test_a_foreign_id_and_a_missing_id_answer_byte_identically(route: Route, world: World):
    """Existence oracles (issue 16): a route naming a plant or a device — in the path, the query
    or the body — answers a caller who may not see it exactly as it answers for an id that does
    not exist, status and body byte for byte. The missing id is the same one, after its plant
    (with its devices, alarms, jobs...) is deleted inside the request's savepoint."""
    failures = []
    for persona, target in _FOREIGN_TARGET.items():
        answers = []
        for delete_first in (False, True):
            with transaction.atomic():
                client = api_client_for(world.users[persona])
                body = route.body(world, target) if route.body else None
                path = route.path(world, target)
                if delete_first:
                    Plant.objects.filter(pk=world.plants[target].pk).delete()
                response = getattr(client, route.method.lower())(path, body, format=route.format)
                transaction.set_rollback(True)
            answers.append((response.status_code, response.content))
        foreign, missing = answers
        if foreign != missing:
            failures.append(f"{persona} on {target}: foreign {foreign!r} != missing {missing!r}")
    assert not failures, "\n".join(failures)


# Routes whose plant is named in the body: without a valid body there is no plant to decide on,
# so a 400 comes first by necessity.
_PLANT_IN_BODY = {
    ("api:device-list", "POST"),
    ("api:alarm-list", "POST"),
    ("api:alarm-rule-list", "POST"),
    ("api:predicted-generation-list", "POST"),
    ("api:predicted-generation-run", "POST"),
    ("api:report-list", "POST"),
    ("api:telemetry-ingest", "POST"),
    ("api:digital-twin-list", "POST"),
}


@pytest.mark.parametrize(
    "route",
    [
        r
        for r in ROUTES
        if r.method in {"POST", "PUT", "PATCH"} and r.body is not None and (r.name, r.method) not in _PLANT_IN_BODY
    ],
    ids=lambda r: f"{r.method} {r.name}",
)
def test_rights_are_decided_before_the_body_is_validated(route: Route, world: World):
    """Where the matrix says 403 (or 404) for a valid body, a body that is all wrong answers the
    same: a caller without the right learns nothing about what the body should be."""
    failures = []
    for target, expected in route.targets():
        for persona in PERSONAS:
            if expected[persona] not in (403, 404):
                continue
            with transaction.atomic():
                client = api_client_for(world.users[persona])
                response = getattr(client, route.method.lower())(
                    route.path(world, target), {"name": ["not", "a", "name"], "id": {}}, format="json"
                )
                transaction.set_rollback(True)
            if response.status_code != expected[persona]:
                failures.append(f"{persona} on {target}: {response.status_code} != {expected[persona]}")
    assert not failures, "\n".join(failures)
