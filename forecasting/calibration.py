"""Self-calibration (pure part): a per-plant correction of the modelled power fitted on
clear-sky periods, kept only when it helps on held-out days.

1. Clear-sky periods: ``pvlib.clearsky.detect_clearsky`` on the measured GHI against the
   Ineichen clear sky (or, without an irradiance sensor, on the measured power against the
   modelled clear-sky power, both scaled to W/m²-like units).
2. Samples: clear, sun up (modelled power over 5 % of the AC rating), below clipping (under
   95 % of the AC rating: a clipped inverter says nothing about the array), actual known.
3. Days with at least an hour of such samples; the last 30 % of them (at least one) are held
   out, the others fit ``factor = Σ actual / Σ modelled`` and, where every plant-local hour has
   enough samples, a per-hour-of-day factor (the shape: horizon shading, soiling streaks).
4. The candidate (hourly if better, else the single factor) is applied only if it lowers the
   RMSE on the held-out days by at least 1 % — reported either way, never silent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import numpy as np
import pandas as pd
import pvlib

MIN_DAY_SAMPLES_MINUTES = 60
MIN_DAYS = 3
HOLDOUT_SHARE = 0.3
MIN_HOUR_SAMPLES = 6
MIN_IMPROVEMENT = 0.01


@dataclass
class CalibrationFit:
    factor: float = 1.0
    hourly_factors: dict[str, float] = field(default_factory=dict)
    clear_points: int = 0
    fit_days: int = 0
    holdout_days: int = 0
    rmse_before_kw: float | None = None
    rmse_after_kw: float | None = None
    applied: bool = False
    note: str = ""


def clear_mask(measured: pd.Series, clearsky: pd.Series, step: timedelta) -> pd.Series:
    """detect_clearsky over a regular series; gaps count as not clear."""
    minutes = step.total_seconds() / 60.0
    window = int(max(3 * minutes, 10))
    filled = measured.fillna(0.0)
    flags = pvlib.clearsky.detect_clearsky(filled, clearsky, infer_limits=True, window_length=window)
    return pd.Series(np.asarray(flags, dtype=bool), index=measured.index) & measured.notna()


def apply_factors(modelled: pd.Series, *, factor: float, hourly: dict[str, float], tz) -> pd.Series:
    if not hourly:
        return modelled * factor
    hours = modelled.index.tz_convert(tz).hour
    factors = np.array([hourly.get(str(h), factor) for h in hours])
    return modelled * factors


def _rmse(a: pd.Series, b: pd.Series) -> float:
    return float(np.sqrt(((a - b) ** 2).mean()))


def calibration_fit(
    *,
    actual_kw: pd.Series,
    modelled_kw: pd.Series,
    clear: pd.Series,
    capacity_ac_kw: float,
    step: timedelta,
    tz,
) -> CalibrationFit:
    """Fit and validate a correction (see the module docstring) from aligned series."""
    usable = (
        clear
        & actual_kw.notna()
        & (modelled_kw > 0.05 * capacity_ac_kw)
        & (modelled_kw < 0.95 * capacity_ac_kw)
        & (actual_kw < 0.95 * capacity_ac_kw)
    )
    samples = pd.DataFrame({"a": actual_kw[usable], "m": modelled_kw[usable]})
    fit = CalibrationFit(clear_points=len(samples))
    if samples.empty:
        fit.note = "No clear-sky samples with the sun up in the window."
        return fit
    local = samples.index.tz_convert(tz)
    samples["day"] = local.date
    samples["hour"] = local.hour
    per_day = samples.groupby("day").size()
    needed = MIN_DAY_SAMPLES_MINUTES / (step.total_seconds() / 60.0)
    days = sorted(per_day[per_day >= needed].index)
    if len(days) < MIN_DAYS:
        fit.note = f"Only {len(days)} clear-sky day(s) in the window; at least {MIN_DAYS} are needed."
        return fit
    holdout = max(1, round(HOLDOUT_SHARE * len(days)))
    fit_days, test_days = days[:-holdout], days[-holdout:]
    train = samples[samples["day"].isin(fit_days)]
    test = samples[samples["day"].isin(test_days)]
    fit.fit_days, fit.holdout_days = len(fit_days), len(test_days)
    factor = float(train["a"].sum() / train["m"].sum())
    hourly: dict[str, float] = {}
    by_hour = train.groupby("hour")
    if all(len(group) >= MIN_HOUR_SAMPLES for _, group in by_hour) and len(by_hour) >= 4:
        hourly = {str(hour): float(group["a"].sum() / group["m"].sum()) for hour, group in by_hour}
    before = _rmse(test["m"], test["a"])
    single = _rmse(test["m"] * factor, test["a"])
    shaped = None
    if hourly:
        shaped = _rmse(
            test["m"] * np.array([hourly.get(str(h), factor) for h in test["hour"]]),
            test["a"],
        )
    fit.factor = factor
    if shaped is not None and shaped < single:
        fit.hourly_factors, after = hourly, shaped
    else:
        after = single
    fit.rmse_before_kw, fit.rmse_after_kw = before, after
    fit.applied = after < before * (1.0 - MIN_IMPROVEMENT)
    fit.note = (
        f"Held-out RMSE {before:.3f} → {after:.3f} kW: applied."
        if fit.applied
        else f"Held-out RMSE {before:.3f} → {after:.3f} kW: no clear improvement, not applied."
    )
    return fit
