"""Measured weather and actual power from telemetry, and expected power from measured weather.

Reads go through ``telemetry.selectors.plant_series`` (rollups with the real-time tail): weather
is the mean over the plant's weather stations, actual AC power the sum over its inverters, in
5-minute buckets (hourly for ranges over ~17 days). Gaps stay NaN — never filled in.

Expected power (the monitoring side): the plant model run on the measured weather.
* Plane-of-array irradiance (``irradiance_poa``) when the station has it: used as effective
  irradiance (a POA reference cell or pyranometer in the array plane already sees the angle of
  incidence much as the modules do), with the cell temperature from the measured module
  temperature (``temperature.sapm_cell_from_module``) or else from ambient temperature and wind
  through the SAPM model.
* Otherwise global horizontal irradiance (``irradiance_ghi``), decomposed with Erbs and
  transposed (Perez) by the ModelChain, at each bucket's midpoint.
No calibration factor is applied to expected power: it is the plant *as designed*, which is
what an underperformance alarm compares against.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pandas as pd
from pvlib.temperature import TEMPERATURE_MODEL_PARAMETERS, sapm_cell_from_module

from plants.choices import DeviceType
from plants.models import Device, Plant
from solarhub.api.exceptions import ApiError
from telemetry.choices import Resolution
from telemetry.selectors import MAX_POINTS, plant_series

from .pvmodel import PlantModel, solar_position
from .weather import DEFAULT_TEMP_AIR, DEFAULT_WIND_SPEED, decompose

WEATHER_KEYS = ["irradiance_poa", "irradiance_ghi", "module_temp", "ambient_temp", "wind_speed"]
FIVE_MINUTES = timedelta(minutes=5)
HOUR = timedelta(hours=1)
MAX_RANGE = timedelta(days=92)


def series_resolution(start: datetime, end: datetime) -> tuple[str, timedelta]:
    """5-minute buckets up to the telemetry point cap, hourly beyond; over 92 days is a 400."""
    span = end - start
    if span <= timedelta(0):
        raise ApiError("start must be before end.", code="invalid_range")
    if span > MAX_RANGE:
        raise ApiError(f"At most {MAX_RANGE.days} days per request.", code="range_too_long")
    if span <= FIVE_MINUTES * (MAX_POINTS - 1):
        return Resolution.FIVE_MINUTES, FIVE_MINUTES
    return Resolution.HOUR, HOUR


def _device_ids(plant: Plant, device_type: str) -> list[int]:
    return list(
        Device.objects.filter(plant=plant, type=device_type, operational=True)
        .order_by("id")
        .values_list("id", flat=True)
    )


def _frame(rows: list[dict], keys: list[str]) -> pd.DataFrame:
    index = pd.DatetimeIndex([row["timestamp"] for row in rows]).as_unit("ns")
    if index.tz is None:
        index = index.tz_localize("UTC")
    data = {key: [np.nan if row[key] is None else float(row[key]) for row in rows] for key in keys}
    return pd.DataFrame(data, index=index.tz_convert("UTC"), dtype=float)


def _chunks(start: datetime, end: datetime, step: timedelta):
    span = step * (MAX_POINTS - 1)
    lo = start
    while lo < end:
        hi = min(end, lo + span)
        yield lo, hi
        lo = hi


def measured_weather(
    *, plant: Plant, start: datetime, end: datetime, step: timedelta | None = None
) -> pd.DataFrame | None:
    """Weather-station means per bucket of ``[start, end)`` (columns of :data:`WEATHER_KEYS`),
    or None when the plant has no weather station. ``step`` forces 5-minute or hourly buckets."""
    stations = _device_ids(plant, DeviceType.WEATHER_STATION)
    if not stations:
        return None
    resolution, step = series_resolution(start, end) if step is None else (_resolution_of(step), step)
    frames = [
        _frame(
            plant_series(
                plant=plant, metric_keys=WEATHER_KEYS, start=lo, end=hi, resolution=resolution, device_ids=stations
            ),
            WEATHER_KEYS,
        )
        for lo, hi in _chunks(start, end, step)
    ]
    frame = pd.concat(frames)
    frame = frame[~frame.index.duplicated()]
    return frame[(frame.index >= start) & (frame.index < end)]


def actual_power_kw(*, plant: Plant, start: datetime, end: datetime, step: timedelta | None = None) -> pd.Series:
    """Measured AC power (kW, sum over the plant's inverters) per bucket; NaN where none
    reported."""
    inverters = _device_ids(plant, DeviceType.INVERTER)
    resolution, step_ = series_resolution(start, end) if step is None else (_resolution_of(step), step)
    if not inverters:
        index = pd.date_range(start, end, freq=step_, inclusive="left")
        return pd.Series(np.nan, index=index, name="actual_kw")
    frames = [
        _frame(
            plant_series(
                plant=plant, metric_keys=["ac_power"], start=lo, end=hi, resolution=resolution, device_ids=inverters
            ),
            ["ac_power"],
        )
        for lo, hi in _chunks(start, end, step_)
    ]
    frame = pd.concat(frames)
    frame = frame[~frame.index.duplicated()]
    series = frame["ac_power"]
    return series[(series.index >= start) & (series.index < end)].rename("actual_kw")


def _resolution_of(step: timedelta) -> str:
    return Resolution.FIVE_MINUTES if step == FIVE_MINUTES else Resolution.HOUR


def model_from_measured(model: PlantModel, weather: pd.DataFrame, step: timedelta) -> tuple[pd.Series, str]:
    """Modelled AC power (kW) per bucket of ``weather`` (NaN where the weather has no
    irradiance) and which irradiance was used (``poa``, ``ghi`` or ``poa+ghi``)."""
    out = pd.Series(np.nan, index=weather.index, name="expected_kw")
    used = []
    temperature = TEMPERATURE_MODEL_PARAMETERS["sapm"][model.temperature_model]
    poa_rows = weather["irradiance_poa"].notna()
    ghi_rows = ~poa_rows & weather["irradiance_ghi"].notna()
    if poa_rows.any():
        part = weather[poa_rows]
        poa = part["irradiance_poa"].clip(lower=0.0)
        frame = pd.DataFrame(
            {"effective_irradiance": poa.to_numpy(), "poa_global": poa.to_numpy()}, index=part.index + step / 2
        )
        module_temp = part["module_temp"]
        if module_temp.notna().all():
            frame["cell_temperature"] = sapm_cell_from_module(
                module_temp.to_numpy(), poa.to_numpy(), temperature["deltaT"]
            )
        else:
            frame["temp_air"] = part["ambient_temp"].fillna(DEFAULT_TEMP_AIR).to_numpy()
            frame["wind_speed"] = part["wind_speed"].fillna(DEFAULT_WIND_SPEED).to_numpy()
            if module_temp.notna().any():  # module temperature where measured, SAPM elsewhere
                cell = sapm_cell_from_module(module_temp.to_numpy(), poa.to_numpy(), temperature["deltaT"])
                frame["cell_temperature"] = np.where(module_temp.notna(), cell, _sapm_cell(frame, temperature))
                frame = frame.drop(columns=["temp_air", "wind_speed"])
        ac = model.run(frame, from_effective_irradiance=True)
        out[poa_rows] = ac.to_numpy() / 1000.0
        used.append("poa")
    if ghi_rows.any():
        part = weather[ghi_rows]
        mids = part.index + step / 2
        temp_air = part["ambient_temp"].fillna(DEFAULT_TEMP_AIR).to_numpy()
        position = solar_position(model.location, mids, temp_air=float(np.mean(temp_air)))
        frame = decompose(pd.Series(part["irradiance_ghi"].clip(lower=0.0).to_numpy(), index=mids), position)
        frame["temp_air"] = temp_air
        frame["wind_speed"] = part["wind_speed"].fillna(DEFAULT_WIND_SPEED).to_numpy()
        ac = model.run(frame, solar_position=position)
        out[ghi_rows] = ac.to_numpy() / 1000.0
        used.append("ghi")
    return out, "+".join(used)


def _sapm_cell(frame: pd.DataFrame, temperature: dict) -> np.ndarray:
    from pvlib.temperature import sapm_cell

    return np.asarray(
        sapm_cell(frame["poa_global"], frame["temp_air"], frame["wind_speed"], temperature["a"], temperature["b"],
                  temperature["deltaT"])
    )  # fmt: skip
