"""The Django admin: only plant admins get in; every page renders; saving a plant syncs its
memberships; device bulk actions and the CSV export; list pages cost a fixed number of queries."""

from __future__ import annotations

import csv
import io

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.choices import UserType
from accounts.services import user_create
from plants.choices import DeviceType, PlantRole, Tracking
from plants.models import (
    DATASHEETS,
    Device,
    InverterDatasheet,
    MeterDatasheet,
    PanelSpec,
    Plant,
    PlantEvent,
    PlantInvitation,
    PlantMembership,
    StringBoxDatasheet,
)
from solarhub.models import Job
from solarhub.testing.personas import make_plant

pytestmark = pytest.mark.django_db

PARENT_OF = {DeviceType.STRING_MONITORING_BOX: DeviceType.INVERTER, DeviceType.BESS_RACK: DeviceType.BESS}


def _device(plant, device_type: str, serial: str, parent=None, **fields) -> Device:
    device = Device.objects.create(
        plant=plant, type=device_type, name=f"{device_type} {serial}", serial_number=serial, parent=parent, **fields
    )
    if device_type in DATASHEETS:
        DATASHEETS[device_type][0].objects.create(device=device)
    return device


@pytest.fixture
def fleet(own_plant) -> dict[str, Device]:
    """One device of every type on ``own_plant``; string box and rack have their parents."""
    devices: dict[str, Device] = {}
    for device_type in (t for t in DeviceType.values if t not in PARENT_OF):
        devices[device_type] = _device(own_plant, device_type, f"SN-{device_type}")
    for device_type, parent_type in PARENT_OF.items():
        devices[device_type] = _device(own_plant, device_type, f"SN-{device_type}", parent=devices[parent_type])
    return devices


@pytest.fixture
def padmin_client(client, plant_admin):
    """A plant admin (staff, not a superuser) signed in to the admin."""
    assert plant_admin.is_staff and not plant_admin.is_superuser
    client.force_login(plant_admin)
    return client


def _url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


# ---------------------------------------------------------------------------------------------
# who gets in


def test_plant_admin_reaches_the_index_and_sees_the_solarhub_models(padmin_client):
    response = padmin_client.get(reverse("admin:index"))
    assert response.status_code == 200
    for model in (Plant, Device, PanelSpec, Job):
        assert _url(model, "changelist") in response.content.decode()


@pytest.mark.parametrize("url_name", ["admin:index", "admin:plants_plant_changelist", "admin:plants_device_changelist"])
def test_staff_installer_is_sent_to_the_login_page(client, installer, url_name):
    installer.is_staff = True
    installer.save(update_fields=["is_staff"])
    client.force_login(installer)
    response = client.get(reverse(url_name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
    # The login page does not wave them through to the index either.
    login = client.get(reverse("admin:login"))
    assert login.status_code == 200 and b"not authorized" in login.content


def test_staff_customer_and_non_staff_plant_admin_are_refused(client, customer):
    customer.is_staff = True
    customer.save(update_fields=["is_staff"])
    client.force_login(customer)
    assert client.get(reverse("admin:index")).status_code == 302
    no_staff = user_create(email="ops@example.com", password="x-Pass-1234", user_type=UserType.PLANT_ADMIN)
    no_staff.is_staff = False
    no_staff.save(update_fields=["is_staff"])
    client.force_login(no_staff)
    assert client.get(reverse("admin:index")).status_code == 302


def test_superuser_reaches_the_admin(client):
    root = user_create(email="root@example.com", password="x-Pass-1234", user_type=UserType.CUSTOMER)
    root.is_staff = root.is_superuser = True
    root.save()
    client.force_login(root)
    assert client.get(reverse("admin:index")).status_code == 200


# ---------------------------------------------------------------------------------------------
# every page renders


def test_plant_panel_spec_and_job_pages_render(padmin_client, own_plant, fleet, plant_admin):
    spec = PanelSpec.objects.create(
        plant=own_plant, manufacturer_name="Acme", panel_type="AC-450M", p_max_w=450, efficiency_pct=21.0,
        max_system_voltage_v=1500, max_series_fuse_rating_a=25,
    )  # fmt: skip
    job = Job.objects.create(kind="selfcheck", plant=own_plant, requested_by=plant_admin)
    for model, obj in ((Plant, own_plant), (PanelSpec, spec), (Job, job)):
        assert padmin_client.get(_url(model, "changelist")).status_code == 200, model
        assert padmin_client.get(_url(model, "change", obj.pk)).status_code == 200, model
    for model in (Plant, PanelSpec):
        assert padmin_client.get(_url(model, "add")).status_code == 200, model
    # Jobs are written by the application only.
    assert padmin_client.get(_url(Job, "add")).status_code == 403
    page = padmin_client.get(_url(Plant, "change", own_plant.pk)).content.decode()
    for prefix in ("panel_specs", "devices", "memberships"):
        assert f'name="{prefix}-TOTAL_FORMS"' in page
    assert "AC-450M" in page and "SN-inverter" in page


def test_history_and_invitation_pages_render_and_are_not_editable(padmin_client, own_plant, customer):
    from datetime import timedelta

    from django.utils import timezone

    invitation = PlantInvitation.objects.create(
        plant=own_plant, email="someone@example.com", role=PlantRole.VIEWER, invited_by=customer,
        token_hash="f" * 64, expires_at=timezone.now() + timedelta(days=1),
    )  # fmt: skip
    event = PlantEvent.objects.filter(plant=own_plant).first() or PlantEvent.objects.create(
        plant=own_plant, kind="member_invited", actor=customer, email="someone@example.com"
    )
    for model, obj in ((PlantEvent, event), (PlantInvitation, invitation)):
        assert padmin_client.get(_url(model, "changelist")).status_code == 200, model
        page = padmin_client.get(_url(model, "change", obj.pk))
        assert page.status_code == 200, model
        assert "f" * 64 not in page.content.decode()  # the token's hash is not shown
        assert padmin_client.get(_url(model, "add")).status_code == 403, model


@pytest.mark.parametrize("device_type", DeviceType.values)
def test_device_change_page_shows_only_the_datasheet_of_its_type(padmin_client, fleet, device_type):
    response = padmin_client.get(_url(Device, "change", fleet[device_type].pk))
    assert response.status_code == 200
    page = response.content.decode()
    for other_type, (_model, related) in DATASHEETS.items():
        assert (f'name="{related}-TOTAL_FORMS"' in page) == (other_type == device_type), related


def test_device_changelist_and_add_pages_render(padmin_client, fleet):
    assert padmin_client.get(_url(Device, "changelist")).status_code == 200
    assert "inverter_datasheet-TOTAL_FORMS" not in padmin_client.get(_url(Device, "add")).content.decode()
    typed = padmin_client.get(_url(Device, "add") + "?type=inverter")
    assert typed.status_code == 200 and "inverter_datasheet-TOTAL_FORMS" in typed.content.decode()


def test_plant_autocomplete_works_for_plant_admins(padmin_client, own_plant):
    params = {"app_label": "plants", "model_name": "device", "field_name": "plant", "term": "Own"}
    response = padmin_client.get(reverse("admin:autocomplete"), params)
    assert response.status_code == 200
    assert [r["id"] for r in response.json()["results"]] == [str(own_plant.pk)]


def test_user_autocomplete_works_for_plant_admins(padmin_client, customer):
    params = {"app_label": "plants", "model_name": "plant", "field_name": "owner", "term": "cus"}
    response = padmin_client.get(reverse("admin:autocomplete"), params)
    assert response.status_code == 200
    assert [r["id"] for r in response.json()["results"]] == [str(customer.pk)]


# ---------------------------------------------------------------------------------------------
# saving through the admin forms


def _management(prefix: str, total: int = 0, initial: int = 0) -> dict:
    return {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


def _plant_post(**fields) -> dict:
    data = {
        "name": "Admin-made plant", "plant_code": "", "status": "offline", "timezone": "Europe/Berlin",
        "latitude": "52.5", "longitude": "13.4", "total_power_output_kw": "250", "tracking": Tracking.FIXED,
        "surface_tilt": "30", "surface_azimuth": "180", "system_losses_pct": "14", "albedo": "0.2",
        "temperature_model": "open_rack_glass_polymer", "backtrack": "on", "owner": "", "installer": "",
    }  # fmt: skip
    data.update({k: ("" if v is None else str(v)) for k, v in fields.items()})
    for prefix in ("panel_specs", "devices", "memberships"):
        data.update(_management(prefix))
    return data


def test_saving_a_plant_in_the_admin_syncs_owner_and_installer_memberships(
    padmin_client, plant_admin, customer, installer, outsider
):
    response = padmin_client.post(_url(Plant, "add"), _plant_post(owner=customer.pk, installer=installer.pk))
    assert response.status_code == 302, response.context["adminform"].form.errors
    plant = Plant.objects.get(name="Admin-made plant")
    assert plant.plant_code.startswith("PLT-")  # generated when left empty
    roles = dict(PlantMembership.objects.filter(plant=plant).values_list("user_id", "role"))
    assert roles == {customer.pk: PlantRole.OWNER, installer.pk: PlantRole.INSTALLER}

    # Saving without changing hands records nothing and revokes nothing.
    from telemetry.models import IngestKey
    from telemetry.services import ingest_key_create

    with transaction.atomic():
        key, _plaintext = ingest_key_create(by=installer, plant_id=plant.pk, name="Logger")
    data = _plant_post(owner=customer.pk, installer=installer.pk, plant_code=plant.plant_code)
    assert padmin_client.post(_url(Plant, "change", plant.pk), data).status_code == 302
    assert IngestKey.objects.get(pk=key.pk).revoked_at is None
    assert not PlantEvent.objects.filter(plant=plant).exclude(data__via="admin", from_user=None).exists()

    # Hand the plant to another customer: the membership follows the field, the change is in the
    # plant's history and the plant's ingest keys are revoked.
    data = _plant_post(owner=outsider.pk, installer=installer.pk, plant_code=plant.plant_code)
    response = padmin_client.post(_url(Plant, "change", plant.pk), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    roles = dict(PlantMembership.objects.filter(plant=plant).values_list("user_id", "role"))
    assert roles == {outsider.pk: PlantRole.OWNER, installer.pk: PlantRole.INSTALLER}
    event = PlantEvent.objects.get(plant=plant, kind="owner_changed", from_user=customer)
    assert (event.actor, event.to_user, event.data) == (plant_admin, outsider, {"via": "admin", "revokedIngestKeys": 1})
    assert IngestKey.objects.get(pk=key.pk).revoked_at is not None


def test_plant_admin_form_rejects_wrong_account_types(padmin_client, customer, installer):
    swapped = padmin_client.post(_url(Plant, "add"), _plant_post(owner=installer.pk, installer=customer.pk))
    assert swapped.status_code == 200
    errors = swapped.context["adminform"].form.errors
    assert "customer" in errors["owner"][0] and "installer" in errors["installer"][0]
    assert not Plant.objects.filter(name="Admin-made plant").exists()


def test_admin_saves_a_plant_without_mounting_and_shows_what_the_model_lacks(padmin_client):
    """Mounting is optional in the admin too (the API's rule); the change page names what the
    forecasts would refuse for, by the same check."""
    tracker = padmin_client.post(
        _url(Plant, "add"), _plant_post(tracking=Tracking.SINGLE_AXIS, axis_azimuth=180, max_angle=None, gcr=None)
    )
    assert tracker.status_code == 302, tracker.context["adminform"].form.errors
    plant = Plant.objects.get(name="Admin-made plant")
    page = padmin_client.get(_url(Plant, "change", plant.pk)).content.decode()
    assert "Model readiness" in page and "Not ready for forecasts" in page
    for field in ("axis_tilt", "max_angle", "gcr", "panel_specs"):
        assert f"{field}:" in page, field


def test_membership_inline_cannot_grant_owner_role_to_someone_else(padmin_client, own_plant, outsider):
    data = _plant_post(
        owner=own_plant.owner_id, installer=own_plant.installer_id, plant_code=own_plant.plant_code, name="Own plant"
    )
    data.update(_management("memberships", total=1))
    data.update({"memberships-0-user": str(outsider.pk), "memberships-0-role": PlantRole.OWNER})
    response = padmin_client.post(_url(Plant, "change", own_plant.pk), data)
    assert response.status_code == 200
    assert not PlantMembership.objects.filter(plant=own_plant, user=outsider).exists()

    data["memberships-0-role"] = PlantRole.VIEWER
    assert padmin_client.post(_url(Plant, "change", own_plant.pk), data).status_code == 302
    viewer = PlantMembership.objects.get(plant=own_plant, user=outsider)
    assert viewer.role == PlantRole.VIEWER and viewer.granted_by is not None


def _device_post(plant, **fields) -> dict:
    data = {"plant": plant.pk, "type": "", "name": "", "serial_number": "", "operational": "on"}
    data.update({k: ("" if v is None else str(v)) for k, v in fields.items()})
    return data


def test_device_admin_saves_the_typed_datasheet_and_checks_the_parent(padmin_client, own_plant, fleet):
    data = _device_post(own_plant, type="inverter", name="INV-9", serial_number="SN-INV-9")
    data.update(_management("inverter_datasheet", total=1))
    data.update({"inverter_datasheet-0-nominal_output_power_kw": "110", "inverter_datasheet-0-phases": "3"})
    response = padmin_client.post(_url(Device, "add") + "?type=inverter", data)
    assert response.status_code == 302
    assert InverterDatasheet.objects.get(device__serial_number="SN-INV-9").nominal_output_power_kw == 110

    wrong_parent = _device_post(
        own_plant, type="string_monitoring_box", name="SMB", serial_number="SN-SMB-9", parent=fleet["meter"].pk
    )
    response = padmin_client.post(_url(Device, "add"), wrong_parent)
    assert response.status_code == 200
    assert "must be a inverter" in response.context["adminform"].form.errors["parent"][0]


def test_changing_a_device_type_drops_the_old_datasheet(padmin_client, own_plant, fleet):
    meter = fleet["meter"]
    data = _device_post(own_plant, type="string_monitoring_box", name=meter.name, serial_number=meter.serial_number)
    data["parent"] = fleet["inverter"].pk
    data.update(_management("meter_datasheet", total=1, initial=1))
    data.update({"meter_datasheet-0-id": str(meter.meter_datasheet.pk), "meter_datasheet-0-device": str(meter.pk)})
    response = padmin_client.post(_url(Device, "change", meter.pk), data)
    assert response.status_code == 302
    assert not MeterDatasheet.objects.filter(device=meter).exists()
    assert not StringBoxDatasheet.objects.filter(device=meter).exists()  # added on the next visit


# ---------------------------------------------------------------------------------------------
# bulk actions


def test_bulk_action_marks_selected_devices_non_operational_then_operational(padmin_client, fleet):
    chosen = [fleet["inverter"].pk, fleet["meter"].pk]
    response = padmin_client.post(
        _url(Device, "changelist"), {"action": "mark_non_operational", "_selected_action": chosen}, follow=True
    )
    assert response.status_code == 200 and b"2 devices marked non-operational" in response.content
    assert set(Device.objects.filter(operational=False).values_list("pk", flat=True)) == set(chosen)

    padmin_client.post(_url(Device, "changelist"), {"action": "mark_operational", "_selected_action": chosen})
    assert not Device.objects.filter(operational=False).exists()


def test_csv_export_has_the_columns_and_one_line_per_selected_device(padmin_client, own_plant, fleet):
    fleet["inverter"].capacity_kw = 110.0
    fleet["inverter"].save()
    chosen = [fleet["inverter"], fleet["string_monitoring_box"], fleet["weather_station"]]
    response = padmin_client.post(
        _url(Device, "changelist"), {"action": "export_csv", "_selected_action": [d.pk for d in chosen]}
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == [
        "type", "name", "serial_number", "manufacturer", "model", "firmware", "capacity_kw",
        "commissioned_at", "operational", "parent_serial", "plant_code",
    ]  # fmt: skip
    body = {row[2]: dict(zip(rows[0], row, strict=True)) for row in rows[1:]}
    assert len(rows) == 1 + len(chosen) and set(body) == {d.serial_number for d in chosen}
    assert body["SN-string_monitoring_box"]["parent_serial"] == "SN-inverter"
    assert body["SN-inverter"]["capacity_kw"] == "110" and body["SN-inverter"]["operational"] == "true"
    assert {row["plant_code"] for row in body.values()} == {own_plant.plant_code}


def test_csv_export_defuses_spreadsheet_formulas(padmin_client, own_plant):
    device = Device.objects.create(plant=own_plant, type=DeviceType.LOGGER, name="=HYPERLINK(1)", serial_number="L1")
    response = padmin_client.post(_url(Device, "changelist"), {"action": "export_csv", "_selected_action": [device.pk]})
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[1][1] == "'=HYPERLINK(1)"


# ---------------------------------------------------------------------------------------------
# query counts do not grow with the rows


def _populate(customer, installer, start: int, count: int) -> None:
    for i in range(start, start + count):
        plant = make_plant(name=f"Bulk {i:03d}", owner=customer, installer=installer, plant_code=f"BULK-{i:03d}")
        inverter = _device(plant, DeviceType.INVERTER, f"INV-{i}")
        _device(plant, DeviceType.STRING_MONITORING_BOX, f"SMB-{i}", parent=inverter)
        PanelSpec.objects.create(
            plant=plant, panel_type=f"P-{i}", p_max_w=450, efficiency_pct=21, max_system_voltage_v=1500,
            max_series_fuse_rating_a=25,
        )  # fmt: skip


@pytest.mark.parametrize("model", [Plant, Device, PanelSpec, Job])
def test_changelist_query_count_does_not_grow_with_rows(
    padmin_client, customer, installer, plant_admin, django_assert_max_num_queries, model
):
    def populate(count: int) -> None:
        _populate(customer, installer, Plant.objects.count(), count)
        for plant in Plant.objects.order_by("-id")[:count]:
            Job.objects.create(kind="selfcheck", plant=plant, requested_by=plant_admin)

    populate(5)
    with CaptureQueriesContext(connection) as few:
        assert padmin_client.get(_url(model, "changelist")).status_code == 200
    populate(25)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = padmin_client.get(_url(model, "changelist"))
    assert response.status_code == 200
    assert response.context["cl"].result_count == model.objects.count() >= 30


def test_plant_admin_cannot_grant_superuser_rights_in_the_user_admin(padmin_client, customer):
    page = padmin_client.get(reverse("admin:accounts_user_change", args=[customer.pk]))
    assert page.status_code == 200
    assert b'name="is_superuser"' not in page.content  # shown read-only, not as an input
