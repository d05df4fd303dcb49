"""Weather inputs of the plant model, one function per source (issue 7, domain.md).

Every function returns a DataFrame with ghi, dni, dhi, temp_air, wind_speed indexed by the
model's times (interval midpoints), plus the solar position for those times so the ModelChain
does not compute it a second time.

* ``clearsky`` — Ineichen with pvlib's Linke turbidity lookup; 20 °C, 1 m/s unless given.
* ``cloud_cover`` — posted hourly cloud cover (%): Larson's clear-sky scaling
  ``ghi = (0.35 + 0.65 (1 - cc/100)) ghi_clear``, then Erbs (or DISC) decomposition.
* ``irradiance`` — posted GHI/DNI/DHI (any two; the third from ``ghi = dni cos z + dhi``).
* ``tmy`` — pvlib's bundled TMY3: its hourly clear-sky index laid onto the plant's clear sky
  (the telemetry simulator's mapping, reused), temperatures and wind as they are.

Posted series are interpolated linearly in time onto the model's times and must cover the
window (within one posting step at either end); anything else is a 400 naming ``weather``.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pvlib
from rest_framework import exceptions

from solarhub.api.params import csv_records, datetime_from_text

from .pvmodel import clearsky_irradiance, solar_position

DEFAULT_TEMP_AIR = 20.0
DEFAULT_WIND_SPEED = 1.0
MAX_WEATHER_ROWS = 20_000
# Posted series may stop this far short of the window's ends (an hourly feed ending at 23:00).
_COVER_SLACK = timedelta(hours=1, minutes=1)
_FIELDS = {
    "timestamp": "timestamp",
    "ghi": "ghi",
    "dni": "dni",
    "dhi": "dhi",
    "temp_air": "temp_air",
    "tempair": "temp_air",
    "temperature": "temp_air",
    "wind_speed": "wind_speed",
    "windspeed": "wind_speed",
    "cloud_cover": "cloud_cover",
    "cloudcover": "cloud_cover",
}


@dataclass
class ModelWeather:
    frame: pd.DataFrame
    solar_position: pd.DataFrame


def _bad(message: str) -> exceptions.ValidationError:
    return exceptions.ValidationError({"weather": [message]})


def _number(value, *, row: int, name: str, low: float, high: float) -> float | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise _bad(f"Row {row}: {name} must be a number.")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise _bad(f"Row {row}: {name} must be a number.") from None
    if not math.isfinite(number) or not low <= number <= high:
        raise _bad(f"Row {row}: {name} must lie between {low:g} and {high:g}.")
    return number


_LIMITS = {
    "ghi": (0.0, 1500.0),
    "dni": (0.0, 1500.0),
    "dhi": (0.0, 1000.0),
    "temp_air": (-60.0, 70.0),
    "wind_speed": (0.0, 100.0),
    "cloud_cover": (0.0, 100.0),
}


def _parse_time(raw, row: int) -> datetime:
    moment = datetime_from_text(str(raw)) if raw is not None else None
    if moment is None:
        raise _bad(f"Row {row}: timestamp must be ISO 8601, e.g. 2026-06-01T10:00:00Z.")
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


def weather_rows(raw) -> list[dict]:
    """The posted weather as a list of dicts: a JSON list of objects, or CSV text with a header
    (``timestamp,ghi,dni,dhi,temp_air,wind_speed`` or ``...,cloud_cover``; camelCase accepted)."""
    if isinstance(raw, str):
        if "\x00" in raw:
            raise _bad("CSV text must not contain NUL bytes.")
        header, rows = csv_records(raw)
        if "timestamp" not in {name.lower() for name in header}:
            raise _bad("CSV weather needs a header line starting with 'timestamp'.")
    elif isinstance(raw, Sequence):
        rows = list(raw)
    else:
        raise _bad("Expected a list of {timestamp, ...} objects or CSV text.")
    if not rows:
        raise _bad("No weather rows.")
    if len(rows) > MAX_WEATHER_ROWS:
        raise _bad(f"At most {MAX_WEATHER_ROWS} weather rows.")
    return rows


def weather_frame(raw, *, columns: Sequence[str]) -> pd.DataFrame:
    """Validated posted weather: a time-sorted DataFrame (UTC index) with ``columns`` (NaN
    where a row lacks one). 400 naming ``weather`` for anything malformed."""
    rows = weather_rows(raw)
    times, values = [], []
    for n, row in enumerate(rows, start=1):
        if not isinstance(row, Mapping):
            raise _bad(f"Row {n} must be an object with a timestamp.")
        named = {_FIELDS.get(str(k).lower().replace("-", "_"), None): v for k, v in row.items()}
        named.pop(None, None)
        times.append(_parse_time(named.get("timestamp"), n))
        values.append([_number(named.get(c), row=n, name=c, low=_LIMITS[c][0], high=_LIMITS[c][1]) for c in columns])
    frame = pd.DataFrame(values, index=pd.DatetimeIndex(times), columns=list(columns), dtype=float)
    if frame.index.has_duplicates:
        raise _bad("Timestamps must be unique.")
    return frame.sort_index()


def _onto(frame: pd.DataFrame, times: pd.DatetimeIndex, *, window: tuple[datetime, datetime]) -> pd.DataFrame:
    """Linear interpolation in time of ``frame`` onto ``times``; the posted series must cover the
    window."""
    start, end = window
    if frame.index[0] > start + _COVER_SLACK or frame.index[-1] < end - _COVER_SLACK:
        raise _bad(
            f"The weather covers {frame.index[0].isoformat()} to {frame.index[-1].isoformat()}, "
            f"the forecast needs {start.isoformat()} to {end.isoformat()}."
        )
    xt = times.as_unit("ns").asi8.astype(float)
    out = {}
    for column in frame.columns:
        series = frame[column].dropna()
        if series.empty:
            out[column] = np.full(len(times), np.nan)
            continue
        out[column] = (
            np.interp(xt, series.index.as_unit("ns").asi8.astype(float), series.to_numpy())
            if len(series) > 1
            else (np.full(len(times), series.iloc[0]))
        )
    return pd.DataFrame(out, index=times)


def _temperatures(frame: pd.DataFrame, temp_air: float | None, wind_speed: float | None) -> None:
    if "temp_air" not in frame or frame["temp_air"].isna().all():
        frame["temp_air"] = DEFAULT_TEMP_AIR if temp_air is None else temp_air
    if "wind_speed" not in frame or frame["wind_speed"].isna().all():
        frame["wind_speed"] = DEFAULT_WIND_SPEED if wind_speed is None else wind_speed
    frame["temp_air"] = frame["temp_air"].fillna(DEFAULT_TEMP_AIR)
    frame["wind_speed"] = frame["wind_speed"].fillna(DEFAULT_WIND_SPEED)


def clearsky_weather(
    location: pvlib.location.Location,
    times: pd.DatetimeIndex,
    *,
    temp_air: float | None = None,
    wind_speed: float | None = None,
) -> ModelWeather:
    temp = DEFAULT_TEMP_AIR if temp_air is None else temp_air
    position = solar_position(location, times, temp_air=temp)
    frame = clearsky_irradiance(location, times, position)[["ghi", "dni", "dhi"]].copy()
    frame["temp_air"] = temp
    frame["wind_speed"] = DEFAULT_WIND_SPEED if wind_speed is None else wind_speed
    return ModelWeather(frame, position)


def decompose(ghi: pd.Series, position: pd.DataFrame, *, model: str = "erbs") -> pd.DataFrame:
    """GHI → (ghi, dni, dhi) with Erbs or DISC; DHI closes ``ghi = dni cos z + dhi``."""
    zenith = position["zenith"]
    if model == "disc":
        dni = pvlib.irradiance.disc(ghi, zenith, ghi.index)["dni"]
    else:
        dni = pvlib.irradiance.erbs(ghi, zenith, ghi.index)["dni"]
    cos_zenith = np.cos(np.radians(zenith)).clip(lower=0.0)
    dni = dni.fillna(0.0).where(cos_zenith > 0.02, 0.0)
    dhi = (ghi - dni * cos_zenith).clip(lower=0.0)
    return pd.DataFrame({"ghi": ghi, "dni": dni, "dhi": dhi})


def larson_ghi(cloud_cover: np.ndarray | pd.Series, ghi_clear: np.ndarray | pd.Series):
    """Larson et al. (2016) clear-sky scaling: ``(0.35 + 0.65 (1 - cc/100)) ghi_clear``."""
    return (0.35 + 0.65 * (1.0 - np.asarray(cloud_cover, dtype=float) / 100.0)) * ghi_clear


def cloud_cover_weather(
    location: pvlib.location.Location,
    times: pd.DatetimeIndex,
    raw,
    *,
    window: tuple[datetime, datetime],
    decomposition: str = "erbs",
) -> ModelWeather:
    posted = weather_frame(raw, columns=["cloud_cover", "temp_air", "wind_speed"])
    if posted["cloud_cover"].isna().all():
        raise _bad("cloud_cover weather needs cloudCover (%) in every row.")
    onto = _onto(posted, times, window=window)
    _temperatures(onto, None, None)
    position = solar_position(location, times, temp_air=float(onto["temp_air"].mean()))
    clear = clearsky_irradiance(location, times, position)
    ghi = pd.Series(larson_ghi(onto["cloud_cover"].to_numpy(), clear["ghi"].to_numpy()), index=times)
    frame = decompose(ghi, position, model=decomposition)
    frame["temp_air"] = onto["temp_air"]
    frame["wind_speed"] = onto["wind_speed"]
    return ModelWeather(frame, position)


def complete_irradiance(frame: pd.DataFrame, position: pd.DataFrame) -> pd.DataFrame:
    """Any two of ghi/dni/dhi → all three, through ``ghi = dni cos z + dhi``."""
    cos_zenith = np.cos(np.radians(position["zenith"])).clip(lower=0.0)
    ghi, dni, dhi = frame["ghi"], frame["dni"], frame["dhi"]
    ghi = ghi.fillna(dni * cos_zenith + dhi)
    dni = dni.fillna(((ghi - dhi) / cos_zenith.where(cos_zenith > 0.05)).clip(lower=0.0)).fillna(0.0)
    dhi = dhi.fillna((ghi - dni * cos_zenith).clip(lower=0.0))
    return pd.DataFrame({"ghi": ghi, "dni": dni, "dhi": dhi}, index=frame.index)


def irradiance_weather(
    location: pvlib.location.Location, times: pd.DatetimeIndex, raw, *, window: tuple[datetime, datetime]
) -> ModelWeather:
    posted = weather_frame(raw, columns=["ghi", "dni", "dhi", "temp_air", "wind_speed"])
    present = [c for c in ("ghi", "dni", "dhi") if posted[c].notna().all()]
    if len(present) < 2:
        raise _bad("irradiance weather needs at least two of ghi, dni, dhi in every row.")
    onto = _onto(posted, times, window=window)
    _temperatures(onto, None, None)
    position = solar_position(location, times, temp_air=float(onto["temp_air"].mean()))
    missing = {"ghi", "dni", "dhi"} - set(present)
    for column in missing:
        onto[column] = np.nan
    frame = complete_irradiance(onto, position).clip(lower=0.0)
    frame["temp_air"] = onto["temp_air"]
    frame["wind_speed"] = onto["wind_speed"]
    return ModelWeather(frame, position)


def tmy_weather(location: pvlib.location.Location, times: pd.DatetimeIndex) -> ModelWeather:
    """The bundled TMY3's hourly clear-sky index (how cloudy each hour of a typical year is) on
    the plant's own clear sky, matched by day of year and local solar time — the same mapping
    as the telemetry simulator (``telemetry.simulator.weather``), so demo actuals and TMY
    estimates share one typical year."""
    from telemetry.simulator.weather import solar_day_of_year, tmy_series

    tmy = tmy_series()
    solar = solar_day_of_year(times, location.longitude)
    index = np.interp(solar, tmy.solar_day, tmy.clear_sky_index)
    temp_air = np.interp(solar, tmy.solar_day, tmy.temp_air)
    position = solar_position(location, times, temp_air=float(np.mean(temp_air)))
    clear = clearsky_irradiance(location, times, position)
    ghi = pd.Series(index * clear["ghi"].to_numpy(), index=times)
    frame = decompose(ghi, position)
    # Erbs overshoots at grazing sun: no more beam than the clear sky gives.
    frame["dni"] = np.minimum(frame["dni"], clear["dni"] * np.maximum(index, 1.0))
    frame["temp_air"] = temp_air
    frame["wind_speed"] = np.interp(solar, tmy.solar_day, tmy.wind_speed)
    return ModelWeather(frame, position)


_MONTH_START = np.cumsum([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30])
_MAX_TMY_DISTANCE_KM = 100.0


def _hour_of_year(times: pd.DatetimeIndex, utc_offset_hours: float) -> np.ndarray:
    """Fractional hours since 1 January 00:00 in the file's standard time, on a 365-day
    calendar (29 February folds onto 28 February)."""
    local = times.tz_convert("UTC") + pd.Timedelta(hours=utc_offset_hours)
    day0 = _MONTH_START[local.month.to_numpy() - 1] + local.day.to_numpy() - 1
    day0 = np.where((local.month.to_numpy() == 2) & (local.day.to_numpy() == 29), day0 - 1, day0)
    return day0 * 24.0 + local.hour.to_numpy() + local.minute.to_numpy() / 60.0 + local.second.to_numpy() / 3600.0


def _parse_uploaded_tmy(text: str) -> tuple[pd.DataFrame, float, float, float]:
    """An uploaded EPW or TMY3 file → (hourly columns with ``center`` = hour-of-year of each
    hour's middle, latitude, longitude, UTC offset). Read from an in-memory buffer only (never a
    path or URL). 400 naming ``weather`` for anything unreadable."""
    buffer = io.StringIO(text)
    try:
        if text.lstrip().upper().startswith("LOCATION"):
            data, meta = pvlib.iotools.read_epw(buffer)
            month, day, hour_end = data["month"], data["day"], data["hour"]
            offset = float(meta["TZ"])
        else:
            data, meta = pvlib.iotools.read_tmy3(buffer, map_variables=True)
            stamp = data["Date (MM/DD/YYYY)"].astype(str)
            month, day = stamp.str.slice(0, 2).astype(int), stamp.str.slice(3, 5).astype(int)
            hour_end = data["Time (HH:MM)"].astype(str).str.slice(0, 2).astype(int)
            offset = float(meta["TZ"])
        latitude, longitude = float(meta["latitude"]), float(meta["longitude"])
        frame = data[["ghi", "dni", "dhi", "temp_air", "wind_speed"]].astype(float).reset_index(drop=True)
    except Exception as exc:  # noqa: BLE001 -- any parse failure of a client's file is a 400
        raise _bad(f"Not a readable EPW or TMY3 file ({type(exc).__name__}).") from None
    if len(frame) < 8760:
        raise _bad(f"A TMY/EPW file has 8,760 hourly rows; this one has {len(frame)}.")
    day0 = _MONTH_START[month.to_numpy() - 1] + day.to_numpy() - 1
    frame["center"] = day0 * 24.0 + hour_end.to_numpy() - 0.5
    return frame.sort_values("center"), latitude, longitude, offset


def uploaded_tmy_weather(location: pvlib.location.Location, times: pd.DatetimeIndex, raw) -> ModelWeather:
    """A client's TMY (EPW or TMY3 text, or ``{"data": text}``) laid onto ``times`` by hour of
    the year in the file's standard time; its irradiance is used as it is, so the file must be
    for the plant's site (within 100 km)."""
    text = raw.get("data") if isinstance(raw, Mapping) else raw
    if not isinstance(text, str) or "\x00" in text:
        raise _bad("An uploaded TMY is the EPW or TMY3 file's text.")
    frame, latitude, longitude, offset = _parse_uploaded_tmy(text)
    distance = _distance_km(latitude, longitude, location.latitude, location.longitude)
    if distance > _MAX_TMY_DISTANCE_KM:
        raise _bad(
            f"The TMY is for {latitude:.3f}, {longitude:.3f}, {distance:,.0f} km from the plant; "
            f"at most {_MAX_TMY_DISTANCE_KM:.0f} km."
        )
    centers = frame["center"].to_numpy()
    # wrap a day across the year's ends so 31 December → 1 January interpolates
    x = np.concatenate([centers[-24:] - 8760.0, centers, centers[:24] + 8760.0])
    target = _hour_of_year(times, offset)
    values = {}
    for column in ("ghi", "dni", "dhi", "temp_air", "wind_speed"):
        y = frame[column].to_numpy()
        values[column] = np.interp(target, x, np.concatenate([y[-24:], y, y[:24]]))
    position = solar_position(location, times, temp_air=float(np.mean(values["temp_air"])))
    weather = pd.DataFrame(values, index=times)
    # Interpolated hourly beam can be non-zero with the sun just below the horizon: no sun, no beam.
    weather.loc[position["zenith"].to_numpy() >= 90.0, ["ghi", "dni", "dhi"]] = 0.0
    return ModelWeather(weather, position)


def _distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(a))
