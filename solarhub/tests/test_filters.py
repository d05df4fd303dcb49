"""Every documented filter filters, every unknown parameter is refused — for every list route.

Generated from the URLconf: each route whose view (or action) lists through a FilterSet must
have, for every filter of that FilterSet, a case here whose value excludes something and
returns exactly the expected ids, sent as the SPA sends it (camelCase query keys, strings).
A new filter or a new filterable route without a case fails ``test_every_filter_has_a_case``,
like the permission matrix fails on a route without an entry. This is the test that would
have caught ``/api/alarms?plantId=1`` returning every plant's alarms.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from alarms.filters import AlarmFilter, AlarmRuleFilter
from alarms.models import Alarm, AlarmRule
from forecasting.filters import ForecastFilter
from forecasting.models import GenerationForecast
from plants.choices import DeviceType, PlantStatus
from plants.filters import DeviceFilter, PlantFilter
from plants.models import Device, MeterDatasheet
from reports.filters import ReportFilter
from reports.models import ReportJob
from shadow.filters import ShadowRunFilter
from shadow.models import ShadowRun
from solarhub.api.renderers import camel_key
from solarhub.jobs.api.views import JobFilter
from solarhub.models import Job, JobStatus
from solarhub.testing.personas import api_client_for, make_plant
from storage.filters import DispatchEventFilter
from telemetry.ingest import telemetry_ingest
from twins.filters import DigitalTwinFilter

pytestmark = pytest.mark.django_db

# Filters a route's FilterSet has but that cannot exclude anything there, and why.
EXEMPT = {"/api/plants/{plant}/devices": {"plant", "plantId"}}  # the path already names the plant

# route → the FilterSet it lists through ({plant} is the first plant's id)
ROUTES = {
    "/api/plants": PlantFilter,
    "/api/devices": DeviceFilter,
    "/api/devices/inverters": DeviceFilter,
    "/api/plants/{plant}/devices": DeviceFilter,
    "/api/alarms": AlarmFilter,
    "/api/alarm-rules": AlarmRuleFilter,
    "/api/predicted-generation": ForecastFilter,
    "/api/jobs": JobFilter,
    "/api/digital-twins": DigitalTwinFilter,
    "/api/reports": ReportFilter,
    "/api/shadow-analysis": ShadowRunFilter,
    "/api/dispatch-events": DispatchEventFilter,
}


def _filterset_routes() -> set[tuple[str, type]]:
    """(route pattern, FilterSet) for every list view and list-like action in the URLconf."""
    found = set()

    def walk(patterns, prefix=""):
        for entry in patterns:
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns, prefix + str(entry.pattern))
            elif isinstance(entry, URLPattern):
                callback = entry.callback
                cls = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
                actions = getattr(callback, "actions", None) or {}
                filterset = getattr(cls, "filterset_class", None)
                route = prefix + str(entry.pattern)
                if not route.startswith("api/") or route.startswith("api/v1/"):
                    continue
                if filterset is not None and (not actions or actions.get("get") == "list"):
                    found.add((route, filterset))
                if actions.get("get") == "devices":  # the plant's devices action lists devices
                    found.add((route, DeviceFilter))

    walk(get_resolver().url_patterns)
    return found


def _normalise(route: str) -> str:
    import re

    route = "/" + route.replace("^", "").replace("$", "").replace("\\.(?P<format>[a-z0-9]+)/?", "")
    route = re.sub(r"\(\?P<pk>[^)]*\)|<int:pk>|<pk>", "{plant}", route)
    return route.rstrip("/").replace("/?", "")


def test_every_filterable_route_is_covered():
    discovered = {(_normalise(route), filterset) for route, filterset in _filterset_routes()}
    discovered = {(r, f) for r, f in discovered if "{group}" not in r and "(?P<group>" not in r}
    expected = {(route, filterset) for route, filterset in ROUTES.items() if route != "/api/devices/inverters"}
    missing = {r for r in discovered if r not in expected}
    assert not missing, f"list routes with a FilterSet but no filter cases here: {sorted(missing)}"


@pytest.fixture
def world(customer, installer, outsider, other_installer, plant_admin):
    """Two plants with devices of several kinds and live states, alarms, rules, forecasts, jobs."""
    now = timezone.now()
    a = make_plant(name="Alpha roof", owner=customer, installer=installer, tracking="fixed")
    b = make_plant(name="Beta farm", owner=outsider, installer=other_installer, tracking="single_axis")
    maintenance = make_plant(name="Gamma", owner=customer, installer=installer, status=PlantStatus.MAINTENANCE)
    quiet = make_plant(name="Delta", owner=customer, installer=installer)  # no telemetry: offline
    inv_online = Device.objects.create(plant=a, type=DeviceType.INVERTER, name="Inverter 1", serial_number="A-INV1")
    inv_fault = Device.objects.create(plant=a, type=DeviceType.INVERTER, name="Inverter 2", serial_number="A-INV2")
    box = Device.objects.create(
        plant=a,
        type=DeviceType.STRING_MONITORING_BOX,
        name="Combiner 1",
        serial_number="A-SCB1",
        parent=inv_online,
        operational=False,
    )
    meter = Device.objects.create(plant=b, type=DeviceType.METER, name="Meter", serial_number="B-M1", operational=False)
    MeterDatasheet.objects.create(device=meter, is_abt=True)
    inv_b = Device.objects.create(plant=b, type=DeviceType.INVERTER, name="Inverter B", serial_number="B-INV1")
    recent = (now - timedelta(minutes=2)).isoformat()
    telemetry_ingest(
        plant_ids=[a.id, b.id],
        readings=[
            {"deviceId": inv_online.id, "timestamp": recent, "metrics": {"ac_power": 10.0, "status_code": 4}},
            {"deviceId": inv_fault.id, "timestamp": recent, "metrics": {"ac_power": 0.0, "status_code": 7}},
            {"deviceId": inv_b.id, "timestamp": recent, "metrics": {"ac_power": 5.0}},
        ],
    )
    rules = {
        "threshold": AlarmRule.objects.create(plant=a, name="Hot", rule_type="threshold", severity="high"),
        "comms": AlarmRule.objects.create(plant=b, name="Silent", rule_type="communication_loss", enabled=False),
        "device": AlarmRule.objects.create(plant=a, name="Inv 1 hot", rule_type="threshold", device=inv_online),
    }
    alarm = {
        "a_high": Alarm.objects.create(
            plant=a, device=inv_online, title="Overheat", severity="high", triggered_at=now - timedelta(days=2)
        ),
        "a_closed": Alarm.objects.create(
            plant=a,
            title="Grid trip",
            severity="low",
            state="closed",
            active=False,
            triggered_at=now - timedelta(hours=1),
        ),
        "b_critical": Alarm.objects.create(
            plant=b, device=inv_b, title="Isolation fault", severity="critical", triggered_at=now - timedelta(hours=3)
        ),
    }
    today = date.today()
    forecasts = {
        "a_day": GenerationForecast.objects.create(
            plant=a, forecast_date=today, horizon="day_ahead", source="clearsky"
        ),
        "a_week": GenerationForecast.objects.create(
            plant=a, forecast_date=today - timedelta(days=10), horizon="week_ahead", source="tmy"
        ),
        "b_day": GenerationForecast.objects.create(
            plant=b, forecast_date=today - timedelta(days=3), horizon="day_ahead"
        ),
    }
    jobs = {
        "a_done": Job.objects.create(
            kind="forecast.run", plant=a, status=JobStatus.COMPLETED, requested_by=plant_admin
        ),
        "b_queued": Job.objects.create(kind="report.run", plant=b, status=JobStatus.QUEUED, requested_by=plant_admin),
    }
    reports = {
        "a_weekly": ReportJob.objects.create(plant=a, name="W", report_type="weekly", status="completed"),
        "a_monthly": ReportJob.objects.create(plant=a, name="M", report_type="monthly", status="pending"),
        "b_daily": ReportJob.objects.create(plant=b, name="D", report_type="daily", status="failed"),
    }
    return {
        "reports": reports,
        "a": a, "b": b, "maintenance": maintenance, "quiet": quiet, "inv_online": inv_online,
        "inv_fault": inv_fault, "box": box,
        "meter": meter, "inv_b": inv_b, "rules": rules, "alarm": alarm, "forecasts": forecasts, "jobs": jobs,
        "today": today, "customer": customer, "installer": installer, "outsider": outsider,
        "other_installer": other_installer, "twins": _twins(a, b), "shadow": _shadow_runs(a, b),
        "dispatch": _dispatch(a, b),
    }  # fmt: skip


def _twins(*plants) -> dict[int, int]:
    """A small twin on each plant: plant id → twin id."""
    from twins.services import twin_create
    from twins.tests.matrix import small_scene

    return {plant.id: twin_create(plant=plant, by=None, twin_data=small_scene()).id for plant in plants}


def _shadow_runs(a, b) -> dict[str, ShadowRun]:
    return {
        "a_done": ShadowRun.objects.create(plant=a, status="completed"),
        "a_queued": ShadowRun.objects.create(plant=a, status="queued"),
        "b_failed": ShadowRun.objects.create(plant=b, status="failed"),
    }


def _dispatch(a, b) -> dict[str, int]:
    """Dispatch events: an awarded dreg block on each plant a day apart, a quoted edreg on a."""
    from storage.models import DispatchEvent

    start = timezone.now().replace(microsecond=0) - timedelta(days=2)

    def event(plant, key, mode, offset_days, is_get):
        begin = start + timedelta(days=offset_days)
        fields = {"mode": mode, "time_start": begin, "time_end": begin + timedelta(hours=1), "is_get": is_get}
        return key, DispatchEvent.objects.create(plant=plant, quote_capacity=1, quote_price=1, **fields).id

    return dict(
        [
            event(a, "a_dreg", "dreg", 0, True),
            event(a, "a_edreg", "edreg", 1, False),
            event(b, "b_dreg", "dreg", 2, True),
        ]
    )


def _cases(w) -> dict[str, list[tuple[str, str, set[int]]]]:
    """route → [(camelCase parameter, value, expected ids)] as seen by a plant_admin."""
    a, b, today = w["a"], w["b"], w["today"]
    inv1, inv2, box, meter, inv_b = w["inv_online"], w["inv_fault"], w["box"], w["meter"], w["inv_b"]
    al, fc, jobs, rules = w["alarm"], w["forecasts"], w["jobs"], w["rules"]
    devices = [
        ("type", "inverter", {inv1.id, inv2.id, inv_b.id}),
        ("deviceType", "meter", {meter.id}),
        ("plant", str(b.id), {meter.id, inv_b.id}),
        ("plantId", str(b.id), {meter.id, inv_b.id}),
        ("parent", str(inv1.id), {box.id}),
        ("parentId", str(inv1.id), {box.id}),
        ("operational", "false", {meter.id, box.id}),
        ("status", "online", {inv1.id, inv_b.id}),
        ("status", "fault", {inv2.id}),
        ("status", "offline", {box.id, meter.id}),
        ("search", "Combiner", {box.id}),
    ]
    return {
        "/api/plants": [
            ("status", "online", {a.id, b.id}),
            ("status", "maintenance", {w["maintenance"].id}),
            ("status", "offline", {w["quiet"].id}),
            ("owner", str(w["outsider"].id), {b.id}),
            ("ownerId", str(w["outsider"].id), {b.id}),
            ("installer", str(w["other_installer"].id), {b.id}),
            ("installerId", str(w["other_installer"].id), {b.id}),
            ("tracking", "single_axis", {b.id}),
            ("search", "Beta", {b.id}),
        ],
        "/api/devices": devices,
        "/api/devices/inverters": [
            ("plantId", str(a.id), {inv1.id, inv2.id}),
            ("status", "fault", {inv2.id}),
        ],
        "/api/plants/{plant}/devices": [
            (name, value, expected & {inv1.id, inv2.id, box.id})
            for name, value, expected in devices
            if name not in {"plant", "plantId", "deviceType"}
        ]
        + [("deviceType", "string_monitoring_box", {box.id})],
        "/api/alarms": [
            ("plantId", str(a.id), {al["a_high"].id, al["a_closed"].id}),
            ("deviceId", str(inv_b.id), {al["b_critical"].id}),
            ("state", "closed", {al["a_closed"].id}),
            ("state", "active_unacknowledged", {al["a_high"].id, al["b_critical"].id}),
            ("severity", "critical", {al["b_critical"].id}),
            ("since", (timezone.now() - timedelta(hours=5)).isoformat(), {al["a_closed"].id, al["b_critical"].id}),
            ("until", (timezone.now() - timedelta(days=1)).isoformat(), {al["a_high"].id}),
            ("search", "isolation", {al["b_critical"].id}),
        ],
        "/api/alarm-rules": [
            ("plantId", str(b.id), {r.id for r in AlarmRule.objects.filter(plant=b)}),
            ("deviceId", str(inv1.id), {rules["device"].id}),
            ("ruleType", "threshold", {r.id for r in AlarmRule.objects.filter(rule_type="threshold")}),
            ("enabled", "false", {r.id for r in AlarmRule.objects.filter(enabled=False)}),
        ],
        "/api/predicted-generation": [
            ("plantId", str(b.id), {fc["b_day"].id}),
            ("horizon", "week_ahead", {fc["a_week"].id}),
            ("source", "clearsky", {fc["a_day"].id}),
            ("forecastDate", today.isoformat(), {fc["a_day"].id}),
            ("forecastDateFrom", (today - timedelta(days=5)).isoformat(), {fc["a_day"].id, fc["b_day"].id}),
            ("forecastDateTo", (today - timedelta(days=5)).isoformat(), {fc["a_week"].id}),
        ],
        "/api/digital-twins": [("plantId", str(b.id), {w["twins"][b.id]})],
        "/api/jobs": [
            ("status", "queued", {jobs["b_queued"].id}),
            ("kind", "forecast.run", {jobs["a_done"].id}),
            ("plant", str(b.id), {jobs["b_queued"].id}),
            ("plantId", str(b.id), {jobs["b_queued"].id}),
        ],
        "/api/dispatch-events": [
            ("plantId", str(b.id), {w["dispatch"]["b_dreg"]}),
            ("mode", "edreg", {w["dispatch"]["a_edreg"]}),
            ("isGet", "false", {w["dispatch"]["a_edreg"]}),
            (
                "since",
                (timezone.now() - timedelta(days=1, hours=12)).isoformat(),
                {w["dispatch"]["a_edreg"], w["dispatch"]["b_dreg"]},
            ),
            ("until", (timezone.now() - timedelta(days=1, hours=12)).isoformat(), {w["dispatch"]["a_dreg"]}),
        ],
        "/api/reports": [
            ("plantId", str(b.id), {w["reports"]["b_daily"].id}),
            ("status", "pending", {w["reports"]["a_monthly"].id}),
            ("reportType", "weekly", {w["reports"]["a_weekly"].id}),
        ],
        "/api/shadow-analysis": [
            ("plantId", str(b.id), {w["shadow"]["b_failed"].id}),
            ("status", "queued", {w["shadow"]["a_queued"].id}),
        ],
    }


def _path(route: str, w) -> str:
    return route.replace("{plant}", str(w["a"].id))


def _ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {item["id"] for item in response.json()}


def test_every_filter_has_a_case(world):
    """Each filter of each route's FilterSet (and search where the route has it) is exercised."""
    cases = _cases(world)
    for route, filterset in ROUTES.items():
        covered = {name for name, _, _ in cases[route]}
        if route == "/api/devices/inverters":
            continue  # a group route: same FilterSet as /api/devices, spot-checked
        declared = {camel_key(name) for name in filterset.base_filters} - EXEMPT.get(route, set())
        assert declared <= covered, f"{route}: filters without a case: {sorted(declared - covered)}"


def test_every_documented_filter_filters(world, plant_admin):
    """Sent as the SPA sends it: camelCase key, string value. Each value must exclude something
    (a filter that is ignored returns everything and fails here) and return exactly the ids."""
    client = api_client_for(plant_admin)
    for route, cases in _cases(world).items():
        path = _path(route, world)
        everything = _ids(client.get(path))
        for name, value, expected in cases:
            got = _ids(client.get(path, {name: value}))
            expected = {e if isinstance(e, int) else str(e) for e in expected}  # job ids are UUIDs
            assert got == expected, f"{route}?{name}={value}: {sorted(got)} != {sorted(expected)}"
            assert got != everything, f"{route}?{name}={value} excludes nothing: the case proves nothing"


def test_seed_000_snake_case_names_filter_too(world, plant_admin):
    client = api_client_for(plant_admin)
    b = world["b"]
    assert _ids(client.get("/api/alarms", {"plant_id": b.id})) == {world["alarm"]["b_critical"].id}
    assert _ids(client.get("/api/devices", {"device_type": "meter"})) == {world["meter"].id}
    assert _ids(client.get("/api/alarm-rules", {"rule_type": "communication_loss"})) == {
        r.id for r in AlarmRule.objects.filter(rule_type="communication_loss")
    }


@pytest.mark.parametrize("route", list(ROUTES))
def test_unknown_parameters_are_400_naming_them(world, plant_admin, route):
    response = api_client_for(plant_admin).get(_path(route, world), {"plantIdd": "1"})
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["error_code"] == "UNKNOWN_PARAMETER" and "plantIdd" in body["errors"], body


@pytest.mark.parametrize(
    ("route", "name", "value"),
    [
        ("/api/alarms", "plantId", "abc"),
        ("/api/alarms", "severity", "apocalyptic"),
        ("/api/alarms", "since", "yesterday"),
        ("/api/devices", "status", "sleepy"),
        ("/api/devices", "plantId", "1.5"),
        ("/api/plants", "status", "sideways"),
        ("/api/alarm-rules", "ruleType", "vibes"),
        ("/api/predicted-generation", "forecastDate", "31/12/2026"),
        ("/api/jobs", "status", "done"),
        ("/api/plants/{plant}/devices", "status", "sleepy"),
    ],
)
def test_malformed_filter_values_are_400_naming_the_filter(world, plant_admin, route, name, value):
    response = api_client_for(plant_admin).get(_path(route, world), {name: value})
    assert response.status_code == 400, response.content
    assert name in response.json()["errors"], response.json()


def test_object_lookups_are_never_filtered_by_the_list_filters(world, customer):
    """/api/plants/{id}/devices?status=offline filtered the *plant* by status (404) before."""
    client = api_client_for(customer)
    a = world["a"]
    assert _ids(client.get(f"/api/plants/{a.id}/devices", {"status": "offline"})) == {world["box"].id}
    assert client.get(f"/api/plants/{a.id}", {"status": "offline"}).status_code == 200


def test_seed_000_skip_and_limit_page_every_list(world, plant_admin):
    client = api_client_for(plant_admin)
    everything = client.get("/api/devices").json()
    page = client.get("/api/devices", {"skip": "1", "limit": "2"})
    assert page.status_code == 200
    assert [d["id"] for d in page.json()] == [d["id"] for d in everything[1:3]]
    assert page["X-Total-Count"] == str(len(everything))
    monitoring = client.get("/api/monitoring/devices", {"device_type": "inverter", "skip": "1", "limit": "1"}).json()
    assert monitoring["total"] == 3 and len(monitoring["items"]) == 1
    assert monitoring["items"][0]["deviceType"] == "inverter"
    only_b = client.get("/api/monitoring/devices", {"plant_id": world["b"].id}).json()
    assert {item["id"] for item in only_b["items"]} == {world["meter"].id, world["inv_b"].id}
    assert client.get("/api/devices", {"skip": "-1"}).status_code == 400
    assert client.get("/api/devices", {"skip": "1", "page": "2"}).status_code == 400
    assert client.get("/api/monitoring/devices", {"deviceKind": "inverter"}).json()["error_code"] == "UNKNOWN_PARAMETER"


def test_the_schema_names_the_parameters_the_api_takes(world, plant_admin):
    """The OpenAPI document lists every filter under the camelCase name the SPA sends."""
    import yaml

    schema = yaml.safe_load(api_client_for(plant_admin).get("/api/schema/").content)
    for route, filterset in ROUTES.items():
        if route == "/api/devices/inverters":
            route = "/api/devices/{group}"
        route = route.replace("{plant}", "{id}")
        operation = schema["paths"][route]["get"]
        names = {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}
        declared = {camel_key(name) for name in filterset.base_filters}
        assert declared <= names, f"{route}: undocumented filters {sorted(declared - names)}"
        assert not {n for n in names if "_" in n}, f"{route}: snake_case parameters in the schema: {names}"
