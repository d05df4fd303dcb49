"""Forecast accuracy metrics (pure functions; the services feed them from telemetry).

Compared over the intervals where the actual is known and either series is above zero (night
hours, where both are trivially 0, would flatter every forecast):

* ``MAE = mean |f - a|``, ``RMSE = sqrt(mean (f - a)²)``, ``bias = mean (f - a)`` (kW);
* ``nMAE = MAE / capacity`` (%, the plant's DC capacity — the usual normalisation for PV);
* ``skill = 1 - RMSE / RMSE_ref`` against smart persistence (the latest measured clear-sky
  index carried forward over the clear-sky forecast), the standard baseline: > 0 beats it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Accuracy:
    points: int
    mae_kw: float
    rmse_kw: float
    nmae_pct: float
    bias_kw: float
    skill: float | None
    reference_rmse_kw: float | None
    energy_forecast_kwh: float
    energy_actual_kwh: float


def accuracy_metrics(
    *,
    forecast_kw: pd.Series,
    actual_kw: pd.Series,
    capacity_kw: float,
    step_hours: float,
    reference_kw: pd.Series | None = None,
) -> Accuracy | None:
    """Metrics over the common intervals (see the module docstring); None when none is usable."""
    frame = pd.DataFrame({"f": forecast_kw, "a": actual_kw})
    if reference_kw is not None:
        frame["r"] = reference_kw
    frame = frame.dropna(subset=["f", "a"])
    frame = frame[(frame["f"] > 0) | (frame["a"] > 0)]
    if frame.empty:
        return None
    error = frame["f"] - frame["a"]
    rmse = float(np.sqrt((error**2).mean()))
    mae = float(error.abs().mean())
    skill = reference_rmse = None
    if reference_kw is not None and frame["r"].notna().all():
        reference_rmse = float(np.sqrt(((frame["r"] - frame["a"]) ** 2).mean()))
        if reference_rmse > 0:
            skill = 1.0 - rmse / reference_rmse
    return Accuracy(
        points=len(frame),
        mae_kw=mae,
        rmse_kw=rmse,
        nmae_pct=100.0 * mae / capacity_kw,
        bias_kw=float(error.mean()),
        skill=skill,
        reference_rmse_kw=reference_rmse,
        energy_forecast_kwh=float(frame["f"].sum() * step_hours),
        energy_actual_kwh=float(frame["a"].sum() * step_hours),
    )


def bucket_means(series: pd.Series, starts: pd.DatetimeIndex, *, min_coverage: float = 0.5) -> pd.Series:
    """Mean of ``series`` (regular, finer) within each ``[starts[i], starts[i+1])``; the last
    bucket is as long as the one before. NaN where under ``min_coverage`` of it has data."""
    if len(starts) == 0:
        return pd.Series(dtype=float)
    edges = starts.append(
        pd.DatetimeIndex([starts[-1] + (starts[-1] - starts[-2] if len(starts) > 1 else pd.Timedelta("15min"))])
    )
    position = edges.searchsorted(series.index, side="right") - 1
    inside = (position >= 0) & (position < len(starts))
    grouped = pd.Series(series.to_numpy()[inside], index=position[inside])
    means = grouped.groupby(level=0).mean()
    counts = grouped.groupby(level=0).count()
    sizes = pd.Series(position[inside]).value_counts()
    ok = counts >= min_coverage * sizes.reindex(counts.index).to_numpy()
    result = pd.Series(np.nan, index=range(len(starts)))
    result[means.index[ok.to_numpy()]] = means[ok.to_numpy()]
    return pd.Series(result.to_numpy(), index=starts)
