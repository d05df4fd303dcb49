"""The JSON renderer writes with orjson but must say what DRF's encoder would: ``Z`` datetimes,
dates, Decimal as numbers, lazy strings, UUIDs, tuples, camelCase keys — and
NaN as null rather than a failed response."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

from django.utils.translation import gettext_lazy
from rest_framework.renderers import JSONRenderer

from solarhub.api.renderers import CamelCaseJSONRenderer


class _Response:
    camelize = True


def test_orjson_rendering_matches_drf_for_the_types_views_return():
    body = {
        "as_of": datetime(2026, 3, 29, 1, 30, 15, 123456, tzinfo=UTC),
        "local_date": date(2026, 3, 29),
        "capacity_kw": Decimal("12.50"),
        "label": gettext_lazy("Inverter"),
        "token": uuid.UUID("12345678-1234-5678-1234-567812345678"),
        "nested_list": [{"device_id": 1, "power_kw": 1.5, "ok": True, "gap": None}],
        "codes": ("a", "b"),
    }
    ours = CamelCaseJSONRenderer().render(body, renderer_context={"response": _Response()})
    drf = JSONRenderer().render(
        {
            "asOf": body["as_of"],
            "localDate": body["local_date"],
            "capacityKw": body["capacity_kw"],
            "label": body["label"],
            "token": body["token"],
            "nestedList": [{"deviceId": 1, "powerKw": 1.5, "ok": True, "gap": None}],
            "codes": ("a", "b"),
        }
    )
    assert json.loads(ours) == json.loads(drf)
    assert json.loads(ours)["asOf"] == "2026-03-29T01:30:15.123456Z"
    assert json.loads(ours)["capacityKw"] == 12.5


def test_nan_and_infinity_are_rendered_as_null_not_a_failure():
    rendered = CamelCaseJSONRenderer().render({"value": float("nan"), "peak": float("inf")})
    assert json.loads(rendered) == {"value": None, "peak": None}


def test_browsable_indent_requests_fall_back_to_drf():
    rendered = CamelCaseJSONRenderer().render({"a_b": 1}, "application/json; indent=2", {})
    assert rendered.decode() == '{\n  "aB": 1\n}'
