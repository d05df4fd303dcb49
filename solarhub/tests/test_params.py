"""Every endpoint reads its query parameters one way (``solarhub.api.params``), tested through
HTTP with the query strings the SPA sends: the same spelling is accepted everywhere or refused
everywhere, and the 400 names the parameter.

Before, ``?since=2026-01-01T00:00:00+05:30`` with an unencoded ``+`` (a space on arrival) was a
200 on the time series and a 400 on the alarm list, a NUL passed the alarm filter, and a
year-9999 time with an offset was a 500 there."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from alarms import services as alarm_services
from alarms.choices import Severity
from alarms.models import Alarm
from forecasting.tests.helpers import configured_plant
from plants.choices import DeviceType
from plants.models import Device
from solarhub.api.params import MAX_ID
from solarhub.testing.personas import api_client_for

pytestmark = pytest.mark.django_db

MIDNIGHT = datetime(2026, 1, 1, tzinfo=UTC)

# (label, as it appears in the query string, the instant it means or None for a 400)
TIMESTAMPS = [
    ("Z", "2026-01-01T00:00:00Z", MIDNIGHT),
    ("offset +05:30", "2026-01-01T00:00:00%2B05:30", MIDNIGHT - timedelta(hours=5, minutes=30)),
    ("offset -05:00", "2026-01-01T00:00:00-05:00", MIDNIGHT + timedelta(hours=5)),
    # an unencoded '+' arrives as a space: "…T00:00:00 05:30"
    ("space before offset (unencoded +)", "2026-01-01T00:00:00+05:30", MIDNIGHT - timedelta(hours=5, minutes=30)),
    ("space and + before offset", "2026-01-01T00:00:00%20%2B05:30", MIDNIGHT - timedelta(hours=5, minutes=30)),
    ("space instead of T", "2026-01-01%2000:00:00Z", MIDNIGHT),
    ("date only", "2026-01-01", MIDNIGHT),
    ("naive (UTC)", "2026-01-01T00:00:00", MIDNIGHT),
    # beyond PostgreSQL's ±15:59 but valid ISO 8601: the same instant, never a database error
    ("offset +16:00", "2026-01-01T00:00:00%2B16:00", MIDNIGHT - timedelta(hours=16)),
    ("offset -23:45", "2026-01-01T00:00:00-23:45", MIDNIGHT + timedelta(hours=23, minutes=45)),
    ("offset +24:00", "2026-01-01T00:00:00%2B24:00", None),
    ("offset +99:00", "2026-01-01T00:00:00%2B99:00", None),
    ("garbage", "yesterday", None),
    ("NUL", "2026-01-01T00:00:00%00Z", None),
    ("month 13", "2026-13-01T00:00:00Z", None),
    ("year 9999 with an offset", "9999-12-31T23:59:59-05:00", None),
    ("year 1 with an offset", "0001-01-01T00:00:00%2B05:00", None),
]


@pytest.fixture
def scene(customer, installer):
    plant = configured_plant(code="PARAMS", owner=customer, installer=installer)
    device = Device.objects.filter(plant=plant, type=DeviceType.INVERTER).first()
    return api_client_for(customer), plant, device


def _time_endpoints(plant, device) -> list[tuple[str, str]]:
    """(query string up to the value, the parameter's name as the SPA spells it): every
    endpoint taking a time query parameter."""
    series = "metric=ac_power&timeRange=1h&resolution=5min"
    return [
        (f"/api/devices/{device.id}/timeseries?{series}&startTime=", "startTime"),
        (f"/api/devices/{device.id}/timeseries?metric=ac_power&startTime=2025-12-30T00:00:00Z&endTime=", "endTime"),
        (f"/api/plants/{plant.id}/timeseries?{series}&startTime=", "startTime"),
        (f"/api/plants/{plant.id}/timeseries?metric=ac_power&startTime=2025-12-30T00:00:00Z&endTime=", "endTime"),
        (f"/api/devices/{device.id}/events?since=", "since"),
        (f"/api/devices/{device.id}/events?until=", "until"),
        ("/api/alarms?since=", "since"),
        ("/api/alarms?until=", "until"),
        (f"/api/alarms/analytics?plantId={plant.id}&since=", "since"),
        (f"/api/alarms/analytics?plantId={plant.id}&until=", "until"),
        (f"/api/plants/{plant.id}/expected-power?start=", "start"),
        (f"/api/plants/{plant.id}/expected-power?start=2025-12-30T00:00:00Z&end=", "end"),
    ]


def _assert_names(response, name: str, context) -> None:
    assert response.status_code == 400, (context, response.status_code, response.content[:300])
    body = response.json()
    assert body["error_code"] == "VALIDATION_ERROR", (context, body)
    assert set(body["errors"]) == {name}, (context, body)
    assert body["detail"].startswith(f"{name}: "), (context, body)


@pytest.mark.parametrize(("label", "raw", "instant"), TIMESTAMPS, ids=[t[0] for t in TIMESTAMPS])
def test_every_time_parameter_reads_a_spelling_the_same_way(scene, label, raw, instant):
    client, plant, device = scene
    outcomes = {}
    for prefix, name in _time_endpoints(plant, device):
        response = client.get(prefix + raw)
        outcomes[prefix] = response.status_code
        if instant is None:
            _assert_names(response, name, (label, prefix))
        else:
            assert response.status_code == 200, (label, prefix, response.content[:300])
    assert len(set(outcomes.values())) == 1, (label, outcomes)
    # the batch takes the same fields in its JSON body (no URL encoding there)
    decoded = raw.replace("+", " ").replace("%2B", "+").replace("%20", " ").replace("%00", "\x00")
    batch = client.post(
        f"/api/devices/{device.id}/timeseries/batch",
        {"metrics": ["ac_power"], "timeRange": "1h", "resolution": "5min", "startTime": decoded},
        format="json",
    )
    if instant is None:
        _assert_names(batch, "startTime", (label, "batch"))
    else:
        assert batch.status_code == 200, (label, batch.content[:300])


@pytest.mark.parametrize(
    ("label", "raw", "instant"), [t for t in TIMESTAMPS if t[2] is not None], ids=[t[0] for t in TIMESTAMPS if t[2]]
)
def test_an_accepted_spelling_means_the_same_instant_everywhere(scene, customer, label, raw, instant):
    client, plant, device = scene
    series = client.get(
        f"/api/devices/{device.id}/timeseries?metric=ac_power&timeRange=1h&resolution=5min&startTime={raw}"
    )
    assert series.json()["data"][0]["timestamp"] == instant.isoformat().replace("+00:00", "Z"), label
    alarm = alarm_services.alarm_create_manual(plant=plant, by=customer, title="t", severity=Severity.LOW)
    Alarm.objects.filter(pk=alarm.pk).update(triggered_at=instant)
    assert [a["id"] for a in client.get(f"/api/alarms?since={raw}").json()] == [alarm.pk], label  # since: >=
    assert client.get(f"/api/alarms?until={raw}").json() == [], label  # until: <
    analytics = client.get(f"/api/alarms/analytics?plantId={plant.id}&until={raw}").json()
    assert analytics["until"] == instant.isoformat().replace("+00:00", "Z"), (label, analytics)


def test_the_batch_url_exists(scene):
    """Guards the batch leg above: a typo in its URL would make every spelling a 404."""
    client, _, device = scene
    response = client.post(f"/api/devices/{device.id}/timeseries/batch", {"metrics": ["ac_power"]}, format="json")
    assert response.status_code == 200, response.content[:300]


# --- integers and ids -----------------------------------------------------------------------------

IDS = [
    ("one", "1", True),
    ("largest 64-bit", str(MAX_ID), True),
    ("padded", "%207", True),
    ("zero", "0", False),
    ("negative", "-1", False),
    ("fraction", "1.5", False),
    ("exponent", "1e3", False),
    ("beyond 64 bits", str(MAX_ID + 1), False),
    ("huge", "9" * 400, False),
    ("letters", "abc", False),
    ("Arabic-Indic digit", "%D9%A3", False),
    ("plus sign", "%2B5", False),
]


@pytest.mark.parametrize(("label", "raw", "ok"), IDS, ids=[t[0] for t in IDS])
def test_id_parameters_share_their_bounds(scene, label, raw, ok):
    client, _, device = scene
    endpoints = [
        ("/api/alarms?plantId=", "plantId"),  # a FilterSet (IdFilter)
        ("/api/alarms?deviceId=", "deviceId"),
        ("/api/plants?owner=", "owner"),
        ("/api/dashboard/overview?plantId=", "plantId"),  # an APIView (id_param)
        ("/api/alarms/analytics?plantId=", "plantId"),
        (f"/api/pcs/alert?plantId={device.plant_id}&deviceId=", "deviceId"),
    ]
    for prefix, name in endpoints:
        response = client.get(prefix + raw)
        if ok:
            assert response.status_code in (200, 404), (label, prefix, response.content[:300])
        else:
            _assert_names(response, name, (label, prefix))


HOURS = [("1", True), ("168", True), ("0", False), ("169", False), ("-1", False), ("1.5", False), ("abc", False)]


@pytest.mark.parametrize(("raw", "ok"), HOURS)
@pytest.mark.parametrize(
    ("prefix", "name"),
    [
        ("/api/dashboard/realtime-power?hours=", "hours"),
        ("/api/dashboard/overview?hours=", "hours"),
        ("/api/dashboard/daily-energy?days=", "days"),
    ],
)
def test_integer_parameters_are_bounded(scene, prefix, name, raw, ok):
    client, _, _ = scene
    if name == "days":  # 1..366 days
        raw = {"168": "366", "169": "367"}.get(raw, raw)
    response = client.get(prefix + raw)
    if ok:
        assert response.status_code == 200, (prefix, raw, response.content[:300])
    else:
        _assert_names(response, name, (prefix, raw))
