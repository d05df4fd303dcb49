"""camelCase JSON out, with the two documented exceptions kept verbatim.

* Error bodies keep seed 001's keys ``detail``, ``status_code``, ``error_code``; everything else
  in them (``errors`` field names, extra context) is camelized like any other body.
* A view may set ``response.camelize = False`` (the OAuth2 token endpoint's RFC 6749 fields).
"""

from __future__ import annotations

from djangorestframework_camel_case.render import CamelCaseJSONRenderer as _CamelCaseJSONRenderer
from djangorestframework_camel_case.settings import api_settings as camel_settings
from djangorestframework_camel_case.util import camelize
from rest_framework.renderers import JSONRenderer

_VERBATIM_ERROR_KEYS = {"detail", "status_code", "error_code"}


def camel_key(key: str) -> str:
    return next(iter(camelize({key: None}, **camel_settings.JSON_UNDERSCOREIZE)))


def is_error_body(data) -> bool:
    return isinstance(data, dict) and "error_code" in data and "status_code" in data


class CamelCaseJSONRenderer(_CamelCaseJSONRenderer):
    def render(self, data, accepted_media_type=None, renderer_context=None):
        response = (renderer_context or {}).get("response")
        if is_error_body(data):
            body = {
                key if key in _VERBATIM_ERROR_KEYS else camel_key(key): (
                    value if key in _VERBATIM_ERROR_KEYS else camelize(value, **camel_settings.JSON_UNDERSCOREIZE)
                )
                for key, value in data.items()
            }
            return JSONRenderer().render(body, accepted_media_type, renderer_context)
        if response is not None and getattr(response, "camelize", True) is False:
            return JSONRenderer().render(data, accepted_media_type, renderer_context)
        return super().render(data, accepted_media_type, renderer_context)
