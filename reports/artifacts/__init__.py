"""Report artifacts: PDF (ReportLab, charts by matplotlib), XLSX (openpyxl) and CSV, rendered
from one :class:`ReportData` — the KPI engine's answer plus the alarm table and the power /
irradiance pairs of the scatter — so every format shows the same numbers as the JSON KPIs."""

from __future__ import annotations

from .data import ReportData, report_data_collect
from .pdf import render_pdf
from .tables import render_csv, render_xlsx

RENDERERS = {"pdf": render_pdf, "xlsx": render_xlsx, "csv": render_csv}

__all__ = ["RENDERERS", "ReportData", "render_csv", "render_pdf", "render_xlsx", "report_data_collect"]
