"""Rules evaluated on real data flowing through the ingest service (PostgreSQL in CI): each rule
type opens, updates without duplicates and returns to normal with its delays and gating."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.utils import timezone

from alarms.choices import AlarmState, EventKind
from alarms.evaluation import rule_device_evaluate, rule_test, time_based_evaluate
from alarms.models import Alarm, AlarmRule, RuleDeviceState
from alarms.services import alarm_rules_create_defaults, alarm_shelve, alarms_unshelve_expired
from plants.choices import DeviceType
from plants.models import Device
from solarhub.testing.personas import make_plant
from telemetry.ingest import telemetry_ingest
from telemetry.models import Reading

pytestmark = pytest.mark.django_db


def _sunny_longitude(moment: datetime) -> float:
    """A longitude where the sun is near its highest at ``moment`` (so sun gates pass)."""
    hours = moment.hour + moment.minute / 60
    return ((12 - hours) * 15 + 180) % 360 - 180


@pytest.fixture
def base():
    now = timezone.now().replace(second=0, microsecond=0)
    return now - timedelta(hours=3, minutes=now.minute % 5)


@pytest.fixture
def plant(customer, base):
    return make_plant(name="Eval plant", owner=customer, latitude=0.0, longitude=_sunny_longitude(base), timezone="UTC")


@pytest.fixture
def inverter(plant):
    return Device.objects.create(plant=plant, type=DeviceType.INVERTER, name="INV 1", serial_number="INV-1")


@pytest.fixture
def station(plant):
    return Device.objects.create(plant=plant, type=DeviceType.WEATHER_STATION, name="WMS", serial_number="WMS-1")


def ingest(django_capture_on_commit_callbacks, plant, device, start, values: dict[str, list[float]], step=5):
    """Push readings through the ingest service; the commit hook runs the evaluation."""
    count = max(len(v) for v in values.values())
    readings = [
        {
            "deviceId": device.id,
            "timestamp": (start + timedelta(minutes=step * i)).isoformat(),
            "metrics": {key: series[i] for key, series in values.items() if i < len(series)},
        }
        for i in range(count)
    ]
    with django_capture_on_commit_callbacks(execute=True):
        result = telemetry_ingest(plant_ids=[plant.id], readings=readings)
    assert result.rejected == 0, result.errors
    return result


def _rule(plant, **fields):
    AlarmRule.objects.filter(plant=plant).delete()  # only the rule under test
    return AlarmRule.objects.create(plant=plant, name=fields.pop("name", "Rule"), **fields)


def test_threshold_opens_after_trigger_delay_updates_without_duplicates_and_clears(
    plant, inverter, base, django_capture_on_commit_callbacks
):
    rule = _rule(
        plant,
        rule_type="threshold",
        device_type="inverter",
        severity="medium",
        params={"metric": "internal_temp", "operator": ">", "value": 75},
        trigger_delay_minutes=10,
        clear_delay_minutes=10,
    )
    # 80 °C at +5 and +10 min: only 5 minutes above → not yet
    ingest(django_capture_on_commit_callbacks, plant, inverter, base, {"internal_temp": [70, 80, 80]})
    assert not Alarm.objects.exists()
    # +15: 10 minutes above the limit → fires once
    ingest(django_capture_on_commit_callbacks, plant, inverter, base + timedelta(minutes=15), {"internal_temp": [81]})
    alarm = Alarm.objects.get()
    assert (alarm.rule_id, alarm.device_id, alarm.state) == (rule.id, inverter.id, AlarmState.ACTIVE_UNACKNOWLEDGED)
    assert alarm.triggered_at == base + timedelta(minutes=15)
    assert alarm.last_value == 81
    # replaying the batch and more high values: still one alarm, one occurrence
    ingest(django_capture_on_commit_callbacks, plant, inverter, base, {"internal_temp": [70, 80, 80, 81]})
    ingest(django_capture_on_commit_callbacks, plant, inverter, base + timedelta(minutes=20), {"internal_temp": [90]})
    alarm.refresh_from_db()
    assert Alarm.objects.count() == 1 and alarm.occurrence_count == 1 and alarm.last_value == 90
    # back below for 10 minutes → returned to normal (unacknowledged)
    ingest(
        django_capture_on_commit_callbacks,
        plant,
        inverter,
        base + timedelta(minutes=25),
        {"internal_temp": [70, 70, 70]},
    )
    alarm.refresh_from_db()
    assert alarm.state == AlarmState.RTN_UNACKNOWLEDGED and not alarm.active
    assert alarm.cleared_at == base + timedelta(minutes=35)
    # the same fault again re-triggers the open alarm instead of creating a new one
    ingest(
        django_capture_on_commit_callbacks,
        plant,
        inverter,
        base + timedelta(minutes=40),
        {"internal_temp": [85, 85, 85]},
    )
    alarm.refresh_from_db()
    assert Alarm.objects.count() == 1 and alarm.occurrence_count == 2 and alarm.active
    kinds = list(alarm.events.values_list("kind", flat=True))
    assert kinds == [EventKind.TRIGGERED, EventKind.RETURNED_TO_NORMAL, EventKind.RETRIGGERED]


def test_status_bits_are_decoded_into_named_flags(plant, inverter, base, django_capture_on_commit_callbacks):
    _rule(plant, rule_type="status_code", device_type="inverter", severity="high", params={"bits": "any"})
    ingest(django_capture_on_commit_callbacks, plant, inverter, base, {"event_bits": [0, (1 << 7) | (1 << 0)]})
    alarm = Alarm.objects.get()
    assert "OVER_TEMP" in alarm.message and "GROUND_FAULT" in alarm.message
    assert {f["name"] for f in alarm.metadata["flags"]} == {"GROUND_FAULT", "OVER_TEMP"}
    # a rule watching only bit 12 ignores other bits
    AlarmRule.objects.all().delete()
    Alarm.objects.all().delete()
    _rule(plant, rule_type="status_code", params={"bits": [12]})
    ingest(django_capture_on_commit_callbacks, plant, inverter, base + timedelta(minutes=10), {"event_bits": [1 << 7]})
    assert not Alarm.objects.exists()


def test_status_code_set(plant, inverter, base, django_capture_on_commit_callbacks):
    _rule(plant, rule_type="status_code", params={"metric": "status_code", "codes": [7]})
    ingest(django_capture_on_commit_callbacks, plant, inverter, base, {"status_code": [4, 4]})
    assert not Alarm.objects.exists()
    ingest(django_capture_on_commit_callbacks, plant, inverter, base + timedelta(minutes=10), {"status_code": [7]})
    assert Alarm.objects.get().last_value == 7


def test_string_deviation_names_the_weak_string_and_respects_irradiance(
    plant, station, base, django_capture_on_commit_callbacks
):
    inverter = Device.objects.create(plant=plant, type=DeviceType.INVERTER, name="INV", serial_number="I")
    box = Device.objects.create(
        plant=plant, type=DeviceType.STRING_MONITORING_BOX, name="SMB 1", serial_number="SMB-1", parent=inverter
    )
    _rule(plant, rule_type="string_deviation", params={"deviation_pct": 20, "min_irradiance": 300})
    # dim morning: POA 150 W/m² → gated, no alarm even with a weak string
    ingest(django_capture_on_commit_callbacks, plant, station, base, {"irradiance_poa": [150, 150]})
    strings = {f"string{n}_current": [8.0, 8.0] for n in (1, 2, 4)} | {"string3_current": [5.0, 5.0]}
    ingest(django_capture_on_commit_callbacks, plant, box, base, strings)
    assert not Alarm.objects.exists()
    # bright: S3 at 62 % of the median → alarm naming S3
    later = base + timedelta(minutes=10)
    ingest(django_capture_on_commit_callbacks, plant, station, later, {"irradiance_poa": [800]})
    ingest(django_capture_on_commit_callbacks, plant, box, later, {k: [v[0]] for k, v in strings.items()})
    alarm = Alarm.objects.get()
    assert alarm.device_id == box.id and alarm.metadata["weakStrings"] == ["S3"] and "S3" in alarm.message


def test_underperformance_tracks_affected_power_and_lost_energy(
    plant, inverter, station, base, django_capture_on_commit_callbacks
):
    _rule(plant, rule_type="underperformance", params={"tolerance_pct": 20, "min_irradiance": 200})
    ingest(django_capture_on_commit_callbacks, plant, station, base, {"irradiance_poa": [900] * 7})
    # 500 kW plant at 900 W/m² is expected to make several hundred kW; it makes 50
    ingest(django_capture_on_commit_callbacks, plant, inverter, base, {"ac_power": [50.0] * 7})
    alarm = Alarm.objects.get()
    assert alarm.rule.rule_type == "underperformance" and alarm.active
    assert alarm.affected_power_kw > 100
    # six 5-minute steps while active, each losing more than 100 kW → more than 50 kWh
    assert alarm.lost_energy_kwh > 50
    # healthy output returns it to normal
    ingest(django_capture_on_commit_callbacks, plant, station, base + timedelta(minutes=35), {"irradiance_poa": [900]})
    expected = alarm.metadata["expectedKw"]
    ingest(django_capture_on_commit_callbacks, plant, inverter, base + timedelta(minutes=35), {"ac_power": [expected]})
    alarm.refresh_from_db()
    assert not alarm.active and alarm.affected_power_kw is None


def test_an_episode_that_fires_and_clears_within_one_batch_keeps_its_lost_energy(
    plant, inverter, station, base, django_capture_on_commit_callbacks
):
    """A whole outage arriving in one batch (a logger's backlog, an import, the demo seed): the
    lost energy is the alarm's though it is already back to normal when the sweep ends."""
    _rule(plant, rule_type="underperformance", params={"tolerance_pct": 20, "min_irradiance": 200})
    ingest(django_capture_on_commit_callbacks, plant, station, base, {"irradiance_poa": [900] * 14})
    ingest(django_capture_on_commit_callbacks, plant, inverter, base, {"ac_power": [50.0] * 7})
    alarm = Alarm.objects.get()
    healthy = alarm.metadata["expectedKw"]
    lost_while_open = alarm.lost_energy_kwh
    Alarm.objects.all().delete()
    RuleDeviceState.objects.all().delete()
    Reading.objects.filter(device=inverter).delete()
    # Now the same hour in one batch: 7 slots at 50 kW, then 7 healthy ones.
    ingest(django_capture_on_commit_callbacks, plant, inverter, base, {"ac_power": [50.0] * 7 + [healthy] * 7})
    alarm = Alarm.objects.get()
    assert not alarm.active
    assert alarm.lost_energy_kwh == pytest.approx(lost_while_open, rel=0.01) and alarm.lost_energy_kwh > 50


def test_an_inverter_fault_costs_its_expected_power_while_it_lasts(
    plant, inverter, station, base, django_capture_on_commit_callbacks
):
    """A tripped inverter makes nothing: the fault alarm's lost energy is its share of the plant's
    modelled power over the fault (what energy-based availability and the reports' downtime use) —
    the same shortfall the underperformance rule measures over the same slots."""
    fault = _rule(plant, rule_type="status_code", params={"metric": "status_code", "codes": [7]})
    AlarmRule.objects.create(
        plant=plant, name="Under", rule_type="underperformance", params={"tolerance_pct": 20, "min_irradiance": 200}
    )
    ingest(django_capture_on_commit_callbacks, plant, station, base, {"irradiance_poa": [900] * 8})
    ingest(
        django_capture_on_commit_callbacks, plant, inverter, base,
        {"status_code": [7] * 7 + [4], "ac_power": [0.0] * 7 + [1000.0]},  # both clear in the last slot
    )  # fmt: skip
    tripped = Alarm.objects.get(rule=fault)
    under = Alarm.objects.exclude(rule=fault).get()
    assert not tripped.active  # status 4 again in the last slot
    assert tripped.lost_energy_kwh > 50  # a 500 kW plant at 900 W/m² for half an hour
    assert tripped.lost_energy_kwh == pytest.approx(under.lost_energy_kwh, rel=0.01)


def test_sun_elevation_gate_blocks_night_time_triggers(customer, base, django_capture_on_commit_callbacks):
    night = make_plant(
        name="Night plant", owner=customer, latitude=0.0, longitude=_sunny_longitude(base) + 180 - 360 * (
            _sunny_longitude(base) > 0
        ), timezone="UTC",
    )  # fmt: skip
    device = Device.objects.create(plant=night, type=DeviceType.INVERTER, name="N", serial_number="N-1")
    _rule(night, rule_type="threshold", params={"metric": "internal_temp", "operator": ">", "value": 75},
          gate_min_sun_elevation=5)  # fmt: skip
    ingest(django_capture_on_commit_callbacks, night, device, base, {"internal_temp": [90, 90]})
    assert not Alarm.objects.exists()


def test_communication_loss_opens_against_the_clock_and_clears_when_data_returns(
    plant, inverter, django_capture_on_commit_callbacks
):
    _rule(plant, rule_type="communication_loss", params={"minutes": 30})
    last = timezone.now().replace(microsecond=0) - timedelta(minutes=1)
    ingest(django_capture_on_commit_callbacks, plant, inverter, last, {"ac_power": [10.0]})
    assert time_based_evaluate(now=last + timedelta(minutes=20)) == 0
    assert time_based_evaluate(now=last + timedelta(minutes=45)) == 1
    alarm = Alarm.objects.get()
    assert alarm.active and "No data" in alarm.message
    assert time_based_evaluate(now=last + timedelta(minutes=50)) == 0  # no duplicate
    ingest(django_capture_on_commit_callbacks, plant, inverter, last + timedelta(minutes=1), {"ac_power": [10.0]})
    alarm.refresh_from_db()
    assert not alarm.active and alarm.state == AlarmState.RTN_UNACKNOWLEDGED


@pytest.mark.django_db(transaction=True)
def test_concurrent_evaluations_open_one_alarm(customer, base):
    plant = make_plant(name="Race plant", owner=customer, latitude=0.0, longitude=0.0, timezone="UTC")
    device = Device.objects.create(plant=plant, type=DeviceType.INVERTER, name="R", serial_number="R-1")
    rule = _rule(plant, rule_type="threshold", params={"metric": "internal_temp", "operator": ">", "value": 75})
    readings = [
        {
            "deviceId": device.id,
            "timestamp": (base + timedelta(minutes=5 * i)).isoformat(),
            "metrics": {"internal_temp": 90},
        }
        for i in range(3)
    ]
    telemetry_ingest(plant_ids=[plant.id], readings=readings)  # autocommit: the signal's task ran already
    Alarm.objects.all().delete()
    from alarms.models import RuleDeviceState

    RuleDeviceState.objects.all().delete()
    barrier = threading.Barrier(4)
    errors = []

    def evaluate():
        try:
            barrier.wait()
            rule_device_evaluate(rule=rule, device=device, since=base)
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=evaluate) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    alarm = Alarm.objects.get()
    assert alarm.occurrence_count == 1 and alarm.events.filter(kind=EventKind.TRIGGERED).count() == 1


def test_shelving_expires_back_to_the_underlying_state(plant, customer):
    from alarms.services import alarm_create_manual

    alarm = alarm_create_manual(plant=plant, by=customer, title="Check fence", severity="low")
    alarm = alarm_shelve(alarm=alarm, by=customer, until=timezone.now() + timedelta(minutes=30), comment="mowing")
    assert alarm.state == AlarmState.SHELVED
    assert alarms_unshelve_expired() == 0
    assert alarms_unshelve_expired(now=timezone.now() + timedelta(minutes=31)) == 1
    alarm.refresh_from_db()
    assert alarm.state == AlarmState.ACTIVE_UNACKNOWLEDGED and alarm.shelved_until is None
    assert list(alarm.events.values_list("kind", flat=True)) == ["created", "shelved", "unshelved"]


def test_rule_dry_run_reports_what_would_fire_without_opening_alarms(
    plant, inverter, base, django_capture_on_commit_callbacks
):
    AlarmRule.objects.all().delete()
    ingest(django_capture_on_commit_callbacks, plant, inverter, base, {"internal_temp": [70, 90, 90, 70, 70, 90, 90]})
    params = {"metric": "internal_temp", "operator": ">", "value": 75}
    rule = AlarmRule.objects.create(
        plant=plant, name="Hot", rule_type="threshold", params=params, trigger_delay_minutes=5
    )
    report = rule_test(rule=rule)
    fired = report["devices"][0]["wouldFire"]
    assert [f["firedAt"] for f in fired] == [base + timedelta(minutes=10), base + timedelta(minutes=30)]
    assert fired[0]["clearedAt"] == base + timedelta(minutes=15) and fired[1]["clearedAt"] is None
    assert not Alarm.objects.exists()


def test_new_plants_get_the_default_rule_set(customer):
    plant = make_plant(name="Fresh plant", owner=customer)
    rules = plant.alarm_rules.exclude(device_type__in=["bess", "bess_rack", "pcs"])  # storage's own defaults
    types = sorted(rules.values_list("rule_type", flat=True))
    assert types == ["communication_loss", "status_code", "string_deviation", "threshold"]
    assert alarm_rules_create_defaults(plant=plant) == []  # idempotent


def test_utc_helper_is_sane():
    assert _sunny_longitude(datetime(2026, 1, 1, 12, tzinfo=UTC)) == 0
