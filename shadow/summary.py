"""From a :class:`shadow.model.ShadingResult` to the run's ``result_summary``, its per-panel table
and its files (.npz, PNGs, CSV). No database here."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from .model import ShadingResult

WORST = 20


def _r(value: float, digits: int = 3) -> float:
    return round(float(value), digits)


def panel_rows(result: ShadingResult) -> list[dict]:
    """Per panel: annual (whole-run) loss kWh and % of its unshaded energy, mean shaded fraction."""
    hours = result.step_hours
    unshaded = float(result.unshaded_w.sum()) * hours / 1000.0
    loss = result.module_loss_w.sum(axis=0, dtype=np.float64) * hours / 1000.0
    sun = result.unshaded_w > 0
    mean_sf = result.shaded_fraction[sun].mean(axis=0) if sun.any() else np.zeros(len(result.panel_ids))
    rows = []
    for i, panel_id in enumerate(result.panel_ids):
        meta = result.panel_meta[i]
        rows.append(
            {
                "panel_id": panel_id,
                "string": result.string_names[result.string_of_panel[i]],
                "inverter": meta.get("inverter"),
                "row": meta.get("row"),
                "position_in_row": meta.get("position_in_row"),
                "x": _r(result.centres[i, 0]),
                "z": _r(result.centres[i, 2]),
                "loss_kwh": _r(loss[i]),
                "loss_pct": _r(100.0 * loss[i] / unshaded, 3) if unshaded else 0.0,
                "mean_shaded_fraction": _r(mean_sf[i], 4),
            }
        )
    return rows


def summary_build(result: ShadingResult, *, tz: str, rows: list[dict]) -> dict:
    """Annual and monthly loss (kWh and % of unshaded energy), worst panels, per string and per
    inverter, a month x hour loss matrix (plant-local), the first and last unshaded hour per month
    and the model choices."""
    hours = result.step_hours
    local = result.times.tz_convert(tz)
    n_panels = len(result.panel_ids)
    unshaded_kwh_t = result.unshaded_w * n_panels * hours / 1000.0
    loss_kwh_t = result.string_loss_w.sum(axis=1, dtype=np.float64) * hours / 1000.0
    frame = pd.DataFrame(
        {"month": local.strftime("%Y-%m"), "m": local.month, "hour": local.hour, "loss": loss_kwh_t,
         "unshaded": unshaded_kwh_t, "shaded_any": (result.shaded_fraction > 1e-6).any(axis=1)},
    )  # fmt: skip
    total_loss, total_unshaded = float(frame["loss"].sum()), float(frame["unshaded"].sum())

    def pct(loss: float, base: float) -> float:
        return _r(100.0 * loss / base, 3) if base else 0.0

    monthly = []
    for month, group in frame.groupby("month", sort=True):
        loss, base = float(group["loss"].sum()), float(group["unshaded"].sum())
        clear = sorted(group.loc[~group["shaded_any"], "hour"].unique().tolist())
        shaded_hours = set(group.loc[group["shaded_any"], "hour"].unique().tolist())
        unshaded_hours = [h for h in clear if h not in shaded_hours]
        monthly.append(
            {
                "month": month,
                "loss_kwh": _r(loss),
                "unshaded_kwh": _r(base),
                "loss_pct": pct(loss, base),
                "first_unshaded_hour": unshaded_hours[0] if unshaded_hours else None,
                "last_unshaded_hour": unshaded_hours[-1] if unshaded_hours else None,
            }
        )
    matrix = np.zeros((12, 24))
    np.add.at(matrix, (frame["m"].to_numpy() - 1, frame["hour"].to_numpy()), frame["loss"].to_numpy())

    string_kwh = result.string_loss_w.sum(axis=0, dtype=np.float64) * hours / 1000.0
    counts = np.bincount(result.string_of_panel, minlength=len(result.string_names))
    per_string_unshaded = float(result.unshaded_w.sum()) * hours / 1000.0 * counts
    inverter_of_string: dict[str, str] = {}
    for i, meta in enumerate(result.panel_meta):
        inverter_of_string.setdefault(result.string_names[result.string_of_panel[i]], str(meta.get("inverter")))
    strings = [
        {"string": name, "inverter": inverter_of_string.get(name), "panels": int(counts[k]),
         "loss_kwh": _r(string_kwh[k]), "loss_pct": pct(string_kwh[k], per_string_unshaded[k])}
        for k, name in enumerate(result.string_names)
    ]  # fmt: skip
    inverters: dict[str, dict] = {}
    for k, entry in enumerate(strings):
        slot = inverters.setdefault(entry["inverter"], {"inverter": entry["inverter"], "loss_kwh": 0.0, "base": 0.0})
        slot["loss_kwh"] += string_kwh[k]
        slot["base"] += per_string_unshaded[k]
    worst = sorted(rows, key=lambda r: (-r["loss_kwh"], r["panel_id"]))[:WORST]
    return {
        "period": {
            "start": local[0].isoformat() if len(local) else None,
            "end": local[-1].isoformat() if len(local) else None,
            "timezone": tz,
            "steps": len(local),
            "step_hours": hours,
        },
        "panels": n_panels,
        "annual": {
            "loss_kwh": _r(total_loss),
            "unshaded_kwh": _r(total_unshaded),
            "loss_pct": pct(total_loss, total_unshaded),
            "module_level_loss_kwh": _r(sum(r["loss_kwh"] for r in rows)),
        },
        "monthly": monthly,
        "worst_panels": worst,
        "strings": strings,
        "inverters": [
            {"inverter": v["inverter"], "loss_kwh": _r(v["loss_kwh"]), "loss_pct": pct(v["loss_kwh"], v["base"])}
            for v in inverters.values()
        ],
        "month_hour_loss_kwh": [[_r(v) for v in row] for row in matrix],
        "rays": result.rays,
        "model": result.choices,
    }


def npz_write(path: Path, result: ShadingResult) -> None:
    """The per step x panel shaded fraction, compactly (uint8, 1/250 steps), beside the times."""
    tmp = path.with_suffix(".part")
    with tmp.open("wb") as handle:
        np.savez_compressed(
            handle,
            times_utc_ns=result.times.as_unit("ns").asi8,
            panel_ids=np.array(result.panel_ids),
            shaded_fraction_u8=np.round(result.shaded_fraction * 250).astype(np.uint8),
            obstacle_fraction_u8=np.round(result.obstacle_fraction * 250).astype(np.uint8),
            unshaded_w=result.unshaded_w.astype(np.float32),
            string_loss_w=result.string_loss_w,
            string_names=np.array(result.string_names),
            horizon_deg=result.horizon_deg if result.horizon_deg is not None else np.zeros((0, 36), np.float32),
        )
    tmp.replace(path)


def heatmap_png(rows: list[dict]) -> bytes:
    """Plan view (north up), panels coloured by their loss (% of unshaded energy)."""
    fig, ax = plt.subplots(figsize=(8, 6), dpi=100)
    x = np.array([r["x"] for r in rows])
    north = -np.array([r["z"] for r in rows])
    loss = np.array([r["loss_pct"] for r in rows])
    scatter = ax.scatter(x, north, c=loss, cmap="inferno_r", marker="s", s=max(4, 4000 / max(len(rows), 1)))
    fig.colorbar(scatter, ax=ax, label="Shading loss (% of unshaded energy)")
    ax.set_aspect("equal")
    ax.set_xlabel("East (m)")
    ax.set_ylabel("North (m)")
    ax.set_title("Shading loss per panel")
    return _png(fig)


def matrix_png(summary: dict) -> bytes:
    """Month x hour (plant-local) shading loss in kWh."""
    matrix = np.array(summary["month_hour_loss_kwh"])
    fig, ax = plt.subplots(figsize=(9, 4.5), dpi=100)
    image = ax.imshow(matrix, aspect="auto", cmap="magma_r", origin="upper")
    fig.colorbar(image, ax=ax, label="Shading loss (kWh)")
    ax.set_yticks(range(12), ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"])
    ax.set_xticks(range(0, 24, 2))
    ax.set_xlabel(f"Hour ({summary['period']['timezone']})")
    ax.set_title("Shading loss by month and hour")
    return _png(fig)


def _png(fig) -> bytes:
    buffer = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return buffer.getvalue()


CSV_FIELDS = ["panel_id", "string", "inverter", "row", "position_in_row", "x", "z", "loss_kwh", "loss_pct",
              "mean_shaded_fraction"]  # fmt: skip


def panels_csv(rows: list[dict]) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_FIELDS, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode()
