"""Query parameters, parsed one way for every endpoint: times, integers, ids, enums and lists.

Before this module three datetime parsers disagreed: ``?since=2026-01-01T00:00:00+05:30`` sent
with an unencoded ``+`` (which arrives as a space) was a 200 on the time series and a 400 on the
alarm list, a NUL passed the alarm filter, and a year-9999 time with an offset was a 500 there.
The rules now, for every time parameter:

* ISO 8601 as Python and Django read it: ``2026-01-01T00:00:00Z``, ``…+05:30``, ``…-0500``,
  a space instead of ``T``, fractions of a second, the basic form ``20260101T000000Z``;
* a space before the offset is the ``+`` of an unencoded query string (``… 05:30`` → ``+05:30``);
* a date alone is its midnight and a time without an offset is UTC (the API's zone);
* an offset up to ±23:59 is the instant it names (PostgreSQL only takes ±15:59, so instants
  are always handed on in UTC; ``solarhub.db`` does the same for every aware datetime); ±24:00 or
  more, garbage, a NUL, or a time outside the endpoint's bounds is a 400.

A bad value is a 400 ``VALIDATION_ERROR`` whose ``errors`` name the parameter (``{"startTime":
["…"]}``; names are snake_case here, as ``CamelCaseMiddleWare`` delivers them, and the renderer
camelizes them back). django-filter FilterSets get the same rules from :class:`IdFilter`,
:class:`IntFilter` and :class:`TimeFilter`. :func:`iso` is the one way out (UTC with ``Z``) and
:func:`csv_records` the one reader of CSV sent in a request.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime

import django_filters
from django import forms
from django.utils.dateparse import parse_date, parse_datetime
from rest_framework import exceptions

from .exceptions import ApiError

MAX_ID = 2**63 - 1  # ids are positive 64-bit integers (a bigint column)
# Beyond these, range arithmetic in local zones could overflow; no telemetry exists there anyway.
EARLIEST = datetime(1970, 1, 2, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)
MAX_TIME_LENGTH = 40  # the longest ISO 8601 spelling with microseconds and an offset is 32
# A '+' in an unencoded query string arrives as a space: "2024-01-01T00:00:00 02:00".
_SPACE_OFFSET = re.compile(r" (\d{2}:?\d{2})$")


class InvalidParameter(exceptions.ValidationError, ApiError):
    """400 naming the parameter: ``errors: {name: [message]}``; ``error_code`` is
    ``VALIDATION_ERROR`` unless ``code`` says otherwise (the paginator's ``INVALID_PAGE``)."""

    status_code = 400
    default_code = "invalid"

    def __init__(self, name: str, message: str, *, code: str | None = None):
        exceptions.ValidationError.__init__(self, detail={name: [message]}, code=code or "invalid")
        self.error_code = code.upper() if code else "VALIDATION_ERROR"


# --- times ---------------------------------------------------------------------------------------


def iso(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC with ``Z`` (architecture.md), for datetimes and pandas Timestamps."""
    return None if moment is None else moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def datetime_from_text(text: str, *, dates: bool = False) -> datetime | None:
    """The datetime an ISO 8601 string spells, as written (naive when it has no offset), or
    None when it is no such string (also for NUL, an overlong text, an offset of ±24 h or more).
    With ``dates`` a date alone is its (naive) midnight."""
    text = text.strip()
    if not text or len(text) > MAX_TIME_LENGTH or "\x00" in text:
        return None
    try:
        moment = parse_datetime(text)
        if moment is None and dates and (day := parse_date(text)) is not None:
            moment = datetime(day.year, day.month, day.day)
    except ValueError:  # well formed but impossible: month 13, offset +24:00
        return None
    return moment


def parse_time(raw: str, name: str, *, earliest: datetime = EARLIEST, latest: datetime = LATEST) -> datetime:
    """A time query parameter (the rules in the module docstring), aware and in UTC."""
    moment = datetime_from_text(_SPACE_OFFSET.sub(r"+\1", raw.strip()), dates=True)
    if moment is None:
        raise InvalidParameter(name, "Not an ISO 8601 time, e.g. 2024-01-01T00:00:00Z.")
    if moment.tzinfo is None:  # a time without offset is read as UTC, the API's zone
        moment = moment.replace(tzinfo=UTC)
    try:
        moment = moment.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00:00+05:00 is before the first instant a datetime holds
        moment = None
    if moment is None or not earliest <= moment <= latest:
        raise InvalidParameter(name, f"Times must lie between {earliest.year} and {latest.year}.")
    return moment


def time_param(params: Mapping, name: str, **bounds) -> datetime | None:
    """:func:`parse_time` of ``params[name]``; None when absent or empty."""
    raw = params.get(name)
    return None if raw is None or raw == "" else parse_time(raw, name, **bounds)


# --- numbers, enums and lists --------------------------------------------------------------------


def parse_int(raw: str, name: str, *, low: int, high: int, code: str | None = None) -> int:
    """A decimal integer in ``[low, high]`` (leading/trailing spaces allowed; no sign beyond a
    leading ``-`` when ``low`` is negative, no ``1.0``, ``1e3`` or digits of other scripts)."""
    text = raw.strip()
    digits = text[1:] if text.startswith("-") else text
    if not (digits.isascii() and digits.isdigit()) or len(digits) > 19:
        raise InvalidParameter(name, f"Must be an integer between {low} and {high}.", code=code)
    value = int(text)
    if not low <= value <= high:
        raise InvalidParameter(name, f"Must be between {low} and {high}; got {value}.", code=code)
    return value


def int_param(params: Mapping, name: str, *, default: int | None, low: int, high: int) -> int | None:
    """A bounded integer query parameter: absent or empty → ``default``, anything else outside
    ``[low, high]`` → 400 naming the limit (never an unbounded query)."""
    raw = params.get(name)
    return default if raw is None or raw == "" else parse_int(raw, name, low=low, high=high)


def id_param(params: Mapping, name: str) -> int | None:
    """A row id (a positive 64-bit integer) or None when absent or empty."""
    return int_param(params, name, default=None, low=1, high=MAX_ID)


def parse_enum(raw: str, name: str, choices: Iterable[str]) -> str:
    choices = list(choices)
    value = raw.strip()
    if value not in choices:
        raise InvalidParameter(name, f'"{value[:32]}" is not one of {", ".join(choices)}.')
    return value


def enum_param(params: Mapping, name: str, choices: Iterable[str], *, default: str | None = None) -> str | None:
    raw = params.get(name)
    return default if raw is None or raw == "" else parse_enum(raw, name, choices)


def list_param(
    params: Mapping,
    name: str,
    *,
    choices: Sequence[str] | None = None,
    max_items: int = 50,
    max_length: int = 1000,
    lower: bool = False,
) -> list[str] | None:
    """A comma-separated list (``severity=major,critical``), each item one of ``choices`` when
    given; None when absent or empty."""
    raw = params.get(name)
    if raw is None or raw.strip() == "":
        return None
    items = [part.strip().lower() if lower else part.strip() for part in raw.split(",") if part.strip()]
    if len(raw) > max_length or len(items) > max_items:
        raise InvalidParameter(name, f"At most {max_items} comma-separated values.")
    if choices is not None and any(item not in choices for item in items):
        raise InvalidParameter(name, f"Unknown value; one or more (comma-separated) of {', '.join(choices)}.")
    return items


# --- django-filter: the same rules in FilterSets -------------------------------------------------


class _ParamField(forms.Field):
    """A form field delegating to one of the parsers above (its 400 text is theirs)."""

    def __init__(self, *, parse, **kwargs):
        self._parse = parse
        super().__init__(**kwargs)

    def to_python(self, value):
        if value in self.empty_values:
            return None
        try:
            return self._parse(str(value))
        except InvalidParameter as exc:
            raise forms.ValidationError(next(iter(exc.detail.values()))[0]) from None


class _ParsedFilterMixin:
    """A django-filter Filter whose form field is :class:`_ParamField` around :meth:`parse`
    (the base class stays the usual one, so the OpenAPI schema keeps its type)."""

    def parse(self, raw: str):
        raise NotImplementedError

    @property
    def field(self):
        if not hasattr(self, "_field"):
            self._field = _ParamField(parse=self.parse, label=self.label, **self.extra)
        return self._field


class IntFilter(_ParsedFilterMixin, django_filters.NumberFilter):
    """An integer in ``[low, high]``, parsed by :func:`parse_int` (``1.5``, ``-3`` below the
    bounds or ``1e400`` are a 400 naming the filter, never an empty list or a database error)."""

    def __init__(self, *args, low: int, high: int, **kwargs):
        self.low, self.high = low, high
        super().__init__(*args, **kwargs)

    def parse(self, raw: str) -> int:
        return parse_int(raw, self.field_name, low=self.low, high=self.high)


class IdFilter(IntFilter):
    """A row id: a positive 64-bit integer, parsed like every id parameter (:func:`id_param`)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, low=1, high=MAX_ID, **kwargs)


class TimeFilter(_ParsedFilterMixin, django_filters.IsoDateTimeFilter):
    """A time, parsed by :func:`parse_time` like every time parameter."""

    def parse(self, raw: str) -> datetime:
        return parse_time(raw, self.field_name)


# --- CSV sent in a request -----------------------------------------------------------------------


def csv_records(text: str) -> tuple[list[str], list[dict[str, str]]]:
    """The header (names stripped) and rows (``{name: cell}``, names stripped, cells as sent,
    missing trailing cells ``""``, surplus cells dropped) of CSV text from a request body."""
    reader = csv.reader(io.StringIO(text.strip()))
    header = [name.strip() for name in next(reader, [])]
    rows = []
    for cells in reader:
        if not cells:
            continue
        rows.append({name: cells[i] if i < len(cells) else "" for i, name in enumerate(header)})
    return header, rows


__all__ = [
    "EARLIEST",
    "LATEST",
    "MAX_ID",
    "IdFilter",
    "IntFilter",
    "InvalidParameter",
    "TimeFilter",
    "csv_records",
    "datetime_from_text",
    "enum_param",
    "id_param",
    "int_param",
    "iso",
    "list_param",
    "parse_enum",
    "parse_int",
    "parse_time",
    "time_param",
]
