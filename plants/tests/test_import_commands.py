"""The plant config (JSON) and device spreadsheet (CSV) imports, through their commands and services."""

from __future__ import annotations

import copy
import json
import re
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command, load_command_class
from django.core.management.base import CommandError

from accounts.choices import UserType
from accounts.services import user_create
from plants.choices import PlantRole
from plants.importers import ImportFailed, devices_csv_import, plant_config_import
from plants.importers.base import DEVICE_FIELDS, PANEL_SPEC_FIELDS, PLANT_FIELDS, SHEET_FIELDS
from plants.models import (
    BessDatasheet,
    Device,
    InverterDatasheet,
    MeterDatasheet,
    PanelSpec,
    PcsDatasheet,
    Plant,
    PlantMembership,
    StringBoxDatasheet,
)

pytestmark = pytest.mark.django_db

DOCS = Path(__file__).resolve().parents[2] / "docs"
EXAMPLE_JSON = DOCS / "examples" / "plant_config.json"
EXAMPLE_CSV = DOCS / "examples" / "devices.csv"
CODE = "SUN-TRK-001"
INV1, INV2, METER = "VT450C-24A0017", "VT450C-24A0018", "ABT-7731-0042"
MODELS = (Plant, PanelSpec, Device, PlantMembership, InverterDatasheet, MeterDatasheet, StringBoxDatasheet)


def counts() -> dict[str, int]:
    return {m.__name__: m.objects.count() for m in (*MODELS, BessDatasheet, PcsDatasheet)}


def example() -> dict:
    return copy.deepcopy(json.loads(EXAMPLE_JSON.read_text()))


def run(command: str, *args) -> str:
    out = StringIO()
    call_command(command, *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def import_json(tmp_path: Path, data: dict | str, *args) -> str:
    path = tmp_path / "plant.json"
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return run("import_plant_config", str(path), *args)


def import_csv(tmp_path: Path, text: str, *args, plant: str = CODE, encoding: str = "utf-8") -> str:
    path = tmp_path / "devices.csv"
    path.write_text(text, encoding=encoding)
    return run("import_devices", str(path), "--plant", plant, *args)


def problems_of(exc: pytest.ExceptionInfo) -> list[str]:
    return [line[4:] for line in str(exc.value).splitlines() if line.startswith("  - ")]


def fails(importer, *args) -> list[str]:
    """Run an import that must fail; return its problems and check that nothing was written."""
    before = counts()
    with pytest.raises(CommandError) as exc:
        importer(*args)
    assert "nothing was imported" in str(exc.value)
    assert counts() == before
    return problems_of(exc)


@pytest.fixture
def imported(tmp_path) -> Plant:
    import_json(tmp_path, example())
    return Plant.objects.get(plant_code=CODE)


def user(username: str, user_type: str = UserType.CUSTOMER):
    return user_create(email=f"{username}@example.com", password="x-Pass-1234", username=username, user_type=user_type)


# -- plant config: happy paths -----------------------------------------------------------------


def test_shipped_example_imports_completely(tmp_path):
    out = import_json(tmp_path, example())
    assert "plant: 1 created" in out and "inverter: 2 created" in out
    plant = Plant.objects.get(plant_code=CODE)
    assert (plant.tracking, plant.gcr, plant.max_angle, plant.timezone) == ("single_axis", 0.35, 55.0, "Asia/Kolkata")
    assert plant.installation_date.isoformat() == "2024-03-15"
    spec = plant.panel_specs.get()
    assert (spec.p_max_w, spec.v_oc_v, spec.coefficient_pmax_pct, spec.cell_count) == (550.0, 49.8, -0.34, 144)
    assert sorted(plant.devices.values_list("type", flat=True)) == [
        "inverter", "inverter", "meter", "string_monitoring_box", "string_monitoring_box", "weather_station",
    ]  # fmt: skip
    inverter = plant.devices.get(serial_number=INV1)
    assert inverter.inverter_datasheet.european_efficiency_pct == 98.6
    assert inverter.commissioned_at.isoformat() == "2024-03-20"
    assert plant.devices.get(serial_number=METER).meter_datasheet.is_abt is True
    box = plant.devices.get(serial_number="SCB-24-1002")
    assert box.parent.serial_number == INV2 and box.string_box_datasheet.no_strings == 35
    assert counts()["InverterDatasheet"] == 2 and counts()["StringBoxDatasheet"] == 2


def test_reimport_is_idempotent_and_updates_changed_values(tmp_path, imported):
    before = counts()
    out = import_json(tmp_path, example())
    assert counts() == before
    assert "inverter: 0 created, 0 updated, 2 unchanged" in out and "plant: 0 created, 0 updated, 1 unchanged" in out

    data = example()
    data["plant"]["name"] = "Sunfield Tracker Farm II"
    data["panel_specs"][0]["weight_kg"] = 28.0
    data["inverters"][0]["firmware"] = "3.3.0"
    data["inverters"][1]["datasheet"]["european_efficiency_pct"] = 98.2
    data["string_monitoring_boxes"][1]["parent"] = INV1
    out = import_json(tmp_path, data)
    assert counts() == before
    assert "inverter: 0 created, 2 updated, 0 unchanged" in out and "meter: 0 created, 0 updated, 1 unchanged" in out
    imported.refresh_from_db()
    assert imported.name == "Sunfield Tracker Farm II"
    assert imported.panel_specs.get().weight_kg == 28.0
    assert Device.objects.get(serial_number=INV1).firmware == "3.3.0"
    assert InverterDatasheet.objects.get(device__serial_number=INV2).european_efficiency_pct == 98.2
    assert Device.objects.get(serial_number="SCB-24-1002").parent.serial_number == INV1


def test_sections_and_keys_left_out_are_left_alone(tmp_path, imported):
    before = counts()
    import_json(tmp_path, {"plant": {"plant_code": CODE}, "inverters": [{"serial_number": INV1, "capacity_kw": 440.0}]})
    assert counts() == before
    inverter = Device.objects.get(serial_number=INV1)
    assert (inverter.capacity_kw, inverter.firmware, inverter.name) == (440.0, "3.2.1", "INV-01")
    assert inverter.inverter_datasheet.max_input_v == 1500.0
    assert Device.objects.get(serial_number="SCB-24-1001").parent_id == inverter.pk


def test_null_clears_optional_values_and_parents(tmp_path, imported):
    data = {"plant": {"plant_code": CODE, "elevation_m": None, "location": None}}
    data["string_monitoring_boxes"] = [{"serial_number": "SCB-24-1001", "parent": None}]
    import_json(tmp_path, data)
    imported.refresh_from_db()
    assert (imported.elevation_m, imported.location) == (None, "")
    assert Device.objects.get(serial_number="SCB-24-1001").parent is None


def test_missing_timezone_is_looked_up_and_missing_code_generated(tmp_path):
    data = example()
    del data["plant"]["timezone"], data["plant"]["plant_code"]
    import_json(tmp_path, data)
    plant = Plant.objects.get()
    assert plant.timezone == "Asia/Kolkata"
    assert re.fullmatch(r"PLT-[0-9A-F]{6}", plant.plant_code)


def test_seed_plant_id_is_stored_as_the_plant_code(tmp_path):
    data = example()
    del data["plant"]["plant_code"]
    data["plant"]["plant_id"] = 1042
    import_json(tmp_path, data)
    import_json(tmp_path, data)
    assert list(Plant.objects.values_list("plant_code", flat=True)) == ["1042"]


def test_owner_and_installer_by_username_or_email_get_memberships(tmp_path):
    owner, installer = user("sunowner"), user("builder", UserType.INSTALLER)
    data = example()
    data["plant"].update(owner="sunowner", installer="BUILDER@example.com")
    import_json(tmp_path, data)
    plant = Plant.objects.get()
    assert (plant.owner, plant.installer) == (owner, installer)
    roles = dict(PlantMembership.objects.filter(plant=plant).values_list("user__username", "role"))
    assert roles == {"sunowner": PlantRole.OWNER, "builder": PlantRole.INSTALLER}


def test_dry_run_writes_nothing(tmp_path):
    out = import_json(tmp_path, example(), "--dry-run")
    assert "Dry run" in out and "inverter: 2 created" in out
    assert counts() == dict.fromkeys(counts(), 0)


def test_dry_run_of_an_update_changes_nothing(tmp_path, imported):
    data = example()
    data["plant"]["name"] = "Renamed"
    out = import_json(tmp_path, data, "--dry-run")
    assert "plant: 0 created, 1 updated" in out
    imported.refresh_from_db()
    assert imported.name == "Sunfield Tracker Farm"


def test_documented_abbreviated_example_imports(tmp_path):
    user("customer"), user("installer", UserType.INSTALLER)
    block = re.search(r"```json\n(.*?)```", (DOCS / "plant-config.md").read_text(), re.S).group(1)
    out = import_json(tmp_path, block)
    assert "string_monitoring_box: 1 created" in out
    assert Plant.objects.get(plant_code="ROOF-042").timezone == "Europe/Berlin"


def test_docs_describe_every_importable_key():
    doc = (DOCS / "plant-config.md").read_text()
    keys = {*PLANT_FIELDS, *PANEL_SPEC_FIELDS, *DEVICE_FIELDS, *(k for sheet in SHEET_FIELDS.values() for k in sheet)}
    assert [key for key in sorted(keys) if f"`{key}`" not in doc] == []


# -- plant config: broken files ----------------------------------------------------------------


def broken(mutate) -> dict:
    data = example()
    data["plant"]["plant_code"] = "SUN-TRK-002"
    mutate(data)
    return data


def _set(path: str, value):
    def mutate(data):
        *parents, last = path.split(".")
        target = data
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        if value is KeyError:
            del target[last]
        else:
            target[last] = value

    return mutate


BROKEN = {
    "latitude 120": (_set("plant.latitude", 120), "plant.latitude: Ensure this value is less than or equal to 90.0."),
    "latitude text": (_set("plant.latitude", "north"), 'plant.latitude: expected a number, got "north"'),
    "bad timezone": (_set("plant.timezone", "Mars/Olympus"), "plant.timezone: 'Mars/Olympus' is not an IANA"),
    "gcr 1.5": (_set("plant.gcr", 1.5), "plant.gcr: GCR must be in (0, 1)."),
    "unknown parent": (
        _set("string_monitoring_boxes.0.parent", "INV-404"),
        "string_monitoring_boxes[0].parent: no device with serial number 'INV-404' in the input or on the plant",
    ),
    "parent not an inverter": (
        _set("string_monitoring_boxes.0.parent", METER),
        f"string_monitoring_boxes[0].parent: '{METER}' has type meter; the parent of a string_monitoring_box must",
    ),
    "duplicate serial": (
        _set("meters.0.serial_number", INV2),
        f"meters[0].serial_number: duplicate serial number '{INV2}' (also inverters[1])",
    ),
    "datasheet out of range": (
        _set("inverters.1.datasheet.european_efficiency_pct", 120),
        "inverters[1].datasheet.european_efficiency_pct: Ensure this value is less than or equal to 100.0.",
    ),
    "datasheet unknown key": (
        _set("inverters.0.datasheet.euro_efficiency_pct", 98),
        "inverters[0].datasheet.euro_efficiency_pct: unknown key (did you mean 'european_efficiency_pct'?)",
    ),
    "bad date": (_set("inverters.0.commissioned_at", "20/03/2024"), "inverters[0].commissioned_at: expected a date"),
    "no datasheet for wms": (
        _set("weather_stations.0.datasheet", {"p_kwp": 1}),
        "weather_stations[0].datasheet: devices of type weather_station have no datasheet",
    ),
    "panel spec without pmax": (_set("panel_specs.0.p_max_w", KeyError), "panel_specs[0].p_max_w: required"),
    "unknown top-level key": (_set("invertors", []), "invertors: unknown key (did you mean 'inverters'?)"),
    "unknown owner": (_set("plant.owner", "nobody"), "plant.owner: no user with username or e-mail 'nobody'"),
    "version 2": (_set("version", 2), "version: only version 1 is supported"),
}


@pytest.mark.parametrize("case", BROKEN)
def test_broken_config_is_refused_and_nothing_written(tmp_path, imported, case):
    mutate, expected = BROKEN[case]
    problems = fails(import_json, tmp_path, broken(mutate))
    assert any(p.startswith(expected) for p in problems), problems
    assert not Plant.objects.filter(plant_code="SUN-TRK-002").exists()


def test_mounting_is_optional_and_the_summary_names_what_the_model_lacks(tmp_path):
    """The API's rule: a plant imports without its mounting; the summary says what forecasts
    and expected power would refuse for (the same check they apply)."""

    def no_geometry(data):
        for key in ("gcr", "max_angle", "axis_tilt", "axis_azimuth"):
            data["plant"].pop(key, None)

    out = import_json(tmp_path, broken(no_geometry))
    plant = Plant.objects.get(plant_code="SUN-TRK-002")
    assert plant.tracking == "single_axis" and plant.gcr is None
    assert "Not ready for forecasts" in out
    for key in ("axis_tilt", "axis_azimuth", "max_angle", "gcr"):
        assert f"  - plant.{key}: Required" in out, out
    complete = import_json(tmp_path, example())
    assert "Not ready" not in complete, complete


def test_missing_required_plant_fields_are_all_listed(tmp_path):
    data = broken(lambda d: [d["plant"].pop(k) for k in ("name", "latitude", "total_power_output_kw")])
    problems = fails(import_json, tmp_path, data)
    for key in ("name", "latitude", "total_power_output_kw"):
        assert f"plant.{key}: required" in problems


def test_owner_who_is_an_installer_is_refused(tmp_path):
    user("fitter", UserType.INSTALLER)
    problems = fails(import_json, tmp_path, broken(_set("plant.owner", "fitter")))
    assert problems == ["plant.owner: 'fitter' is not a customer account (user type installer)"]


def test_all_problems_of_a_file_are_reported_together(tmp_path):
    def many(data):
        data["plant"]["latitude"] = 120
        data["plant"]["gcr"] = 1.5
        data["string_monitoring_boxes"][1]["parent"] = "INV-404"
        data["colour"] = "blue"

    problems = fails(import_json, tmp_path, broken(many))
    assert len(problems) == 4, problems
    assert [p.split(":")[0] for p in problems] == [
        "colour", "plant.latitude", "plant.gcr", "string_monitoring_boxes[1].parent",
    ]  # fmt: skip


def test_failed_update_leaves_the_existing_plant_untouched(tmp_path, imported):
    data = example()
    data["plant"]["name"] = "Renamed"
    data["inverters"][0]["firmware"] = "9.9.9"
    data["inverters"][1]["datasheet"]["phases"] = 4
    problems = fails(import_json, tmp_path, data)
    assert problems == ["inverters[1].datasheet.phases: Ensure this value is less than or equal to 3."]
    imported.refresh_from_db()
    assert imported.name == "Sunfield Tracker Farm"
    assert Device.objects.get(serial_number=INV1).firmware == "3.2.1"


def test_device_type_is_never_changed_by_an_import(tmp_path, imported):
    data = {"plant": {"plant_code": CODE}, "meters": [{"serial_number": INV1, "name": "oops"}]}
    problems = fails(import_json, tmp_path, data)
    assert problems == [
        f"meters[0].serial_number: '{INV1}' is registered on this plant with type inverter, not meter "
        "(imports never change a device's type)"
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{\n  "plant": {,\n}', "is not valid JSON: Expecting property name enclosed in double quotes at line 2"),
        ("", "is not valid JSON: Expecting value at line 1, column 1."),
        ("[1, 2]", "(top level): expected a JSON object"),
        ('{"plant": {"name": "a", "name": "b"}}', "name: duplicate key in one JSON object"),
    ],
)
def test_unparseable_json_is_a_clear_error(tmp_path, text, expected):
    with pytest.raises(CommandError, match=re.escape(expected)):
        import_json(tmp_path, text)
    assert counts() == dict.fromkeys(counts(), 0)


def test_unreadable_file_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match=r"Cannot read .*missing\.json"):
        run("import_plant_config", str(tmp_path / "missing.json"))


def test_command_line_prints_every_problem_to_stderr_and_exits_1(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr("django.db.connections.close_all", lambda: None)  # keep the test's transaction
    path = tmp_path / "plant.json"
    path.write_text(json.dumps(broken(lambda d: d["plant"].update(latitude=120, gcr=1.5))))
    command = load_command_class("plants", "import_plant_config")
    with pytest.raises(SystemExit) as exc:
        command.run_from_argv(["manage.py", "import_plant_config", str(path)])
    assert exc.value.code == 1
    err = capsys.readouterr().err
    assert "plant.latitude: Ensure" in err and "plant.gcr: GCR must be in (0, 1)." in err


def test_service_raises_import_failed_with_every_problem():
    with pytest.raises(ImportFailed) as exc:
        plant_config_import(data={"plant": {"plant_code": "X", "latitude": 91}, "inverters": [{"name": "no serial"}]})
    assert "plant.latitude: Ensure this value is less than or equal to 90.0." in exc.value.problems
    assert "inverters[0].serial_number: required, a non-empty string" in exc.value.problems
    assert "plant.name: required" in exc.value.problems and Plant.objects.count() == 0


# -- devices CSV -------------------------------------------------------------------------------


def test_shipped_example_csv_imports_onto_the_example_plant(imported):
    out = run("import_devices", str(EXAMPLE_CSV), "--plant", CODE)
    assert "logger: 1 created" in out and "inverter: 0 created, 1 updated" in out
    assert Device.objects.get(serial_number="LOG-2024-0007").commissioned_at.isoformat() == "2024-03-18"
    aux = Device.objects.get(serial_number="AUX-7731-0107")
    assert (aux.type, aux.meter_datasheet.is_abt, aux.meter_datasheet.phase_frequency_hz) == ("meter", False, 50.0)
    inverter = Device.objects.get(serial_number=INV2)
    assert (inverter.firmware, inverter.name, inverter.capacity_kw) == ("3.2.2", "INV-02", 450.0)
    assert inverter.inverter_datasheet.european_efficiency_pct == 98.7
    assert inverter.inverter_datasheet.max_input_v == 1500.0  # empty cells keep stored values

    before = counts()
    out = run("import_devices", str(EXAMPLE_CSV), "--plant", CODE)
    assert counts() == before and " 0 created" in out and "1 updated" not in out


def test_csv_with_bom_parents_in_file_and_header_spaces(tmp_path, imported):
    text = (
        " type , name ,serial_number,parent_serial,no_strings,nominal_output_power_kw,operational\n"
        "string_monitoring_box,SCB-03,SCB-24-1003,INV-NEW,12,,no\n"
        "Inverter,INV-03,INV-NEW,,,100,YES\n"
    )
    import_csv(tmp_path, text, encoding="utf-8-sig")
    box = Device.objects.get(serial_number="SCB-24-1003")
    assert (box.parent.serial_number, box.operational, box.string_box_datasheet.no_strings) == ("INV-NEW", False, 12)
    assert box.parent.inverter_datasheet.nominal_output_power_kw == 100.0


def test_broken_csv_lists_every_problem_with_line_numbers(tmp_path, imported):
    text = (
        "type,name,serial_number,capacity_kw,commissioned_at,operational,parent_serial,no_strings,colour\n"
        "inverter,INV-03,INV-03,12,5,2024-01-01,true,,,\n"
        "invertor,INV-04,INV-04,,,,,,\n"
        "string_monitoring_box,SCB-09,SCB-09,,2024-13-01,maybe,INV-404,,\n"
        "string_monitoring_box,SCB-10,SCB-10,,,,ABT-7731-0042,65,\n"
        "meter,M-2,INV-03,,,,,3,\n"
        "logger,,LOG-9,,,,,,\n"
    )
    problems = fails(import_csv, tmp_path, text)
    expected = [
        "header: unknown column 'colour'",
        "line 2: more cells than there are columns",
        "line 3: type: unknown device type 'invertor'",
        'line 4: commissioned_at: expected a date as YYYY-MM-DD, got "2024-13-01"',
        'line 4: operational: expected true or false, got "maybe"',
        "line 5: no_strings: Ensure this value is less than or equal to 64.",
        "line 6: serial_number: duplicate serial number 'INV-03' (also on line 2)",
        "line 7: name: required",
        "line 4: parent_serial: no device with serial number 'INV-404' in the input or on the plant",
        "line 5: parent_serial: 'ABT-7731-0042' has type meter; the parent of a string_monitoring_box must have type",
    ]
    for item in expected:
        assert any(p.startswith(item) for p in problems), (item, problems)


def test_csv_bad_number_and_inapplicable_datasheet_column(tmp_path, imported):
    text = "type,name,serial_number,capacity_kw,no_strings\ninverter,INV-03,INV-03,12 kW,\nmeter,M,M-3,,4\n"
    problems = fails(import_csv, tmp_path, text)
    assert problems == [
        'line 2: capacity_kw: expected a number, got "12 kW"',
        "line 3: no_strings: not a datasheet field of type meter (leave the cell empty)",
    ]


def test_csv_header_problems(tmp_path, imported):
    problems = fails(import_csv, tmp_path, "name,name,capacity_kwh\n")
    assert problems == [
        "header: column 'name' appears 2 times",
        "header: unknown column 'capacity_kwh' (did you mean 'capacity_kw'?)",
        "header: required column 'type' is missing",
        "header: required column 'serial_number' is missing",
    ]


def test_csv_dry_run_writes_nothing(tmp_path, imported):
    before = counts()
    out = import_csv(tmp_path, "type,name,serial_number\nlogger,L,LOG-1\n", "--dry-run")
    assert "logger: 1 created" in out and "Dry run" in out
    assert counts() == before


def test_csv_unknown_plant_and_empty_file(tmp_path, imported):
    with pytest.raises(CommandError, match="No plant with plant_code 'NOPE'"):
        import_csv(tmp_path, "type,name,serial_number\n", plant="NOPE")
    with pytest.raises(CommandError, match="is empty"):
        import_csv(tmp_path, "")


def test_csv_service_takes_rows_directly(imported):
    rows = [{"type": "bess", "name": "BESS-1", "serial_number": "B-1", "energy_rating_kwh": "500", "chemistry": "lfp"}]
    rows.append({"type": "bess_rack", "name": "Rack 1", "serial_number": "R-1", "parent_serial": "B-1"})
    result = devices_csv_import(plant=imported, rows=rows)
    assert result.created == {"bess": 1, "bess_rack": 1}
    assert "bess_rack: 1 created, 0 updated, 0 unchanged" in result.summary()
    assert Device.objects.get(serial_number="R-1").parent.bess_datasheet.chemistry == "lfp"
    with pytest.raises(ImportFailed) as exc:
        devices_csv_import(plant=imported, rows=[{"type": "bess", "serial_number": "B-1", "chemistry": "lithium"}])
    assert exc.value.problems == ["line 2: chemistry: Value 'lithium' is not a valid choice."]
