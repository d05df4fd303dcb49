"""The KPI engine against hand computation on constructed days (helpers.constructed_day)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from alarms.models import Alarm
from plants.models import Device
from reports.kpis import plant_kpis

from .helpers import MODULE_TEMP, POA, POWER_KW, constructed_day, kpi_plant

pytestmark = pytest.mark.django_db

DAY = date(2026, 6, 10)
P0 = 56.0  # 7 strings x 20 modules x 400 W
GAMMA = -0.0035


def test_a_constructed_day_gives_the_pr_computed_on_paper():
    plant = kpi_plant()
    constructed_day(plant, DAY)
    body = plant_kpis(plant=plant, start=DAY, end=DAY)
    day = body["periods"][0]
    energy = POWER_KW * 8  # 8 h at 40 kW
    h_poa = POA * 8 / 1000  # kWh/m²
    assert day["period"] == "2026-06-10"
    assert day["energy_kwh"] == pytest.approx(energy, abs=1e-3)
    assert day["export_kwh"] == pytest.approx(energy, abs=1e-3)
    assert day["irradiation_kwh_m2"] == pytest.approx(h_poa)
    assert day["reference_yield_h"] == pytest.approx(h_poa)
    assert day["specific_yield_kwh_kwp"] == pytest.approx(energy / P0, abs=1e-4)
    assert day["performance_ratio"] == pytest.approx((energy / P0) / h_poa, abs=1e-4)
    # IEC 61724-1 temperature correction: C = 1 + gamma (T_mod - 25 °C), weighted by irradiance.
    c = 1 + GAMMA * (MODULE_TEMP - 25.0)
    assert day["temperature_corrected_pr"] == pytest.approx(energy / (c * P0 * h_poa), abs=1e-4)
    assert day["capacity_factor"] == pytest.approx(energy / (P0 * 24), abs=1e-5)
    assert day["peak_power_kw"] == pytest.approx(POWER_KW)
    assert day["hours"] == 24
    assert day["availability_time"] == 1.0
    assert day["availability_energy"] == 1.0
    assert day["completeness"]["energy"] == 1.0 and day["completeness"]["irradiance"] == 1.0
    assert day["flagged"] == []
    assert body["total"]["performance_ratio"] == day["performance_ratio"]
    assert body["standard"] == "IEC 61724-1:2021"
    assert body["losses"]["expected_kwh"] is not None and body["losses"]["measured_kwh"] == day["energy_kwh"]


def test_an_outage_lowers_time_availability_and_alarm_losses_lower_energy_availability():
    plant = kpi_plant(code="KPI-2", inverters=2)
    constructed_day(plant, DAY, fault=(10, 12))  # inverter 1 in FAULT for 2 of the 8 sunny hours
    first = Device.objects.filter(plant=plant, type="inverter").order_by("id").first()
    Alarm.objects.create(
        plant=plant, device=first, title="Inverter fault", triggered_at=plant_time(plant, DAY, 10), lost_energy_kwh=80.0
    )
    body = plant_kpis(plant=plant, start=DAY, end=DAY)
    day = body["periods"][0]
    # Sunny slots: 8 h x 12 = 96 per inverter; inverter 1 lost 24 of them.
    assert day["availability_time"] == pytest.approx((96 + 72) / (2 * 96), abs=1e-4)
    per_inverter = {row["device_id"]: row for row in body["inverters"]}
    assert per_inverter[first.pk]["availability_time"] == pytest.approx(72 / 96, abs=1e-4)
    energy = POWER_KW * 8 + POWER_KW * 6
    assert day["energy_kwh"] == pytest.approx(energy, abs=1e-3)
    assert day["lost_energy_kwh"] == 80.0
    assert day["availability_energy"] == pytest.approx(energy / (energy + 80.0), abs=1e-4)
    assert per_inverter[first.pk]["availability_energy"] == pytest.approx(240 / 320, abs=1e-4)
    assert body["losses"]["downtime_kwh"] == 80.0
    steps = [step["label"] for step in body["losses"]["steps"]]
    assert steps == ["Expected", "Downtime", "Underperformance", "Measured"]  # no shadow run: no shading step


def test_missing_data_is_flagged_below_90_percent():
    plant = kpi_plant(code="KPI-3")
    constructed_day(plant, DAY, outage=(8, 12))  # the only inverter silent for half the sunny hours
    day = plant_kpis(plant=plant, start=DAY, end=DAY)["periods"][0]
    assert day["completeness"]["energy"] < 0.9
    assert "energy" in day["flagged"] and "performance_ratio" in day["flagged"]
    assert day["completeness"]["irradiance"] == 1.0


@pytest.mark.parametrize(("day", "hours"), [(date(2026, 3, 29), 23), (date(2026, 10, 25), 25)])
def test_dst_days_are_plant_local_days_of_23_and_25_hours(day, hours):
    plant = kpi_plant(code=f"KPI-DST-{hours}", timezone="Europe/Berlin", latitude=52.5, longitude=13.4)
    constructed_day(plant, day)
    constructed_day(plant, day + timedelta(days=1))
    body = plant_kpis(plant=plant, start=day, end=day + timedelta(days=1))
    first, second = body["periods"]
    assert first["hours"] == hours and second["hours"] == 24
    energy = POWER_KW * 8
    assert first["energy_kwh"] == pytest.approx(energy, abs=1e-3)
    assert first["capacity_factor"] == pytest.approx(energy / (P0 * hours), abs=1e-5)
    assert first["performance_ratio"] == pytest.approx((energy / P0) / (POA * 8 / 1000), abs=1e-4)
    assert first["completeness"]["energy"] == 1.0
    assert body["total"]["energy_kwh"] == pytest.approx(2 * energy, abs=1e-3)
    assert body["total"]["hours"] == hours + 24


def test_months_are_sums_of_days_not_averages_of_ratios():
    plant = kpi_plant(code="KPI-4")
    constructed_day(plant, date(2026, 6, 30))
    constructed_day(plant, date(2026, 7, 1), outage=(8, 12))
    body = plant_kpis(plant=plant, start=date(2026, 6, 30), end=date(2026, 7, 1), granularity="month")
    assert [p["period"] for p in body["periods"]] == ["2026-06", "2026-07"]
    total = body["total"]
    assert total["energy_kwh"] == pytest.approx(320 + 160, abs=1e-3)
    assert total["performance_ratio"] == pytest.approx(((320 + 160) / P0) / (2 * POA * 8 / 1000), abs=1e-4)


def plant_time(plant, day, hour):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    return datetime.combine(day, datetime.min.time(), tzinfo=ZoneInfo(plant.timezone)) + timedelta(hours=hour)
