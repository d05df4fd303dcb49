"""Seed 003's site views on ingested latest values (BESS table, PCS, meters, inverter, sidebar,
topology, overview) and the plant a seed-003 request is about."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from accounts.models import UserSetting
from forecasting.tests.helpers import ingest
from plants.models import Device
from solarhub.testing.personas import api_client_for, make_plant

from .helpers import constructed_day, storage_site

pytestmark = pytest.mark.django_db


@pytest.fixture
def site(own_plant):
    return storage_site(own_plant)


def _now():
    return timezone.now().replace(microsecond=0) - timedelta(minutes=1)


def test_bess_table_shows_each_racks_latest_readings(customer, own_plant, site):
    now = _now()
    ingest(
        own_plant,
        {
            site["rack1"].serial_number: [
                (now, {"battery_mode": 1, "battery_voltage": 750.5, "soc": 85.2, "cell_voltage_max_id": 17})
            ],
            site["rack2"].serial_number: [(now, {"battery_mode": 0, "battery_voltage": 748.2, "soc": 72.1})],
        },
    )
    response = api_client_for(customer).get(f"/api/v1/bess/1?plantId={own_plant.pk}")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["bess_number"] == 1 and body["status"] == "success"
    assert body["table_head"] == ["Rack 01", "Rack 02"]
    rows = {row["metric"]: row for row in body["data"]}
    assert rows["Mode"] == {"metric": "Mode", "Rack 01": "Charging", "Rack 02": "Standby"}
    assert rows["Voltage (V)"]["Rack 01"] == "750.5" and rows["Voltage (V)"]["Rack 02"] == "748.2"
    assert rows["SOC (%)"] == {"metric": "SOC (%)", "Rack 01": "85.2", "Rack 02": "72.1"}
    assert rows["Cell Voltage Max ID"]["Rack 01"] == "17"
    assert rows["SOH (%)"] == {"metric": "SOH (%)", "Rack 01": None, "Rack 02": None}
    assert body["rack_device_ids"] == {"Rack 01": site["rack1"].pk, "Rack 02": site["rack2"].pk}
    one = api_client_for(customer).get(f"/api/v1/bess/1?plantId={own_plant.pk}&rack=rack02").json()
    assert one["table_head"] == ["Rack 02"]


@pytest.mark.parametrize(
    ("path", "code", "field"),
    [
        ("/api/v1/bess/2", "BESS_NUMBER_OUT_OF_RANGE", "bessNumber"),
        ("/api/v1/bess/0", "BESS_NUMBER_OUT_OF_RANGE", "bessNumber"),
        ("/api/v1/bess/one", "BESS_NUMBER_OUT_OF_RANGE", "bessNumber"),
        ("/api/v1/bess/1?rack=rack07x", "INVALID_RACK", "rack"),
        ("/api/v1/bess/1?rack=rack07", "RACK_OUT_OF_RANGE", "rack"),
        ("/api/v1/pcs/3", "PCS_NUMBER_OUT_OF_RANGE", "pcsNumber"),
        ("/api/v1/meters?role=solar", "VALIDATION_ERROR", "role"),
        ("/api/v1/meters/aux?data_type=pie", "VALIDATION_ERROR", "dataType"),
        ("/api/v1/meters/aux?time=2024-13-01", "INVALID_DATE", "time"),
    ],
)
def test_bad_parameters_are_400_with_their_code(customer, own_plant, site, path, code, field):
    sep = "&" if "?" in path else "?"
    response = api_client_for(customer).get(f"{path}{sep}plantId={own_plant.pk}")
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["error_code"] == code
    assert field in body["errors"]


def test_a_malformed_rack_of_the_alert_route_is_400(customer, own_plant, site):
    response = api_client_for(customer).get(f"/api/v1/bess/alert/rack/rack07x?plantId={own_plant.pk}")
    assert response.status_code == 400
    assert response.json()["error_code"] == "VALIDATION_ERROR"


def test_pcs_detail_has_live_values_and_decoded_words(customer, own_plant, site):
    now = _now()
    ingest(
        own_plant,
        {site["pcs"].serial_number: [(now, {"ac_power": -250.0, "frequency": 60.01, "pcs_fault_status1": 5})]},
    )
    body = api_client_for(customer).get(f"/api/v1/pcs/1?plantId={own_plant.pk}").json()
    assert body["pcs_number"] == 1 and body["device_id"] == site["pcs"].pk and body["status"] == "success"
    assert body["live"]["ac_power"] == -250.0 and body["live"]["frequency"] == 60.01
    assert body["status_words"]["fault_status1"] == "0000000000000101"
    assert body["status_words"]["grid_status"] is None
    assert [flag["bit"] for flag in body["decoded"]["fault_status1"]] == [0, 2]
    assert body["state"] == "online"


def test_meters_list_and_total_power(customer, own_plant, site):
    now = _now()
    ingest(
        own_plant,
        {
            site["grid"].serial_number: [(now, {"ac_power": 82.5, "ac_voltage_l1": 220.1, "power_factor": 0.98})],
            site["aux"].serial_number: [(now, {"ac_power": 12.5})],
        },
    )
    body = api_client_for(customer).get(f"/api/v1/meters?plantId={own_plant.pk}").json()
    assert body["meter_count"] == 2 and body["total_power"] == 95.0
    grid = body["meters"][0]
    assert grid["meter_id"] == 1 and grid["role"] == "grid" and grid["phase_a_voltage"] == 220.1
    assert grid["power_factor"] == 0.98 and grid["phase_b_voltage"] is None
    aux_only = api_client_for(customer).get(f"/api/v1/meters?plantId={own_plant.pk}&role=aux").json()
    assert [m["device_id"] for m in aux_only["meters"]] == [site["aux"].pk]


def test_aux_meter_day_summary_and_chart(customer, own_plant, site):
    day = date(2026, 6, 1)
    constructed_day(own_plant, site, day)
    client = api_client_for(customer)
    summary = client.get(f"/api/v1/meters/aux?plantId={own_plant.pk}&time=2026-06-01&data_type=summary").json()
    assert summary["data"] == {"total_energy": 600.0, "avg_power": 25.0, "max_power": 30.0, "min_power": 20.0}
    chart = client.get(f"/api/v1/meters/aux?plantId={own_plant.pk}&time=2026-06-01").json()
    assert chart["data_type"] == "chart" and len(chart["data"]) == 288
    assert chart["data"][0][1] == 20.0 and chart["data"][-1][1] == 30.0


def test_inverter_detail(customer, own_plant, site):
    now = _now()
    ingest(
        own_plant,
        {
            site["inverter"].serial_number: [
                (
                    now,
                    {
                        "ac_power": 425.5,
                        "pv1_voltage": 580.0,
                        "pv1_current": 12.5,
                        "string3_current": 6.25,
                        "ac_voltage_l2": 219.8,
                        "energy_total": 125000.0,
                    },
                )
            ]
        },
    )
    body = api_client_for(customer).get(f"/api/v1/inverter?deviceId={site['inverter'].pk}").json()
    assert body["inverter_data"]["total_active_power"] == 425.5
    assert body["inverter_data"]["total_power_yields"] == 125000.0
    assert body["mppt_data"] == [{"mppt_id": 1, "voltage": 580.0, "current": 12.5, "power": 7250.0}]
    assert body["string_currents"] == [{"string_id": 3, "current": 6.25}]
    assert body["phase_data"][1] == {"phase": "B", "voltage": 219.8, "current": None}
    # a visible device that is not an inverter is not found
    assert api_client_for(customer).get(f"/api/v1/inverter?deviceId={site['pcs'].pk}").status_code == 404


def test_sidebar_counts_and_cctv(customer, own_plant, site):
    own_plant.cctv_url = "https://cctv.example.com/stream"
    own_plant.save(update_fields=["cctv_url"])
    body = api_client_for(customer).get(f"/api/v1/config/sidebar?plantId={own_plant.pk}").json()
    assert body == {
        "plant_id": own_plant.pk,
        "bess_type": "BESS",
        "bess_number": 1,
        "pcs_number": 1,
        "inverter_number": 1,
        "meter_number": 2,
        "rack_number": 2,
        "total_racks": 2,
        "number_of_devices": 7,
        "cctv_url": "https://cctv.example.com/stream",
        "status": "success",
    }


def test_topology_is_the_device_graph_plus_services(customer, own_plant, site):
    body = api_client_for(customer).get(f"/api/v1/system/topology?plantId={own_plant.pk}").json()
    ids = {node["id"] for node in body["nodes"]}
    assert {"server", "database", "cache", "broker", "workers"} <= ids
    database = next(node for node in body["nodes"] if node["id"] == "database")
    assert database["status"] == "online"
    links = {(link["source"], link["target"]) for link in body["links"]}
    node = {k: f"device-{d.pk}" for k, d in site.items()}
    assert (node["grid"], node["pcs"]) in links
    assert (node["pcs"], node["bess"]) in links
    assert (node["bess"], node["rack1"]) in links and (node["bess"], node["rack2"]) in links
    assert (node["grid"], node["aux"]) in links and (node["grid"], node["inverter"]) in links
    assert next(n for n in body["nodes"] if n["id"] == node["grid"])["type"] == "meter_grid"


def test_overview_sums_fresh_power(customer, own_plant, site):
    now = _now()
    ingest(
        own_plant,
        {
            site["pcs"].serial_number: [(now, {"ac_power": 200.0})],
            site["aux"].serial_number: [(now, {"ac_power": 15.0})],
            site["bess"].serial_number: [(now, {"soc": 55.0})],
        },
    )
    body = api_client_for(customer).get(f"/api/v1/system/overview?plantId={own_plant.pk}").json()
    assert body["power"]["battery"] == 200.0 and body["power"]["aux"] == 15.0 and body["power"]["pv"] is None
    assert body["soc"] == 55.0
    assert body["devices"]["bess_rack"] == 2


def test_the_plant_defaults_to_the_users_default_plant_then_their_only_one(customer, installer, own_plant, site):
    client = api_client_for(customer)
    assert client.get("/api/v1/config/sidebar").json()["plant_id"] == own_plant.pk  # the only plant
    second = make_plant(name="Second", owner=customer, installer=installer)
    response = client.get("/api/v1/config/sidebar")
    assert response.status_code == 400 and response.json()["error_code"] == "PLANT_REQUIRED"
    UserSetting.objects.update_or_create(user=customer, defaults={"default_plant": second})
    assert client.get("/api/v1/config/sidebar").json()["plant_id"] == second.pk


def test_the_rack_alert_route_numbers_racks_within_a_bess_as_the_bess_table_does(customer, own_plant, site):
    """Two units: ``rack02`` of BESS 2 on the alert route is ``Rack 02`` of ``/bess/2``."""
    second = Device.objects.create(plant=own_plant, type="bess", name="BESS 2", serial_number="B2")
    racks = [
        Device.objects.create(
            plant=own_plant, type="bess_rack", name=f"B2 rack {n}", serial_number=f"B2-R{n}", parent=second
        )
        for n in (1, 2)
    ]
    client = api_client_for(customer)
    table = client.get(f"/api/v1/bess/2?plantId={own_plant.pk}").json()
    assert table["rack_device_ids"] == {"Rack 01": racks[0].pk, "Rack 02": racks[1].pk}
    alert = client.get(f"/api/v1/bess/alert/rack/rack02?plantId={own_plant.pk}&bessNumber=2")
    assert alert.status_code == 200, alert.content
    assert alert.json()["deviceId"] == table["rack_device_ids"]["Rack 02"] and alert.json()["bessNumber"] == 2
    # Without bessNumber the first unit's racks: rack02 is BESS 1's Rack 02, and there is no rack03.
    first = client.get(f"/api/v1/bess/alert/rack/rack02?plantId={own_plant.pk}").json()
    assert first["deviceId"] == site["rack2"].pk and first["bessNumber"] == 1
    assert client.get(f"/api/v1/bess/alert/rack/rack03?plantId={own_plant.pk}").status_code == 404
    for bad in ("3", "0", "two"):
        response = client.get(f"/api/v1/bess/alert/rack/rack01?plantId={own_plant.pk}&bessNumber={bad}")
        assert response.status_code == 400, (bad, response.content)
        assert response.json()["error_code"] == "BESS_NUMBER_OUT_OF_RANGE"
        assert "bessNumber" in response.json()["errors"]
