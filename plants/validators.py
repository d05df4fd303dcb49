"""Field validators of the plants app."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from django.core.exceptions import ValidationError


def validate_timezone(value: str) -> None:
    """A real IANA time zone name (``Europe/Berlin``), not an abbreviation or offset."""
    if not value or value not in _zones():
        raise ValidationError(f"'{value}' is not an IANA time zone name, e.g. Europe/Berlin.")
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError(f"'{value}' is not an IANA time zone name.") from None


_ZONES: set[str] | None = None


def _zones() -> set[str]:
    global _ZONES
    if _ZONES is None:
        _ZONES = available_timezones()
    return _ZONES
