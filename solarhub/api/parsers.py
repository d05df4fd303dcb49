"""The JSON body parsers of the API: camelCase in, and nothing a column or a later read cannot
hold.

Python's ``json`` accepts ``NaN``, ``Infinity`` and ``-Infinity`` (not JSON at all), turns
``1e400`` into ``inf``, takes integers of any size, NUL characters and lone surrogates in
strings, and raises ``RecursionError`` (a 500) on a body nested a thousand deep.
djangorestframework-camel-case's parser passed all of it on: a capacity of ``1e400`` was stored
as Infinity, an alarm ``metadata`` integer beyond 64 bits was stored and then broke every read of
the plant's alarms, a NUL in a string was a database error. Here every such value is a 400
``VALIDATION_ERROR`` naming where it is (``errors: {"totalCapacity": ["Not a finite number:
1e400."]}``), before any view sees the body; nesting deeper than :data:`MAX_DEPTH` is a 400
``PARSE_ERROR``. The ingest endpoint uses :class:`IngestJSONParser`: numbers and strings pass
through and a bad value is rejected per value while the rest of the batch is stored
(telemetry.ingest); only the nesting limit applies there.
"""

from __future__ import annotations

import json
import math

from django.conf import settings
from djangorestframework_camel_case.parser import CamelCaseJSONParser
from djangorestframework_camel_case.util import underscoreize
from rest_framework import exceptions
from rest_framework.parsers import JSONParser

MAX_DEPTH = 64  # objects/arrays within each other; real bodies stay under 10
INT_MIN, INT_MAX = -(2**63), 2**63 - 1  # what a bigint column and every reader can hold


class _Refused:
    __slots__ = ("reason",)

    def __init__(self, reason: str):
        self.reason = reason


def _parse_float(text: str):
    value = float(text)
    return value if math.isfinite(value) else _Refused(f"Not a finite number: {text}.")


def _parse_int(text: str):
    if len(text) > 20:
        return _Refused("Integer out of the 64-bit range.")
    value = int(text)
    return value if INT_MIN <= value <= INT_MAX else _Refused("Integer out of the 64-bit range.")


def _parse_constant(text: str):
    return _Refused(f"Not a finite number: {text}.")


def _bad_text(text: str) -> str | None:
    if "\x00" in text:
        return "NUL characters are not allowed."
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "Lone surrogates are not allowed (not valid Unicode)."
    return None


def refused_values(data) -> dict[str, list[str]]:
    """``{path: [reason]}`` for every refused value or key in parsed ``data`` (iterative: no
    recursion however deep); raises ParseError beyond :data:`MAX_DEPTH`."""
    found: dict[str, list[str]] = {}
    stack = [(data, "", 0)]
    while stack:
        value, path, depth = stack.pop()
        if isinstance(value, _Refused):
            found[path or "body"] = [value.reason]
        elif isinstance(value, str):
            reason = _bad_text(value)
            if reason:
                found[path or "body"] = [reason]
        elif isinstance(value, dict | list):
            if depth >= MAX_DEPTH:
                raise exceptions.ParseError(f"JSON nested deeper than {MAX_DEPTH} levels.")
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in items:
                if isinstance(value, dict):
                    child = f"{path}.{key}" if path else key
                    reason = _bad_text(key)
                    if reason:
                        # the key is echoed escaped: a lone surrogate cannot be rendered as JSON
                        found[child.encode("utf-8", "backslashreplace").decode()] = [f"Key: {reason}"]
                        continue
                else:
                    child = f"{path}[{key}]"
                stack.append((item, child, depth + 1))
    return found


def _loads(stream, parser_context, **hooks):
    encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
    try:
        return json.loads(stream.read().decode(encoding), **hooks)
    except RecursionError:
        raise exceptions.ParseError(f"JSON nested deeper than {MAX_DEPTH} levels.") from None
    except ValueError as exc:  # also UnicodeDecodeError
        raise exceptions.ParseError(f"JSON parse error - {exc}") from None


class StrictCamelCaseJSONParser(CamelCaseJSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        data = _loads(
            stream, parser_context, parse_constant=_parse_constant, parse_float=_parse_float, parse_int=_parse_int
        )
        errors = refused_values(data)
        if errors:
            raise exceptions.ValidationError(errors)
        return underscoreize(data, **self.json_underscoreize)


class IngestJSONParser(JSONParser):
    """DRF's JSON parser (NaN and friends refused as constants; every value is judged alone by
    the ingest service, which stores the good ones) that answers a body too deep for Python's
    decoder with a 400 instead of a RecursionError (a 500). No walk over the batch: the ingest
    reads only its own shape, so depth within the decoder's limit cannot hurt it."""

    def parse(self, stream, media_type=None, parser_context=None):
        return _loads(stream, parser_context, parse_constant=_ingest_constant)


def _ingest_constant(text: str):
    raise ValueError(f"{text} is not valid JSON")
