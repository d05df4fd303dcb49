"""`seed_demo` creates the demo accounts make run prints plus the demo plants and devices, and
running it again changes nothing. Each demo customer sees only their own plants. With
telemetry (the default, and what `make run` does) it also simulates the last 7 days of readings
and, run again, adds only what is missing. The registry tests seed without telemetry to stay
fast; one test runs the whole default seed."""

from __future__ import annotations

import datetime as dt
import io
from itertools import pairwise

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core import mail
from django.core.management import call_command
from django.db.models import Count
from pypdf import PdfReader

from accounts.choices import UserType
from alarms.models import Alarm, NotificationDelivery
from demo.seed import DEMO_USERS, demo_telemetry_seed
from plants.choices import DeviceType, PlantRole, Tracking
from plants.models import DATASHEETS, Device, PanelSpec, Plant, PlantMembership
from reports.demo import DEMO_REPORT_NAME
from reports.models import ReportJob
from solarhub.testing.personas import api_client_for
from telemetry.models import LatestValue, Reading
from telemetry.simulator.devices import FAULT
from twins.models import DigitalTwin

pytestmark = pytest.mark.django_db

ROOFTOP, FARM, HOME = "DEMO-ROOF-01", "DEMO-FARM-01", "DEMO2-HOME-01"
STORAGE = "DEMO-BESS-01"  # the solar + storage site (storage/tests/test_demo.py)


def _seed(*args: str) -> str:
    out = io.StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def _seed_registry() -> str:
    return _seed("--telemetry-days", "0")


def _snapshot() -> dict:
    """Every row the seeder writes, with the columns a re-run could touch."""
    return {
        "users": list(get_user_model().objects.order_by("id").values_list("id", "username", "password")),
        "plants": list(Plant.objects.order_by("id").values_list("id", "plant_code", "owner_id", "updated_at")),
        "panel_specs": list(PanelSpec.objects.order_by("id").values_list("id", "plant_id", "updated_at")),
        "devices": list(Device.objects.order_by("id").values_list("id", "serial_number", "parent_id", "updated_at")),
        "memberships": list(PlantMembership.objects.order_by("id").values_list("id", "user_id", "plant_id", "role")),
        "datasheets": {rel: model.objects.count() for _type, (model, rel) in DATASHEETS.items()},
    }


@pytest.fixture
def seeded() -> str:
    return _seed_registry()


def _user(username: str):
    return get_user_model().objects.get(username=username)


def test_seed_demo_is_idempotent_and_prints_working_credentials(seeded):
    first = _snapshot()
    second_output = _seed_registry()
    assert _snapshot() == first
    assert "created" not in second_output  # everything already existed

    for demo in DEMO_USERS:
        assert f"username={demo.username}" in seeded and f"password={demo.password}" in seeded
        user = authenticate(username=demo.username, password=demo.password)
        assert user is not None and user.user_type == demo.user_type
    assert "username=admin " in seeded  # CI greps for it
    admin = _user("admin")
    assert admin.user_type == UserType.PLANT_ADMIN and admin.is_staff and admin.is_superuser
    assert {demo.user_type for demo in DEMO_USERS} == {UserType.PLANT_ADMIN, UserType.INSTALLER, UserType.CUSTOMER}
    for code in (ROOFTOP, FARM, HOME):
        assert f"plant {code}" in seeded


def test_seed_demo_recreates_only_what_is_missing(seeded):
    Device.objects.filter(serial_number="SMB-F101").delete()
    PanelSpec.objects.filter(plant__plant_code=HOME).delete()
    counts = (Device.objects.count(), PanelSpec.objects.count())
    _seed_registry()
    assert (Device.objects.count(), PanelSpec.objects.count()) == (counts[0] + 1, counts[1] + 1)
    box = Device.objects.get(serial_number="SMB-F101")
    assert box.parent.serial_number == "HS1150-2401-0001" and box.string_box_datasheet.no_strings == 15


def test_demo_plants_have_owner_installer_and_synced_memberships(seeded):
    demo, demo2, installer = _user("demo"), _user("demo2"), _user("installer1")
    plants = {p.plant_code: p for p in Plant.objects.all()}
    assert set(plants) == {ROOFTOP, FARM, HOME, STORAGE}
    for code, owner in ((ROOFTOP, demo), (FARM, demo), (HOME, demo2)):
        plant = plants[code]
        assert (plant.owner, plant.installer) == (owner, installer)
        roles = dict(plant.memberships.values_list("user_id", "role"))
        assert roles == {owner.pk: PlantRole.OWNER, installer.pk: PlantRole.INSTALLER}
    assert demo2.user_type == UserType.CUSTOMER

    roof, farm = plants[ROOFTOP], plants[FARM]
    assert roof.tracking == Tracking.FIXED and roof.surface_tilt and roof.surface_azimuth == 180
    assert 90 <= roof.total_power_output_kw <= 120
    assert farm.tracking == Tracking.SINGLE_AXIS and 4500 <= farm.total_power_output_kw <= 5500
    assert (farm.axis_azimuth, farm.max_angle, farm.backtrack) == (180, 60, True)
    assert 0.3 <= farm.gcr <= 0.4


@pytest.mark.parametrize("code", [ROOFTOP, FARM, HOME])
def test_demo_plant_panel_spec_is_a_full_datasheet(seeded, code):
    spec = PanelSpec.objects.get(plant__plant_code=code)
    assert 400 <= spec.p_max_w <= 550
    for name in (
        "v_oc_v", "i_sc_a", "v_mp_v", "i_mp_a", "efficiency_pct", "coefficient_pmax_pct", "coefficient_voc_pct",
        "coefficient_isc_pct", "t_noct_c", "dimension_length_mm", "dimension_width_mm", "weight_kg", "cell_count",
    ):  # fmt: skip
        assert getattr(spec, name) is not None, name
    assert spec.v_mp_v * spec.i_mp_a == pytest.approx(spec.p_max_w, rel=0.01)
    area_m2 = spec.dimension_length_mm * spec.dimension_width_mm / 1e6
    assert spec.p_max_w / area_m2 / 10 == pytest.approx(spec.efficiency_pct, abs=0.2)
    assert spec.coefficient_pmax_pct < 0 < spec.coefficient_isc_pct


@pytest.mark.parametrize(("code", "abt"), [(ROOFTOP, False), (FARM, True), (HOME, False)])
def test_demo_plant_devices_have_types_parents_and_datasheets(seeded, code, abt):
    devices = list(Device.objects.filter(plant__plant_code=code).select_related("parent"))
    by_type: dict[str, list[Device]] = {}
    for device in devices:
        by_type.setdefault(device.type, []).append(device)
    assert {DeviceType.INVERTER, DeviceType.STRING_MONITORING_BOX, DeviceType.WEATHER_STATION, DeviceType.METER} == set(
        by_type
    )
    assert len(by_type[DeviceType.WEATHER_STATION]) == 1 and len(by_type[DeviceType.METER]) == 1
    for device in devices:
        expected_parent = DeviceType.INVERTER if device.type == DeviceType.STRING_MONITORING_BOX else None
        assert (device.parent.type if device.parent else None) == expected_parent, device
        if device.parent:
            assert device.parent.plant_id == device.plant_id
        if device.type in DATASHEETS:
            assert hasattr(device, DATASHEETS[device.type][1]), f"{device} has no datasheet"
    for inverter in by_type[DeviceType.INVERTER]:
        sheet = inverter.inverter_datasheet
        assert sheet.nominal_output_power_kw and sheet.european_efficiency_pct and sheet.phases
        assert sheet.mpp_range_min_v < sheet.mpp_range_max_v <= sheet.max_input_v
        assert inverter.children.exists()  # every inverter feeds at least one string box
    for box in by_type[DeviceType.STRING_MONITORING_BOX]:
        assert box.string_box_datasheet.no_strings >= 1
    assert by_type[DeviceType.METER][0].meter_datasheet.is_abt is abt


def test_farm_strings_add_up(seeded):
    farm = Plant.objects.get(plant_code=FARM)
    boxes = Device.objects.filter(plant=farm, type=DeviceType.STRING_MONITORING_BOX).select_related(
        "string_box_datasheet"
    )
    strings = sum(box.string_box_datasheet.no_strings for box in boxes)
    assert strings == farm.no_of_inverters * farm.string_per_inverter
    assert strings * farm.panel_per_string == farm.no_of_panels


def _plant_ids_seen_by(username: str) -> set[int]:
    response = api_client_for(_user(username)).get("/api/plants")
    assert response.status_code == 200
    assert isinstance(response.json(), list)
    return {item["id"] for item in response.json()}


def test_each_demo_account_sees_exactly_its_plants_through_the_api(seeded):
    ids = dict(Plant.objects.values_list("plant_code", "id"))
    assert _plant_ids_seen_by("demo") == {ids[ROOFTOP], ids[FARM], ids[STORAGE]}
    assert _plant_ids_seen_by("demo2") == {ids[HOME]}
    assert _plant_ids_seen_by("installer1") == {ids[ROOFTOP], ids[FARM], ids[HOME], ids[STORAGE]}
    assert _plant_ids_seen_by("admin") == set(ids.values())
    # and demo cannot open demo2's plant either
    assert api_client_for(_user("demo")).get(f"/api/plants/{ids[HOME]}").status_code == 404


def _inverter_readings(plant: Plant, key: str):
    inverters = Device.objects.filter(plant=plant, type=DeviceType.INVERTER)
    return Reading.objects.filter(device__in=inverters, metric__key=key)


@pytest.mark.slow
def test_seed_demo_simulates_a_week_of_telemetry_and_then_adds_only_what_is_missing(
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True):  # the report jobs run after commit
        output = _seed()  # what `make run` does
    assert "Simulated telemetry, last 7 days" in output
    plants = list(Plant.objects.order_by("id"))
    newest = {}
    for plant in plants:
        assert f"{plant.plant_code}: " in output and "weak string" in output and "fault: outage" in output
        times = _inverter_readings(plant, "ac_power").order_by("ts").values_list("ts", flat=True)
        first, last = times.first(), times.last()
        assert last - first >= dt.timedelta(days=7)  # a full week of 5-minute inverter data
        per_inverter = _inverter_readings(plant, "energy_total").values("device").distinct().count()
        assert per_inverter == Device.objects.filter(plant=plant, type=DeviceType.INVERTER).count()
        assert _inverter_readings(plant, "status_code").filter(value=FAULT).exists()  # the outage
        newest[plant.pk] = Reading.objects.filter(device__plant=plant).order_by("-ts").values_list("ts", flat=True)[0]
        # the simulated outage raises a real inverter-fault alarm through the default rules
        fault = Alarm.objects.get(plant=plant, rule__name="Inverter fault")
        assert "GROUND_FAULT" in fault.message and fault.device.type == DeviceType.INVERTER
    # the weak string raises string-deviation alarms where there are string boxes
    assert Alarm.objects.filter(rule__rule_type="string_deviation", message__contains="below the median").exists()
    for device in Device.objects.filter(plant__in=plants, type=DeviceType.WEATHER_STATION):
        assert Reading.objects.filter(device=device, metric__key="irradiance_poa").exists()
    # every demo device reports: all 24 combiner boxes of the farm, not only one per inverter
    silent = Device.objects.filter(plant__in=plants).exclude(id__in=LatestValue.objects.values("device_id"))
    assert list(silent.values_list("name", flat=True)) == []
    # the alarms are real, but the seed's week-old news notifies nobody
    assert mail.outbox == [] and not NotificationDelivery.objects.exists()
    # grid meters count export (a storage site's aux and PV meters are the storage simulator's)
    meters = Device.objects.filter(plant__in=plants, type=DeviceType.METER)
    for device in meters.exclude(meter_datasheet__role__in=["aux", "pv"]):
        assert Reading.objects.filter(device=device, metric__key="export_energy").exists()
    _assert_the_seeded_week_reports(output, plants)

    # Again: registry unchanged; readings only after each plant's newest one (a few samples if a
    # 5-minute mark passed meanwhile, none otherwise).
    registry = _snapshot()
    up_to_newest = {p.pk: Reading.objects.filter(device__plant=p, ts__lte=newest[p.pk]).count() for p in plants}
    total = Reading.objects.count()
    again = _seed()
    assert "created" not in again and _snapshot() == registry
    for plant in plants:
        assert Reading.objects.filter(device__plant=plant, ts__lte=newest[plant.pk]).count() == up_to_newest[plant.pk]
    # at most two 5-minute marks passed during the second run: bound the new rows by the busiest mark
    busiest_mark = (
        Reading.objects.filter(ts__lte=max(newest.values()))
        .values("ts")
        .annotate(n=Count("device"))
        .order_by("-n")
        .values_list("n", flat=True)[0]
    )
    assert Reading.objects.count() - total <= 2 * busiest_mark

    # Hours later: the gap is filled from where each plant stopped, counters keep counting.
    before = {plant.pk: Reading.objects.filter(device__plant=plant).count() for plant in plants}
    later = max(newest.values()) + dt.timedelta(hours=6)
    telemetry = demo_telemetry_seed(now=later, fold=False)
    for item in telemetry.plants:
        plant = item.plant
        assert item.result is not None and item.result.rows_written > 0 and not item.result.faults
        assert Reading.objects.filter(device__plant=plant).count() == before[plant.pk] + item.result.rows_written
        for inverter in Device.objects.filter(plant=plant, type=DeviceType.INVERTER):
            total = list(
                Reading.objects.filter(device=inverter, metric__key="energy_total")
                .order_by("ts")
                .values_list("value", flat=True)
            )
            assert all(b >= a for a, b in pairwise(total))
        latest = LatestValue.objects.filter(device__plant=plant).order_by("-ts").values_list("ts", flat=True)[0]
        assert latest <= later
    assert all(item.result is None for item in demo_telemetry_seed(now=later, fold=False).plants)


def _assert_the_seeded_week_reports(output: str, plants: list[Plant]) -> None:
    """Each demo plant has a weekly PDF of the simulated week, and its IEC 61724-1 KPIs over HTTP
    are those of a healthy plant with one outage: PR in 0.7-0.9, the outage's lost energy."""
    for plant in plants:
        report = ReportJob.objects.get(plant=plant, name=DEMO_REPORT_NAME)
        assert report.status == "completed", report.error
        assert f"report  {plant.plant_code:<13} {DEMO_REPORT_NAME}" in output
        assert (report.period_end - report.period_start).days == 6
        owner = api_client_for(plant.owner)
        pdf = owner.get(f"/api/reports/{report.pk}/download", {"format": "pdf"})
        assert pdf.status_code == 200
        pages = PdfReader(io.BytesIO(b"".join(pdf.streaming_content))).pages
        assert len(pages) >= 2 and plant.name in pages[0].extract_text()
        # The days fully inside the simulated window (the outage is in them: the first run places it).
        response = owner.get(
            f"/api/plants/{plant.pk}/kpis",
            {"start": str(report.period_start + dt.timedelta(days=1)), "end": str(report.period_end)},
        )
        assert response.status_code == 200, response.content
        kpis = response.json()
        if not Device.objects.filter(plant=plant, type=DeviceType.WEATHER_STATION).exists():
            # the storage site (storage.demo) measures no irradiance: no PR, and the KPIs say why
            assert kpis["total"]["performanceRatio"] is None
            assert any("no weather station" in note for note in kpis["notes"]), kpis["notes"]
            continue
        # Each plant has one weak string carrying 70 % (telemetry.simulator): on the home's two
        # strings that is a 15 % loss by design, on the others ~1 %. Divided out, PR is a healthy one.
        strings = plant.no_of_panels / plant.panel_per_string if plant.no_of_panels and plant.panel_per_string else 0
        weak_string_loss = 0.3 / strings if strings else 0.0
        pr = kpis["total"]["performanceRatio"] / (1 - weak_string_loss)
        assert 0.7 <= pr <= 0.9, (plant.plant_code, weak_string_loss, kpis["total"])
        assert kpis["losses"]["downtimeKwh"] > 0, kpis["losses"]
        assert any(inverter["lostEnergyKwh"] > 0 for inverter in kpis["inverters"])
        assert min(inverter["availabilityTime"] for inverter in kpis["inverters"]) < 1


def test_the_demo_rooftop_and_farm_get_generated_twins(seeded):
    twins = {twin.plant.plant_code: twin for twin in DigitalTwin.objects.select_related("plant")}
    assert set(twins) == {ROOFTOP, FARM}
    roof, farm = twins[ROOFTOP], twins[FARM]
    assert roof.panel_count == Plant.objects.get(plant_code=ROOFTOP).no_of_panels == 240
    assert farm.panel_count == Plant.objects.get(plant_code=FARM).no_of_panels
    obstacles = [o for o in roof.twin_data["scene"]["objects"] if o["type"] == "structure"]
    kinds = sorted(o["metadata"]["kind"] for o in obstacles)
    assert kinds == ["chimney", "parapet", "parapet", "parapet", "parapet"]
    versions = {code: twin.version for code, twin in twins.items()}
    _seed_registry()  # a re-run leaves the twins alone
    assert {t.plant.plant_code: t.version for t in DigitalTwin.objects.select_related("plant")} == versions
    demo = api_client_for(_user("demo"))
    assert demo.get(f"/api/digital-twins/{roof.pk}/gltf").status_code == 200
    assert api_client_for(_user("demo2")).get(f"/api/digital-twins/{roof.pk}").status_code == 404


def test_seed_demo_with_collector_polls_the_demo_inverter_over_modbus():
    """`make run` seeds with --collector: the demo home's inverter is read over SunSpec Modbus TCP
    from the simulator and its values stored; the config is left disabled (the simulator is gone)."""
    output = _seed("--telemetry-days", "0", "--collector")
    inverter = Device.objects.get(plant__plant_code=HOME, type=DeviceType.INVERTER)
    assert f"collector: polled {inverter.name} ({inverter.serial_number}" in output, output
    stored = {r.metric.key: r.value for r in Reading.objects.filter(device=inverter).select_related("metric")}
    assert {"ac_power", "energy_total"} <= set(stored), stored
    assert stored["energy_total"] > 0
    collection = api_client_for(_user("demo2")).get(f"/api/devices/{inverter.pk}/collection").json()
    assert collection["lastPoll"]["ok"] is True and collection["lastPoll"]["stored"]
    assert collection["config"]["driver"] == "sunspec_modbus_tcp" and collection["config"]["enabled"] is False
