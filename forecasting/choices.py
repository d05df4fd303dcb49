"""Enumerations (TextChoices) of the forecasting app."""

from django.db import models


class Horizon(models.TextChoices):
    """Forecast horizons and their time steps (issue 7)."""

    INTRADAY = "intraday", "Intraday (15 min, next 6 h)"
    DAY_AHEAD = "day_ahead", "Day-ahead (15 min)"
    WEEK_AHEAD = "week_ahead", "Week-ahead (hourly)"
    MONTH_AHEAD = "month_ahead", "Month-ahead (daily)"
    YEAR = "year", "Yearly estimate (monthly)"


class WeatherSource(models.TextChoices):
    """Where a run's weather comes from (domain.md, pvlib)."""

    CLEARSKY = "clearsky", "Clear sky (Ineichen, Linke turbidity lookup)"
    CLOUD_COVER = "cloud_cover", "Posted cloud cover (Larson scaling + Erbs)"
    IRRADIANCE = "irradiance", "Posted irradiance (any two of GHI/DNI/DHI)"
    TMY = "tmy", "Typical meteorological year (pvlib's bundled TMY3)"
    SMART_PERSISTENCE = "smart_persistence", "Smart persistence (latest clear-sky index carried forward)"
    MEASURED = "measured", "Measured weather-station telemetry"
    EXTERNAL = "external", "Computed elsewhere and posted"


class Resolution(models.TextChoices):
    FIFTEEN_MINUTES = "15min", "15 minutes"
    HOUR = "hour", "Hourly"
    DAY = "day", "Daily"
    MONTH = "month", "Monthly"


# The resolutions a posted (external) forecast may declare for its points.
POSTED_RESOLUTIONS = [("15min", "15 minutes"), ("hour", "Hourly")]
