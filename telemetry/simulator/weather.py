"""Weather for a simulated plant, taken from pvlib's bundled TMY3 file.

The file (``pvlib/data/723170TYA.CSV``, Greensboro NC) is used as *the* weather of every plant
although the sites differ: it is real, hour-by-hour weather with clear days, broken clouds and
overcast spells, it ships with pvlib (works offline), and a demo needs plausible weather more
than it needs the right weather. What is transferred is the *clear-sky index* (how cloudy each
hour was), not absolute irradiance: GHI = index * the plant's own clear-sky GHI. So the sun
still rises and sets at the plant's times, the summer noon is as high as at the plant's latitude,
and night is dark even where the TMY hour was not.

Mapping in time: the TMY year's day-of-year is laid onto the requested dates (29 February
repeats 28 February) and, within a day, hours are matched by *local mean solar time*
(UTC + longitude / 15 h). The TMY is in Greensboro standard time (UTC-5); matching solar time
rather than clock time is what "shifting for the plant's time zone" means physically — the TMY's
10:00 solar-time cloud lands on the plant's 10:00 solar time, whatever its zone or DST. The
equation of time depends only on the day of year, so it is the same at both ends and cancels.

Temperatures and wind speed are taken as they are (Greensboro's), matched the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import pvlib

TMY_FILE = Path(pvlib.__file__).parent / "data" / "723170TYA.CSV"
_MONTH_START = np.cumsum([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30])  # day-of-year offsets, non-leap
_PAD = 48  # hours copied across the year's ends so interpolation wraps Dec 31 → Jan 1


@dataclass(frozen=True)
class TmySeries:
    """TMY columns on a "solar day of year" axis (0 = 1 Jan 00:00 local mean solar time)."""

    solar_day: np.ndarray
    clear_sky_index: np.ndarray
    temp_air: np.ndarray
    wind_speed: np.ndarray


@lru_cache(maxsize=1)
def tmy_series() -> TmySeries:
    """Read the TMY once per process (~0.1 s) and derive its hourly clear-sky index."""
    data, meta = pvlib.iotools.read_tmy3(str(TMY_FILE), map_variables=True)
    # The TMY's own Date/Time columns: each month comes from a different year, and hour 24:00
    # of 31 December would become 1 January in the parsed index. Use the calendar fields.
    month_day = data["Date (MM/DD/YYYY)"].str.slice(0, 5)
    month = month_day.str.slice(0, 2).astype(int).to_numpy()
    day = month_day.str.slice(3, 5).astype(int).to_numpy()
    hour_end = data["Time (HH:MM)"].str.slice(0, 2).astype(int).to_numpy()
    day0 = _MONTH_START[month - 1] + day - 1
    # Values are averages of the hour ending at the label: evaluate the sky at its middle.
    utc_hours = hour_end - 0.5 - float(meta["TZ"])
    solar_day = day0 + utc_hours / 24.0 + float(meta["longitude"]) / 360.0

    site = pvlib.location.Location(meta["latitude"], meta["longitude"], altitude=meta["altitude"])
    moments = pd.Timestamp("2001-01-01", tz="UTC") + pd.to_timedelta(day0 * 24.0 + utc_hours, unit="h")
    clear = site.get_clearsky(pd.DatetimeIndex(moments), model="ineichen")["ghi"].to_numpy()
    ghi = data["ghi"].to_numpy(dtype=float)
    index = np.where(clear > 50.0, ghi / np.maximum(clear, 1.0), np.nan)  # low sun: too noisy to trust
    index = pd.Series(index).interpolate(limit_direction="both").to_numpy()
    index = np.clip(index, 0.0, 1.3)

    def wrap(values: np.ndarray, shift: float = 0.0) -> np.ndarray:
        return np.concatenate([values[-_PAD:] - shift, values, values[:_PAD] + shift])

    return TmySeries(
        solar_day=wrap(solar_day, 365.0),
        clear_sky_index=wrap(index),
        temp_air=wrap(data["temp_air"].to_numpy(dtype=float)),
        wind_speed=wrap(data["wind_speed"].to_numpy(dtype=float)),
    )


def solar_day_of_year(times: pd.DatetimeIndex, longitude: float) -> np.ndarray:
    """Each UTC instant as a fractional day of year in local mean solar time at ``longitude``,
    on a 365-day calendar (29 February folds onto 28 February)."""
    day0 = times.day_of_year.to_numpy() - 1
    fraction = (times.hour.to_numpy() + times.minute.to_numpy() / 60.0 + times.second.to_numpy() / 3600.0) / 24.0
    solar = day0 + fraction + longitude / 360.0
    leap = times.is_leap_year
    past_february = np.floor(solar) >= 59
    return np.where(np.asarray(leap) & past_february, solar - 1.0, solar)


def plant_weather(*, location: pvlib.location.Location, times: pd.DatetimeIndex, cloud_noise: np.ndarray):
    """ghi, dni, dhi, temp_air, wind_speed at ``times`` for the plant at ``location``.

    ``cloud_noise`` (unit-variance AR(1)) adds the minute-scale flicker an hourly TMY lacks,
    strongest at intermediate clear-sky indices (broken clouds), absent on clear or overcast
    hours. DNI/DHI come from the Erbs decomposition of the resulting GHI.
    """
    tmy = tmy_series()
    solar = solar_day_of_year(times, location.longitude)
    index = np.interp(solar, tmy.solar_day, tmy.clear_sky_index)
    broken = 4.0 * index.clip(0, 1) * (1.0 - index.clip(0, 1))
    index = np.clip(index * (1.0 + 0.12 * broken * cloud_noise), 0.0, 1.25)

    clear = location.get_clearsky(times, model="ineichen")
    position = location.get_solarposition(times)
    ghi = index * clear["ghi"].to_numpy()
    parts = pvlib.irradiance.erbs(pd.Series(ghi, index=times), position["zenith"], times)
    cos_zenith = np.cos(np.radians(position["zenith"].to_numpy())).clip(0.0, 1.0)
    # Erbs overshoots at grazing sun; no more beam than a clear sky would give at this index.
    dni = np.minimum(np.nan_to_num(parts["dni"].to_numpy()), clear["dni"].to_numpy() * np.maximum(index, 1.0))
    dni = np.where(cos_zenith > 0.02, dni, 0.0)
    dhi = np.clip(ghi - dni * cos_zenith, 0.0, None)
    return pd.DataFrame(
        {
            "ghi": ghi,
            "dni": dni,
            "dhi": dhi,
            "temp_air": np.interp(solar, tmy.solar_day, tmy.temp_air),
            "wind_speed": np.interp(solar, tmy.solar_day, tmy.wind_speed),
        },
        index=times,
    )
