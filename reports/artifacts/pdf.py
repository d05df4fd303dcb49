"""The PDF report (ReportLab platypus): cover with plant facts, KPI table, charts, availability
per inverter, alarms with lost energy, loss waterfall."""

from __future__ import annotations

import io
from datetime import datetime

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import cm
from reportlab.platypus import Image, PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from reports.choices import ReportSection

from . import charts
from .data import ReportData

WIDTH = 17 * cm


def fmt(value, digits: int = 3) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M UTC")
    return str(value)


def _table(rows: list[list], *, header: bool = True, widths=None) -> Table:
    table = Table(rows, colWidths=widths, repeatRows=1 if header else 0)
    style = [
        ("FONTSIZE", (0, 0), (-1, -1), 7.5),
        ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
    ]
    if header:
        style += [
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef5")),
            ("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold"),
        ]
    table.setStyle(TableStyle(style))
    return table


def _image(png: bytes | None) -> Image | Spacer:
    if png is None:
        return Spacer(1, 0.2 * cm)
    image = Image(io.BytesIO(png))
    ratio = WIDTH / image.imageWidth
    image.drawWidth, image.drawHeight = WIDTH, image.imageHeight * ratio
    return image


def render_pdf(data: ReportData) -> bytes:
    styles = getSampleStyleSheet()
    kpis, total, plant = data.kpis, data.kpis["total"], data.plant
    story: list = [
        Paragraph(data.title, styles["Title"]),
        Paragraph(
            f"{plant.name} — performance report {data.start.isoformat()} to {data.end.isoformat()}", styles["Heading2"]
        ),
        _table(
            [
                ["Plant code", plant.plant_code, "Time zone", kpis["timezone"]],
                [
                    "Location",
                    plant.location or f"{plant.latitude:.4f}, {plant.longitude:.4f}",
                    "DC capacity P0",
                    f"{kpis['capacity_dc_kwp']:,.3f} kWp",
                ],
                [
                    "Inverters",
                    str(len(kpis["inverters"])),
                    "Temperature coefficient",
                    fmt(kpis["gamma_pct_per_c"], 3) + " %/°C",
                ],
                ["Standard", kpis["standard"], "Days", str((data.end - data.start).days + 1)],
            ],
            header=False,
        ),
        Spacer(1, 0.4 * cm),
        Paragraph("Key figures of the period", styles["Heading3"]),
        _table(
            [
                ["KPI", "Value", "Unit"],
                ["AC energy", fmt(total["energy_kwh"]), "kWh"],
                ["Export at meter", fmt(total["export_kwh"]), "kWh"],
                ["Expected energy", fmt(total["expected_energy_kwh"]), "kWh"],
                ["POA irradiation", fmt(total["irradiation_kwh_m2"], 4), "kWh/m²"],
                ["Reference yield Yr", fmt(total["reference_yield_h"], 4), "h"],
                ["Specific yield Yf", fmt(total["specific_yield_kwh_kwp"], 4), "kWh/kWp"],
                ["Performance ratio PR", fmt(total["performance_ratio"], 4), "-"],
                ["Temperature-corrected PR", fmt(total["temperature_corrected_pr"], 4), "-"],
                ["Capacity factor (DC)", fmt(total["capacity_factor"], 5), "-"],
                ["Peak power", f"{fmt(total['peak_power_kw'])} at {fmt(total['peak_power_at'])}", "kW"],
                ["Availability (time)", fmt(total["availability_time"], 4), "-"],
                ["Availability (energy)", fmt(total["availability_energy"], 4), "-"],
                ["Lost energy (alarms)", fmt(total["lost_energy_kwh"]), "kWh"],
                ["Flagged (< 90 % data)", ", ".join(total["flagged"]) or "none", ""],
            ],
            widths=[6 * cm, 7 * cm, 3 * cm],
        ),
    ]
    for note in kpis["notes"]:
        story.append(Paragraph(note, styles["Italic"]))
    sections = set(data.sections)
    if ReportSection.KPIS in sections:
        story += [PageBreak(), Paragraph("KPIs per day", styles["Heading3"])]
        rows = [["Day", "E [kWh]", "Exp. [kWh]", "H [kWh/m²]", "Yf", "PR", "PR(T)", "Avail.", "Lost [kWh]", "Flags"]]
        for p in kpis["periods"]:
            rows.append(
                [
                    p["period"], fmt(p["energy_kwh"]), fmt(p["expected_energy_kwh"]), fmt(p["irradiation_kwh_m2"], 4),
                    fmt(p["specific_yield_kwh_kwp"], 4), fmt(p["performance_ratio"], 4),
                    fmt(p["temperature_corrected_pr"], 4), fmt(p["availability_time"], 4), fmt(p["lost_energy_kwh"]),
                    ", ".join(p["flagged"]),
                ]
            )  # fmt: skip
        story.append(_table(rows))
    if ReportSection.ENERGY in sections:
        story += [Spacer(1, 0.3 * cm), _image(charts.energy_vs_expected(data))]
    if ReportSection.PERFORMANCE_RATIO in sections:
        story += [Spacer(1, 0.3 * cm), _image(charts.pr_per_day(data))]
    if ReportSection.SCATTER in sections:
        story += [Spacer(1, 0.3 * cm), _image(charts.irradiance_power(data))]
    if ReportSection.AVAILABILITY in sections:
        story += [PageBreak(), Paragraph("Availability per inverter", styles["Heading3"])]
        rows = [["Inverter", "E [kWh]", "Lost [kWh]", "Availability (time)", "Availability (energy)"]]
        for inv in kpis["inverters"]:
            rows.append(
                [inv["name"], fmt(inv["energy_kwh"]), fmt(inv["lost_energy_kwh"]), fmt(inv["availability_time"], 4),
                 fmt(inv["availability_energy"], 4)]
            )  # fmt: skip
        story.append(_table(rows))
    if ReportSection.ALARMS in sections:
        story += [Spacer(1, 0.4 * cm), Paragraph("Alarms with lost energy", styles["Heading3"])]
        rows = [["Alarm", "Device", "Severity", "Triggered", "Cleared", "Lost [kWh]"]]
        for alarm in data.alarms:
            rows.append(
                [Paragraph(alarm["title"], styles["BodyText"]), alarm["device"], alarm["severity"],
                 fmt(alarm["triggered_at"]), fmt(alarm["cleared_at"]), fmt(alarm["lost_energy_kwh"])]
            )  # fmt: skip
        if len(rows) == 1:
            rows.append(["No alarms in this period", "", "", "", "", ""])
        story.append(_table(rows, widths=[5 * cm, 2.5 * cm, 1.7 * cm, 3 * cm, 3 * cm, 1.8 * cm]))
    if ReportSection.LOSSES in sections:
        losses = kpis["losses"]
        story += [Spacer(1, 0.4 * cm), Paragraph("Loss waterfall", styles["Heading3"])]
        if losses["steps"]:
            story.append(_table([["Step", "Energy [kWh]"], *[[s["label"], fmt(s["kwh"])] for s in losses["steps"]]]))
            story.append(_image(charts.waterfall(data)))
        else:
            story.append(Paragraph("No expected energy for this period (see the notes).", styles["BodyText"]))
        if losses["shading_kwh"] is None:
            story.append(Paragraph("No shadow analysis run exists for this plant: no shading step.", styles["Italic"]))
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out, pagesize=A4, title=data.title, author="SolarHub", leftMargin=2 * cm, rightMargin=2 * cm
    )
    doc.build(story)
    return out.getvalue()
