"""The telemetry simulator: plausible physics per device type, the weak string, the injected
outage and stuck sensor, determinism, idempotency, counters that continue across runs, and the
``simulate_telemetry`` command. Each test simulates one or two days of a demo plant."""

from __future__ import annotations

import io
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pvlib
import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from demo.seed import demo_seed
from plants.choices import DeviceType
from plants.hooks import plant_created_send
from plants.models import Device, Plant
from telemetry.models import Reading
from telemetry.simulator import telemetry_simulate
from telemetry.simulator.devices import FAULT, MPPT, SLEEPING

pytestmark = pytest.mark.django_db

ROOFTOP, FARM, HOME = "DEMO-ROOF-01", "DEMO-FARM-01", "DEMO2-HOME-01"
CLEAR_DAY = date(2025, 6, 30)  # a clear day in the bundled TMY3 (daily clearness index 0.69)


@pytest.fixture
def plants() -> dict[str, Plant]:
    demo_seed()
    return {plant.plant_code: plant for plant in Plant.objects.all()}


def _simulate(plant: Plant, first_day: date, days: int = 1, **options):
    zone = ZoneInfo(plant.timezone)
    options.setdefault("fold", False)  # rollups have their own tests
    return telemetry_simulate(
        plant=plant,
        start=datetime.combine(first_day, time(), tzinfo=zone),
        end=datetime.combine(first_day + timedelta(days=days), time(), tzinfo=zone),
        **options,
    )


def _series(device: Device, key: str) -> pd.Series:
    rows = Reading.objects.filter(device=device, metric__key=key).order_by("ts").values_list("ts", "value")
    ts, values = zip(*rows, strict=True) if rows else ((), ())
    return pd.Series(values, index=pd.DatetimeIndex(ts), dtype=float)


def _devices(plant: Plant, kind: str) -> list[Device]:
    return list(Device.objects.filter(plant=plant, type=kind).order_by("id"))


def _all_rows(plant: Plant) -> list[tuple]:
    devices = Device.objects.filter(plant=plant).values("id")
    return list(
        Reading.objects.filter(device_id__in=devices)
        .order_by("device_id", "metric_id", "ts")
        .values_list("device_id", "metric_id", "ts", "value")
    )


def _delete_readings(plant: Plant) -> None:
    """Forget a plant's readings between runs of one test. Also empties ingest's PostgreSQL
    staging table: it is emptied ON COMMIT, and a test's transaction never commits, so a later
    ``store_rows`` would re-insert the earlier runs' staged rows (a caveat of ``store_rows`` inside
    one long transaction, reported to the ingest owner)."""
    Reading.objects.filter(device__plant=plant).delete()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT to_regclass('pg_temp.telemetry_stage') IS NOT NULL")
            if cursor.fetchone()[0]:
                cursor.execute("DELETE FROM pg_temp.telemetry_stage")


def _sun_elevation(plant: Plant, index: pd.DatetimeIndex) -> np.ndarray:
    location = pvlib.location.Location(plant.latitude, plant.longitude, altitude=plant.elevation_m)
    return location.get_solarposition(index)["apparent_elevation"].to_numpy()


def test_inverters_meter_and_weather_station_are_physically_plausible(plants):
    roof = plants[ROOFTOP]
    result = _simulate(roof, CLEAR_DAY - timedelta(days=1), days=2, faults=False)
    assert result.rows_written == result.rows_generated > 0
    assert result.device_counts == {
        DeviceType.INVERTER: 2,
        DeviceType.STRING_MONITORING_BOX: 2,
        DeviceType.WEATHER_STATION: 1,
        DeviceType.METER: 1,
    }
    zone = ZoneInfo(roof.timezone)
    plant_ac = None
    for inverter in _devices(roof, DeviceType.INVERTER):
        rating = inverter.inverter_datasheet.nominal_output_power_kw
        ac, dc = _series(inverter, "ac_power"), _series(inverter, "dc_power")
        status = _series(inverter, "status_code")
        assert len(ac) == len(dc) == len(status) == 2 * 288  # every 5 minutes, day and night
        assert ac.max() > 0.5 * rating  # a clear summer day
        assert (ac <= rating + 1e-9).all() and (ac <= dc + 1e-9).all() and (ac >= 0).all()
        day = ac > 0
        assert (status[day] == MPPT).all()

        night = _sun_elevation(roof, ac.index) < -3
        assert night.sum() > 100
        assert (ac[night] == 0).all() and (dc[night] == 0).all() and (status[night] == SLEEPING).all()
        pv1 = _series(inverter, "pv1_current")
        assert not pv1.index.isin(ac.index[night]).any()  # a sleeping inverter reports no MPPT input
        sheet = inverter.inverter_datasheet
        pv1_voltage = _series(inverter, "pv1_voltage")[ac > 0.2 * rating]
        assert pv1_voltage.between(sheet.mpp_range_min_v, sheet.mpp_range_max_v).all()
        # DC power is the sum over the MPPT inputs of V x I
        inputs = sum(
            _series(inverter, f"pv{n}_voltage") * _series(inverter, f"pv{n}_current")
            for n in range(1, sheet.mppt_count + 1)
        )
        daytime = dc[ac > 0.1 * rating] * 1000
        assert (inputs[daytime.index] / daytime).between(0.98, 1.02).all()

        total = _series(inverter, "energy_total")
        today = _series(inverter, "energy_today")
        assert (total.diff().dropna() >= 0).all()
        local_day = total.index.tz_convert(zone).date
        for day_value in sorted(set(local_day)):
            on_day = local_day == day_value
            hours = np.diff(ac.index[on_day].asi8) / 3.6e9 if on_day.sum() > 1 else np.array([])
            integral = float(np.sum((ac[on_day].to_numpy()[1:] + ac[on_day].to_numpy()[:-1]) / 2 * hours))
            increase = total[on_day].iloc[-1] - total[on_day].iloc[0]
            assert increase == pytest.approx(integral, rel=0.02)
            assert today[on_day].iloc[0] == 0 and today[on_day].iloc[-1] == pytest.approx(increase, rel=0.02)
        assert 5 * 50 < increase < 9 * 50.4  # kWh/kWp on a clear June day, per 50.4 kWp inverter
        for key in ("ac_voltage_l1", "ac_voltage_l2", "ac_voltage_l3"):
            assert _series(inverter, key).between(220, 245).all()  # 400 V three-phase: 231 V per phase
        assert _series(inverter, "frequency").between(59.8, 60.2).all()
        assert _series(inverter, "power_factor").between(0.8, 1.0).all()
        assert (_series(inverter, "event_bits") == 0).all()
        plant_ac = ac if plant_ac is None else plant_ac + ac

    (station,) = _devices(roof, DeviceType.WEATHER_STATION)
    poa, ghi = _series(station, "irradiance_poa"), _series(station, "irradiance_ghi")
    assert 800 < poa.max() <= 1400 and (poa >= 0).all() and (ghi >= 0).all()
    ambient, module = _series(station, "ambient_temp"), _series(station, "module_temp")
    assert module.max() > ambient.max() + 10  # modules run hot in the sun
    assert _series(station, "wind_speed").min() >= 0

    (meter,) = _devices(roof, DeviceType.METER)
    export, imported = _series(meter, "export_power"), _series(meter, "import_power")
    assert (export <= plant_ac + 1e-6).all()
    assert export.max() > 0.5 * plant_ac.max()
    assert (imported[plant_ac == 0] > 0).all()  # the site load is drawn from the grid at night
    for key in ("export_energy", "import_energy"):
        assert (_series(meter, key).diff().dropna() >= 0).all()


def test_tracker_farm_collects_more_plane_of_array_irradiance_than_the_fixed_roof(plants):
    daily_poa = {}
    for code in (ROOFTOP, FARM):
        plant = plants[code]
        _simulate(plant, CLEAR_DAY, faults=False, max_string_boxes_per_inverter=1)
        (station,) = _devices(plant, DeviceType.WEATHER_STATION)
        daily_poa[code] = _series(station, "irradiance_poa").sum() * 5 / 60 / 1000  # kWh/m²
    assert daily_poa[FARM] > 1.15 * daily_poa[ROOFTOP]
    farm_ac = max(_series(inv, "ac_power").max() for inv in _devices(plants[FARM], DeviceType.INVERTER))
    assert 800 < farm_ac <= 1150


def test_one_string_is_consistently_thirty_percent_weak(plants):
    roof = plants[ROOFTOP]
    result = _simulate(roof, CLEAR_DAY, faults=False)
    assert result.weak_string and "at 70%" in result.weak_string
    weak_box = next(
        box for box in _devices(roof, DeviceType.STRING_MONITORING_BOX) if box.serial_number in result.weak_string
    )
    weak_key = result.weak_string.split()[-3]
    strings = {
        f"string{n}_current": _series(weak_box, f"string{n}_current")
        for n in range(1, weak_box.string_box_datasheet.no_strings + 1)
    }
    siblings = pd.concat([s for key, s in strings.items() if key != weak_key], axis=1).median(axis=1)
    bright = siblings > 2.0  # amperes: daylight, not dawn
    ratio = strings[weak_key][bright] / siblings[bright]
    assert bright.sum() > 100
    assert ratio.median() == pytest.approx(0.70, abs=0.02)
    assert ratio.between(0.64, 0.76).all()
    for key, current in strings.items():  # healthy siblings stay within a few percent of each other
        if key != weak_key:
            assert (current[bright] / siblings[bright]).between(0.93, 1.07).all()
    # no string currents at night
    assert len(strings[weak_key]) < 288 * 0.75


def test_outage_and_stuck_sensor(plants):
    roof = plants[ROOFTOP]
    result = _simulate(roof, CLEAR_DAY, faults=True)
    outage = next(fault for fault in result.faults if fault.startswith("outage"))
    assert any(fault.startswith("stuck module_temp") for fault in result.faults)
    zone = ZoneInfo(roof.timezone)
    tripped = next(inv for inv in _devices(roof, DeviceType.INVERTER) if inv.serial_number in outage)
    healthy = next(inv for inv in _devices(roof, DeviceType.INVERTER) if inv != tripped)

    def window(start: time, end: time) -> tuple[datetime, datetime]:
        return datetime.combine(CLEAR_DAY, start, tzinfo=zone), datetime.combine(CLEAR_DAY, end, tzinfo=zone)

    fault_start, fault_end = window(time(10, 30), time(13, 0))
    silent_start, silent_end = window(time(11, 15), time(12, 0))
    status, ac = _series(tripped, "status_code"), _series(tripped, "ac_power")
    in_fault = (status.index >= fault_start) & (status.index < fault_end)
    assert (status[in_fault] == FAULT).all() and (ac[in_fault] == 0).all()
    assert (_series(tripped, "event_bits")[in_fault] == 1).all()  # Evt1 bit 0 GROUND_FAULT
    assert (status[~in_fault] != FAULT).all()
    assert in_fault.sum() == (150 - 45) // 5  # 2.5 h of fault, 45 min of it with no readings at all
    silent = Reading.objects.filter(device=tripped, ts__gte=silent_start, ts__lt=silent_end)
    assert not silent.exists()
    other = _series(healthy, "ac_power")
    assert (other[(other.index >= fault_start) & (other.index < fault_end)] > 10).all()  # the other carries on
    energy_today = _series(tripped, "energy_today")
    assert energy_today[in_fault].nunique() == 1  # nothing produced while tripped

    (station,) = _devices(roof, DeviceType.WEATHER_STATION)
    module = _series(station, "module_temp")
    stuck_start, stuck_end = window(time(9), time(15))
    stuck = (module.index >= stuck_start) & (module.index < stuck_end)
    assert stuck.sum() == 72 and module[stuck].nunique() == 1
    assert module[~stuck].diff().abs().gt(0).mean() > 0.9  # a live sensor changes every reading


def test_same_seed_gives_identical_rows_and_a_rerun_writes_nothing(plants):
    home = plants[HOME]
    first = _simulate(home, CLEAR_DAY, seed=7)
    rows = _all_rows(home)
    assert first.rows_written == len(rows) > 5000
    again = _simulate(home, CLEAR_DAY, seed=7)
    assert (again.rows_generated, again.rows_written) == (first.rows_generated, 0)
    assert _all_rows(home) == rows

    _delete_readings(home)
    _simulate(home, CLEAR_DAY, seed=7)
    assert _all_rows(home) == rows
    _delete_readings(home)
    _simulate(home, CLEAR_DAY, seed=8)
    assert _all_rows(home) != rows


def test_values_do_not_depend_on_the_range_so_counters_continue_across_runs(plants):
    """Two one-day runs store exactly what one two-day run stores (no faults: their placement
    depends on the range), so topping up never makes a counter step back."""
    home = plants[HOME]
    _simulate(home, CLEAR_DAY, faults=False)
    _simulate(home, CLEAR_DAY + timedelta(days=1), faults=False)
    in_two_runs = _all_rows(home)
    (inverter,) = _devices(home, DeviceType.INVERTER)
    assert (_series(inverter, "energy_total").diff().dropna() >= 0).all()

    _delete_readings(home)
    _simulate(home, CLEAR_DAY, days=2, faults=False)
    in_one_run = _all_rows(home)
    assert [row[:3] for row in in_one_run] == [row[:3] for row in in_two_runs]
    # equal up to the counters' last digit (the second run continues from a stored, rounded value)
    np.testing.assert_allclose([row[3] for row in in_one_run], [row[3] for row in in_two_runs], rtol=0, atol=2e-3)


def test_future_is_never_simulated(plants):
    home = plants[HOME]
    now = datetime.combine(CLEAR_DAY, time(12), tzinfo=ZoneInfo(home.timezone))
    result = _simulate(home, CLEAR_DAY, now=now)
    assert result.rows_written > 0
    assert not Reading.objects.filter(device__plant=home, ts__gt=now).exists()
    assert Reading.objects.filter(device__plant=home, ts=now).exists()


def test_a_bare_plant_without_datasheets_or_panel_spec_still_simulates():
    plant = Plant.objects.create(
        name="Bare", plant_code="BARE-01", latitude=48.14, longitude=11.58, timezone="Europe/Berlin",
        total_power_output_kw=23.0,
    )  # fmt: skip
    plant_created_send(plant=plant)  # as plant_create does (the default alarm rules)
    inverter = Device.objects.create(plant=plant, type=DeviceType.INVERTER, name="Inverter", serial_number="INV-1")
    Device.objects.create(plant=plant, type=DeviceType.WEATHER_STATION, name="Sensor", serial_number="WMS-1")
    Device.objects.create(plant=plant, type=DeviceType.BESS, name="Battery", serial_number="BAT-1")
    result = _simulate(plant, CLEAR_DAY)
    assert result.rows_written > 0 and result.weak_string is None
    assert result.not_simulated == ["Battery (bess)"]
    ac = _series(inverter, "ac_power")
    assert 0 < ac.max() <= 20.0  # no datasheet: 23 kWp at a DC/AC ratio of 1.15
    assert _series(inverter, "frequency").between(49.8, 50.2).all()  # a European grid
    assert (_series(inverter, "status_code") == FAULT).any()


def test_simulate_telemetry_command(plants):
    out = io.StringIO()
    call_command(
        "simulate_telemetry", "--plant", HOME, "--days", "1", "--end", str(CLEAR_DAY), "--step", "15min",
        "--no-faults", stdout=out,
    )  # fmt: skip
    text = out.getvalue()
    assert "DEMO2-HOME-01" in text and "every 15 min" in text and "readings written" in text
    assert "fault:" not in text
    (inverter,) = _devices(plants[HOME], DeviceType.INVERTER)
    assert len(_series(inverter, "ac_power")) == 96

    with pytest.raises(CommandError, match="No plant"):
        call_command("simulate_telemetry", "--plant", "NOPE-01", "--days", "1")
    with pytest.raises(CommandError, match="--step"):
        call_command("simulate_telemetry", "--plant", HOME, "--step", "fortnightly")
    with pytest.raises(CommandError, match="--days"):
        call_command("simulate_telemetry", "--plant", HOME, "--days", "0")
    with pytest.raises(CommandError, match="--end"):
        call_command("simulate_telemetry", "--plant", HOME, "--end", "yesterday")
