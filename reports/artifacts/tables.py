"""XLSX (one sheet per section, real numbers, units in the headers) and CSV (daily KPIs)."""

from __future__ import annotations

import csv
import io
from datetime import datetime

from .data import ReportData

# (header with unit, key of a period's KPIs)
KPI_COLUMNS = [
    ("Period", "period"),
    ("AC energy [kWh]", "energy_kwh"),
    ("Export at meter [kWh]", "export_kwh"),
    ("Expected energy [kWh]", "expected_energy_kwh"),
    ("POA irradiation [kWh/m²]", "irradiation_kwh_m2"),
    ("Reference yield Yr [h]", "reference_yield_h"),
    ("Specific yield Yf [kWh/kWp]", "specific_yield_kwh_kwp"),
    ("Performance ratio PR [-]", "performance_ratio"),
    ("Temperature-corrected PR [-]", "temperature_corrected_pr"),
    ("Capacity factor (DC) [-]", "capacity_factor"),
    ("Peak power [kW]", "peak_power_kw"),
    ("Peak power at [UTC]", "peak_power_at"),
    ("Availability, time [-]", "availability_time"),
    ("Availability, energy [-]", "availability_energy"),
    ("Lost energy (alarms) [kWh]", "lost_energy_kwh"),
    ("Hours [h]", "hours"),
    ("Energy data completeness [-]", "completeness.energy"),
    ("Irradiance data completeness [-]", "completeness.irradiance"),
    ("Flagged (< 90 % data)", "flagged"),
]
INVERTER_COLUMNS = [
    ("Inverter", "name"),
    ("Device id", "device_id"),
    ("AC energy [kWh]", "energy_kwh"),
    ("Lost energy (alarms) [kWh]", "lost_energy_kwh"),
    ("Availability, time [-]", "availability_time"),
    ("Availability, energy [-]", "availability_energy"),
]
ALARM_COLUMNS = [
    ("Alarm", "title"),
    ("Device", "device"),
    ("Severity", "severity"),
    ("Triggered [UTC]", "triggered_at"),
    ("Cleared [UTC]", "cleared_at"),
    ("Lost energy [kWh]", "lost_energy_kwh"),
]


def cell(row: dict, key: str):
    """A value as a spreadsheet cell: numbers stay numbers, times become naive UTC, lists text."""
    value = row
    for part in key.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, list):
        return ", ".join(value)
    return value


def render_xlsx(data: ReportData) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    facts = book.active
    facts.title = "Summary"
    kpis = data.kpis
    for label, value in [
        ("Report", data.title),
        ("Plant", data.plant.name),
        ("Plant code", data.plant.plant_code),
        ("Time zone", kpis["timezone"]),
        ("First day", data.start.isoformat()),
        ("Last day", data.end.isoformat()),
        ("DC capacity P0 [kWp]", kpis["capacity_dc_kwp"]),
        ("Temperature coefficient gamma [%/°C]", kpis["gamma_pct_per_c"]),
        ("Standard", kpis["standard"]),
    ]:
        facts.append([label, value])

    def sheet(title: str, columns, rows) -> None:
        ws = book.create_sheet(title)
        ws.append([header for header, _ in columns])
        for item in ws[1]:
            item.font = Font(bold=True)
        for row in rows:
            ws.append([cell(row, key) for _, key in columns])
        for index, (header, _) in enumerate(columns, start=1):
            ws.column_dimensions[ws.cell(1, index).column_letter].width = max(12, len(header) + 2)

    sheet("Daily KPIs", KPI_COLUMNS, kpis["periods"])
    sheet("Total", KPI_COLUMNS, [kpis["total"]])
    sheet("Availability", INVERTER_COLUMNS, kpis["inverters"])
    sheet("Alarms", ALARM_COLUMNS, data.alarms)
    sheet("Losses", [("Step", "label"), ("Energy [kWh]", "kwh")], kpis["losses"]["steps"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def render_csv(data: ReportData) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([header for header, _ in KPI_COLUMNS])
    for row in data.kpis["periods"]:
        values = [cell(row, key) for _, key in KPI_COLUMNS]
        writer.writerow(["" if v is None else v.isoformat() + "Z" if isinstance(v, datetime) else v for v in values])
    return out.getvalue().encode("utf-8")
