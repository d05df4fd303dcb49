"""The JSON body parser of the API: camelCase in, and only finite numbers.

Python's ``json`` accepts ``NaN``, ``Infinity`` and ``-Infinity`` (not JSON at all) and turns
``1e400`` into ``inf``; djangorestframework-camel-case's parser passes them on, so a capacity of
``1e400`` was stored as Infinity and shown as null, a NaN tilt became null, and some writes
answered 500. Here every non-finite number is a 400 ``VALIDATION_ERROR`` naming where it is
(``errors: {"totalCapacity": ["Not a finite number: 1e400."]}``), before any view sees the body.
The ingest endpoint keeps its own parser: there a bad value is rejected per value and the rest
of the batch is stored (telemetry.ingest).
"""

from __future__ import annotations

import json
import math

from django.conf import settings
from djangorestframework_camel_case.parser import CamelCaseJSONParser
from djangorestframework_camel_case.util import underscoreize
from rest_framework import exceptions


class _NonFinite:
    __slots__ = ("text",)

    def __init__(self, text: str):
        self.text = text


def _parse_float(text: str):
    value = float(text)
    return value if math.isfinite(value) else _NonFinite(text)


def _non_finite_paths(data, path: str = "") -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    if isinstance(data, _NonFinite):
        found[path or "body"] = [f"Not a finite number: {data.text}."]
    elif isinstance(data, dict):
        for key, value in data.items():
            found.update(_non_finite_paths(value, f"{path}.{key}" if path else str(key)))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found.update(_non_finite_paths(value, f"{path}[{index}]"))
    return found


class StrictCamelCaseJSONParser(CamelCaseJSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            data = json.loads(stream.read().decode(encoding), parse_constant=_NonFinite, parse_float=_parse_float)
        except ValueError as exc:  # also UnicodeDecodeError
            raise exceptions.ParseError(f"JSON parse error - {exc}") from None
        errors = _non_finite_paths(data)
        if errors:
            raise exceptions.ValidationError(errors)
        return underscoreize(data, **self.json_underscoreize)
