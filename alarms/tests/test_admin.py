"""The admin pages the README names for status bit maps (and the metric catalog): they open for
platform admins, and bad maps are refused with a message instead of being stored."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from alarms.decoding import bit_map_for
from alarms.models import StatusBitMap
from telemetry.ingest import metric_catalog
from telemetry.models import Metric

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(plant_admin):
    client = Client(SERVER_NAME="localhost")
    client.force_login(plant_admin)
    return client


def _bit_map_form(bits) -> dict:
    return {
        "device_type": "inverter",
        "manufacturer": "Acme",
        "model": "X1",
        "word": "event_bits",
        "label": "Acme events",
        "bits": json.dumps(bits),
        "source": "Acme manual, table 7",
    }


def test_bit_map_and_metric_pages_open(admin_client):
    for url in ("/admin/alarms/statusbitmap/", "/admin/alarms/statusbitmap/add/", "/admin/telemetry/metric/"):
        assert admin_client.get(url).status_code == 200, url


def test_a_vendor_map_entered_in_the_admin_decodes_that_vendor_s_words(admin_client):
    response = admin_client.post(
        "/admin/alarms/statusbitmap/add/", _bit_map_form({"3": {"name": "FAN_FAULT", "category": "warning"}})
    )
    assert response.status_code == 302, response.content.decode()[-2000:]
    assert bit_map_for(device_type="inverter", manufacturer="acme", model="x1", word="event_bits") == {
        "3": {"name": "FAN_FAULT", "category": "warning"}
    }


@pytest.mark.parametrize(
    ("bits", "message"),
    [
        ({"64": {"name": "TOO_HIGH"}}, "bits are 0-63"),
        ({"x": {"name": "NOT_A_BIT"}}, "bits are 0-63"),
        ({"2": {"category": "fault"}}, "needs a name"),
        ({"2": {"name": "OK", "category": "catastrophe"}}, "category must be one of"),
        (["not", "an", "object"], "An object of bit"),
    ],
)
def test_a_bad_bit_map_is_refused_and_not_stored(admin_client, bits, message):
    before = StatusBitMap.objects.count()
    response = admin_client.post("/admin/alarms/statusbitmap/add/", _bit_map_form(bits))
    assert response.status_code == 200 and message in response.content.decode()
    assert StatusBitMap.objects.count() == before


def test_a_metric_added_in_the_admin_is_ingestible_at_once(admin_client):
    metric_catalog(refresh=True)
    form = {"key": "dc_voltage_mppt9", "unit": "V", "kind": "gauge", "min_value": "0", "max_value": "1500"}
    response = admin_client.post("/admin/telemetry/metric/add/", form)
    assert response.status_code == 302, response.content.decode()[-2000:]
    assert metric_catalog()["dc_voltage_mppt9"].high == 1500


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"key": "DC Voltage", "kind": "gauge"}, "lower_snake_case"),
        ({"key": "dc_x", "kind": "gauge", "min_value": "10", "max_value": "1"}, "below the lower bound"),
    ],
)
def test_bad_metrics_are_refused(admin_client, form, message):
    response = admin_client.post("/admin/telemetry/metric/add/", form)
    assert response.status_code == 200 and message in response.content.decode()
    assert not Metric.objects.filter(key=form["key"]).exists()


def test_metrics_keep_their_key_and_are_never_deleted(admin_client):
    metric = Metric.objects.get(key="ac_power")
    page = admin_client.get(f"/admin/telemetry/metric/{metric.pk}/change/").content.decode()
    assert 'name="key"' not in page  # read-only once created
    assert admin_client.get(f"/admin/telemetry/metric/{metric.pk}/delete/").status_code == 403
