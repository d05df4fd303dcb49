"""Plants API: seed 001 shapes, exact visibility, validation, mass assignment, query counts."""

from __future__ import annotations

import pytest

from plants.choices import DeviceType, PlantRole
from plants.models import Device, Plant, PlantMembership
from solarhub.testing.personas import api_client_for, make_plant

pytestmark = pytest.mark.django_db

LIST_KEYS = {
    "id", "name", "location", "totalCapacity", "currentGeneration", "efficiency", "deviceCount", "status",
    "lastUpdate", "ownerId", "installerId",
}  # fmt: skip

NEW_PLANT = {
    "name": "Solar Farm Alpha",
    "location": "California, USA",
    "totalCapacity": 500,
    "coordinates": {"lat": 37.7749, "lng": -122.4194},
    "installationDate": "2023-06-15",
    "surfaceTilt": 20,
    "surfaceAzimuth": 180,
}


def ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {item["id"] for item in response.json()}


def test_list_has_seed_001_shape_and_nulls_until_telemetry(customer, own_plant):
    Device.objects.create(plant=own_plant, type=DeviceType.INVERTER, name="A", serial_number="S1")
    body = api_client_for(customer).get("/api/plants").json()
    assert isinstance(body, list) and len(body) == 1
    item = body[0]
    assert set(item) == LIST_KEYS
    assert item["totalCapacity"] == 500.0 and item["deviceCount"] == 1
    assert item["currentGeneration"] is None and item["efficiency"] is None and item["lastUpdate"] is None
    assert (item["ownerId"], item["installerId"]) == (own_plant.owner_id, own_plant.installer_id)


def test_detail_has_coordinates_installation_date_and_configuration(customer, own_plant):
    body = api_client_for(customer).get(f"/api/plants/{own_plant.id}").json()
    assert set(body) >= LIST_KEYS
    assert body["coordinates"] == {"lat": 37.77, "lng": -122.42}
    assert {
        "installationDate",
        "plantCode",
        "timezone",
        "tracking",
        "surfaceTilt",
        "gcr",
        "systemLossesPct",
        "albedo",
    } <= set(body)
    assert body["systemLossesPct"] == 14.0 and body["albedo"] == 0.25
    assert body["temperatureModel"] == "open_rack_glass_polymer"  # pvlib SAPM set used by forecasting


def test_installer_sets_the_temperature_model_and_bad_ones_are_400(installer, own_plant):
    client = api_client_for(installer)
    url = f"/api/plants/{own_plant.id}"
    assert client.patch(url, {"temperatureModel": "close_mount_glass_glass"}, format="json").status_code == 200
    own_plant.refresh_from_db()
    assert own_plant.temperature_model == "close_mount_glass_glass"
    bad = client.patch(url, {"temperatureModel": "sauna"}, format="json")
    assert bad.status_code == 400 and "temperatureModel" in str(bad.json())
    own_plant.refresh_from_db()
    assert own_plant.temperature_model == "close_mount_glass_glass"


def test_lists_return_exactly_the_visible_ids(customer, installer, plant_admin, outsider, own_plant, other_plant):
    member_plant = make_plant(name="Shared with customer")
    PlantMembership.objects.create(user=customer, plant=member_plant, role=PlantRole.VIEWER)
    assert ids(api_client_for(customer).get("/api/plants")) == {own_plant.id, member_plant.id}
    assert ids(api_client_for(installer).get("/api/plants")) == {own_plant.id}
    assert ids(api_client_for(outsider).get("/api/plants")) == {other_plant.id}
    assert ids(api_client_for(plant_admin).get("/api/plants")) == {own_plant.id, other_plant.id, member_plant.id}


def test_filters_and_search(plant_admin, own_plant, other_plant, installer):
    client = api_client_for(plant_admin)
    assert ids(client.get(f"/api/plants?installer={installer.id}")) == {own_plant.id}
    assert ids(client.get("/api/plants?search=other")) == {other_plant.id}
    assert ids(client.get("/api/plants?status=online")) == set()


def test_installer_creates_a_plant_for_a_customer(installer, customer):
    response = api_client_for(installer).post("/api/plants", {**NEW_PLANT, "ownerId": customer.id}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    plant = Plant.objects.get(id=body["id"])
    assert (plant.owner, plant.installer) == (customer, installer)
    assert plant.timezone == "America/Los_Angeles"  # looked up from the coordinates
    assert plant.plant_code.startswith("PLT-") and body["plantCode"] == plant.plant_code
    assert body["coordinates"] == {"lat": 37.7749, "lng": -122.4194}
    roles = dict(PlantMembership.objects.filter(plant=plant).values_list("user_id", "role"))
    assert roles == {customer.id: "owner", installer.id: "installer"}
    # the new owner sees it now
    assert plant.id in ids(api_client_for(customer).get("/api/plants"))


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"coordinates": {"lat": 120, "lng": 0}}, "coordinates"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"totalCapacity": 0}, "totalCapacity"),
        ({"gcr": 1.5, "tracking": "single_axis", "axisAzimuth": 180, "maxAngle": 60}, "gcr"),
        ({"surfaceTilt": 120}, "surfaceTilt"),
        ({"tracking": "sideways"}, "tracking"),
        ({"name": ""}, "name"),
        ({"installationDate": "15/06/2023"}, "installationDate"),
        ({"latitude": 38.5}, "latitude"),  # contradicts coordinates.lat
        ({"coordinates": None}, "coordinates"),
    ],
)
def test_invalid_plants_are_400_naming_the_field(installer, change, field):
    response = api_client_for(installer).post("/api/plants", {**NEW_PLANT, **change}, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()["errors"], response.json()
    assert not Plant.objects.exists()


# What the SPA knows at onboarding (seed 001's plant shape): no mounting, no datasheets.
SEED_001_PLANT = {
    "name": "Solar Farm Alpha",
    "location": "California, USA",
    "coordinates": {"lat": 37.7749, "lng": -122.4194},
    "totalCapacity": 500,
    "timezone": "America/Los_Angeles",
    "installationDate": "2023-06-15T00:00:00Z",
}


def test_a_plant_is_created_and_edited_with_seed_001_fields_alone_and_says_what_the_model_lacks(installer, customer):
    client = api_client_for(installer)
    response = client.post("/api/plants", {**SEED_001_PLANT, "ownerId": customer.id}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    plant = Plant.objects.get(id=body["id"])
    assert (plant.owner, plant.installer, str(plant.installation_date)) == (customer, installer, "2023-06-15")
    assert plant.surface_tilt is None and plant.surface_azimuth is None  # nothing assumed
    readiness = body["modelReadiness"]
    assert readiness["ready"] is False
    assert {"surfaceTilt", "surfaceAzimuth", "panelSpecs"} <= set(readiness["missing"])
    assert set(readiness["errors"]) == set(readiness["missing"])
    assert "forecasts" in readiness["features"]

    # editable with the same fields (PUT) and any one of them (PATCH)
    put = client.put(
        f"/api/plants/{plant.id}", {**SEED_001_PLANT, "name": "Alpha", "ownerId": customer.id}, format="json"
    )
    assert put.status_code == 200, put.content
    patch = client.patch(f"/api/plants/{plant.id}", {"location": "Fresno, USA"}, format="json")
    assert patch.status_code == 200, patch.content
    plant.refresh_from_db()
    assert (plant.name, plant.location) == ("Alpha", "Fresno, USA")

    # the owner reads the same readiness; the features that need the model refuse, naming it
    owner = api_client_for(customer)
    assert owner.get(f"/api/plants/{plant.id}").json()["modelReadiness"] == patch.json()["modelReadiness"]
    run = owner.post(
        "/api/predicted-generation/run",
        {"plantId": plant.id, "horizon": "day_ahead", "source": "clearsky"},
        format="json",
    )
    assert run.status_code == 400, run.content
    assert run.json()["error_code"] == "PLANT_CONFIG_INVALID"
    assert set(run.json()["errors"]) == set(readiness["missing"])
    expected = owner.get(f"/api/plants/{plant.id}/expected-power")
    assert expected.status_code == 400 and expected.json()["error_code"] == "PLANT_CONFIG_INVALID"
    assert {"surfaceTilt", "surfaceAzimuth"} <= set(expected.json()["errors"])


def test_completing_the_record_makes_the_plant_model_ready(installer, customer):
    client = api_client_for(installer)
    plant_id = client.post("/api/plants", {**SEED_001_PLANT, "ownerId": customer.id}, format="json").json()["id"]
    spec = {
        "manufacturerName": "Acme", "panelType": "A-400", "pMaxW": "400", "efficiencyPct": "20.5",
        "maxSystemVoltageV": "1000", "maxSeriesFuseRatingA": "20", "coefficientPmaxPct": "-0.35",
    }  # fmt: skip
    assert client.post(f"/api/plants/{plant_id}/panel-specs", spec, format="json").status_code == 201
    response = client.patch(
        f"/api/plants/{plant_id}",
        {"surfaceTilt": "20", "surfaceAzimuth": "180", "noOfInverters": "5", "powerOutputPerInverterKw": "100"},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["modelReadiness"]["ready"] is True, response.json()["modelReadiness"]
    assert response.json()["modelReadiness"]["missing"] == []
    run = api_client_for(customer).post(
        "/api/predicted-generation/run",
        {"plantId": plant_id, "horizon": "day_ahead", "source": "clearsky"},
        format="json",
    )
    assert run.status_code == 202, run.content


def test_a_tracker_plant_without_its_geometry_is_creatable_and_names_what_it_lacks(installer):
    response = api_client_for(installer).post(
        "/api/plants", {**SEED_001_PLANT, "tracking": "single_axis", "axisAzimuth": 180}, format="json"
    )
    assert response.status_code == 201, response.content
    missing = set(response.json()["modelReadiness"]["missing"])
    assert {"axisTilt", "maxAngle", "gcr"} <= missing and "axisAzimuth" not in missing
    assert "surfaceTilt" not in missing


def test_latitude_and_longitude_may_stand_in_for_coordinates(installer):
    body = {k: v for k, v in SEED_001_PLANT.items() if k not in {"coordinates", "timezone"}}
    half = api_client_for(installer).post("/api/plants", {**body, "latitude": "48.137"}, format="json")
    assert half.status_code == 400 and "longitude" in half.json()["errors"], half.content
    neither = api_client_for(installer).post("/api/plants", body, format="json")
    assert neither.status_code == 400 and "coordinates" in neither.json()["errors"], neither.content
    assert not Plant.objects.exists()
    response = api_client_for(installer).post(
        "/api/plants", {**body, "latitude": "48.137", "longitude": "11.575"}, format="json"
    )
    assert response.status_code == 201, response.content
    assert response.json()["coordinates"] == {"lat": 48.137, "lng": 11.575}
    assert response.json()["timezone"] == "Europe/Berlin"  # looked up from them
    assert "latitude" not in response.json()  # write-only: the detail speaks coordinates
    moved = api_client_for(installer).patch(f"/api/plants/{response.json()['id']}", {"latitude": 52.52}, format="json")
    assert moved.status_code == 200, moved.content
    assert moved.json()["coordinates"] == {"lat": 52.52, "lng": 11.575}


def test_owner_must_be_a_customer_and_installer_cannot_name_another_installer(installer, other_installer):
    client = api_client_for(installer)
    response = client.post("/api/plants", {**NEW_PLANT, "ownerId": other_installer.id}, format="json")
    assert response.status_code == 400 and "ownerId" in response.json()["errors"]
    response = client.post("/api/plants", {**NEW_PLANT, "installerId": other_installer.id}, format="json")
    assert response.status_code == 400 and "installerId" in response.json()["errors"]
    assert not Plant.objects.exists()


def test_mass_assignment_on_update_is_rejected_and_changes_nothing(installer, customer, own_plant, other_installer):
    client = api_client_for(installer)
    before = Plant.objects.filter(id=own_plant.id).values().get()
    response = client.patch(f"/api/plants/{own_plant.id}", {"installerId": other_installer.id}, format="json")
    assert response.status_code == 400
    response = client.patch(
        f"/api/plants/{own_plant.id}", {"deviceCount": 99, "status": "online", "id": 1}, format="json"
    )
    assert response.status_code == 200
    after = Plant.objects.filter(id=own_plant.id).values().get()
    assert {k: v for k, v in after.items() if k != "updated_at"} == {
        k: v for k, v in before.items() if k != "updated_at"
    }


def test_customer_cannot_change_the_owner_of_their_plant(customer, outsider, own_plant):
    response = api_client_for(customer).patch(f"/api/plants/{own_plant.id}", {"ownerId": outsider.id}, format="json")
    assert response.status_code == 403
    own_plant.refresh_from_db()
    assert own_plant.owner == customer


def test_installer_cannot_change_the_owner_and_an_admin_change_moves_the_owner_membership(
    installer, customer, outsider, plant_admin, own_plant
):
    refused = api_client_for(installer).patch(f"/api/plants/{own_plant.id}", {"ownerId": outsider.id}, format="json")
    assert refused.status_code == 400 and "ownerId" in refused.json()["errors"], refused.content
    assert ids(api_client_for(customer).get("/api/plants")) == {own_plant.id}
    response = api_client_for(plant_admin).patch(f"/api/plants/{own_plant.id}", {"ownerId": outsider.id}, format="json")
    assert response.status_code == 200, response.content
    assert ids(api_client_for(customer).get("/api/plants")) == set()
    assert ids(api_client_for(outsider).get("/api/plants")) == {own_plant.id}


def test_members_invite_accept_list_revoke(
    customer, installer, own_plant, outsider, django_capture_on_commit_callbacks, mailoutbox
):
    client = api_client_for(customer)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/api/plants/{own_plant.id}/members", {"email": "OUTSIDER@example.com", "role": "operator"}, format="json"
        )
    assert response.status_code == 202, response.content
    assert response.json()["role"] == "operator" and response.json()["status"] == "pending"
    assert "userId" not in response.json() and "username" not in response.json()
    assert ids(api_client_for(outsider).get("/api/plants")) == set()  # an invitation, not a grant
    token = mailoutbox[0].body.split("/api/invitations/")[1].split("/accept")[0]
    assert api_client_for(outsider).post(f"/api/invitations/{token}/accept").status_code == 200
    assert ids(api_client_for(outsider).get("/api/plants")) == {own_plant.id}
    members = {m["userId"]: m["role"] for m in client.get(f"/api/plants/{own_plant.id}/members").json()}
    assert members == {customer.id: "owner", installer.id: "installer", outsider.id: "operator"}
    assert client.delete(f"/api/plants/{own_plant.id}/members/{outsider.id}").status_code == 204
    assert ids(api_client_for(outsider).get("/api/plants")) == set()


@pytest.mark.parametrize("role", ["owner", "installer", "admin", "superuser"])
def test_role_escalation_through_members_is_rejected(customer, own_plant, outsider, role):
    response = api_client_for(customer).post(
        f"/api/plants/{own_plant.id}/members", {"email": outsider.email, "role": role}, format="json"
    )
    assert response.status_code == 400 and "role" in response.json()["errors"]
    assert not PlantMembership.objects.filter(user=outsider).exists()


def test_a_viewer_cannot_manage_members_or_change_anything(own_plant, outsider):
    PlantMembership.objects.create(user=outsider, plant=own_plant, role=PlantRole.VIEWER)
    client = api_client_for(outsider)
    assert client.get(f"/api/plants/{own_plant.id}").status_code == 200
    assert client.get(f"/api/plants/{own_plant.id}/members").status_code == 403
    assert client.patch(f"/api/plants/{own_plant.id}", {"name": "x"}, format="json").status_code == 403


def test_plant_list_query_count_does_not_grow(plant_admin, django_assert_max_num_queries):
    client = api_client_for(plant_admin)
    for n in range(3):
        plant = make_plant(name=f"Q{n}")
        Device.objects.create(plant=plant, type=DeviceType.INVERTER, name="I", serial_number=f"Q{n}")
    with django_assert_max_num_queries(4):
        assert len(client.get("/api/plants").json()) == 3
    for n in range(3, 30):
        plant = make_plant(name=f"Q{n}")
        Device.objects.create(plant=plant, type=DeviceType.INVERTER, name="I", serial_number=f"Q{n}")
    with django_assert_max_num_queries(4):
        assert len(client.get("/api/plants").json()) == 30
