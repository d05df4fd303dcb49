"""The report's charts (matplotlib, Agg backend: no display, thread-safe with the OO API)."""

from __future__ import annotations

import io

from matplotlib.figure import Figure

from .data import ReportData

SIZE = (7.0, 2.8)


def _png(fig: Figure) -> bytes:
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=110, bbox_inches="tight")
    return out.getvalue()


def energy_vs_expected(data: ReportData) -> bytes:
    periods = data.kpis["periods"]
    labels = [p["period"][5:] for p in periods]
    x = range(len(periods))
    fig = Figure(figsize=SIZE)
    ax = fig.add_subplot()
    ax.bar([i - 0.2 for i in x], [p["energy_kwh"] or 0 for p in periods], width=0.4, label="Measured")
    ax.bar([i + 0.2 for i in x], [p["expected_energy_kwh"] or 0 for p in periods], width=0.4, label="Expected")
    ax.set_xticks(list(x), labels, rotation=90 if len(labels) > 10 else 0, fontsize=7)
    ax.set_ylabel("kWh")
    ax.set_title("Daily energy vs expected")
    ax.legend(fontsize=7)
    return _png(fig)


def pr_per_day(data: ReportData) -> bytes:
    periods = data.kpis["periods"]
    fig = Figure(figsize=SIZE)
    ax = fig.add_subplot()
    labels = [p["period"][5:] for p in periods]
    x = list(range(len(periods)))
    nan = float("nan")
    ax.plot(x, [p["performance_ratio"] or nan for p in periods], marker="o", label="PR")
    ax.plot(x, [p["temperature_corrected_pr"] or nan for p in periods], marker=".", label="PR (temperature-corrected)")
    ax.set_ylim(0, 1.1)
    ax.set_xticks(x, labels, rotation=90 if len(labels) > 10 else 0, fontsize=7)
    ax.set_title("Performance ratio per day")
    ax.legend(fontsize=7)
    return _png(fig)


def irradiance_power(data: ReportData) -> bytes:
    poa, power = data.scatter
    fig = Figure(figsize=SIZE)
    ax = fig.add_subplot()
    ax.scatter(poa, power, s=3, alpha=0.4)
    ax.set_xlabel("POA irradiance [W/m²]")
    ax.set_ylabel("AC power [kW]")
    ax.set_title("Irradiance vs power (5-minute)")
    return _png(fig)


def waterfall(data: ReportData) -> bytes | None:
    steps = data.kpis["losses"]["steps"]
    if not steps:
        return None
    fig = Figure(figsize=SIZE)
    ax = fig.add_subplot()
    level = 0.0
    for index, step in enumerate(steps):
        if index in (0, len(steps) - 1):
            ax.bar(index, step["kwh"], color="tab:blue")
            level = step["kwh"]
        else:
            ax.bar(index, step["kwh"], bottom=level, color="tab:red" if step["kwh"] < 0 else "tab:green")
            level += step["kwh"]
    ax.set_xticks(range(len(steps)), [s["label"] for s in steps], fontsize=8)
    ax.set_ylabel("kWh")
    ax.set_title("Loss waterfall")
    return _png(fig)
