"""The twin viewer page (``/twins/{id}/view``): a Django template that loads the twin's GLB
from the API with three.js (vendored in ``twins/static/twins/vendor``, no CDN) and shows it
with orbit controls and a legend.

Signed in by session (the Django admin's or allauth's ``/accounts/login/``), or by a bearer token
as the API is: the page and the GLB it fetches (same origin, the session cookie) are scoped like
the API, a twin of a plant you cannot see is a 404; anonymous visitors go to the sign-in page.
"""

from __future__ import annotations

from django.contrib.auth.views import redirect_to_login
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_GET
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request

from accounts.authentication import JWTAuthentication
from twins.selectors import twin_list_visible_to

from .choices import ObjectType
from .generation import GROUND_MATERIAL, INVERTER_MATERIAL, PANEL_MATERIAL, STRING_BOX_MATERIAL, STRUCTURE_MATERIAL

LEGEND = [
    (ObjectType.SOLAR_PANEL, PANEL_MATERIAL["color"]),
    (ObjectType.INVERTER, INVERTER_MATERIAL["color"]),
    (ObjectType.STRING_BOX, STRING_BOX_MATERIAL["color"]),
    (ObjectType.STRUCTURE, STRUCTURE_MATERIAL["color"]),
    (ObjectType.GROUND, GROUND_MATERIAL["color"]),
]


def _user(request):
    """The session's user, else the API's bearer token's (a page opened by a client that holds
    one), else ``None``."""
    if request.user.is_authenticated:
        return request.user
    try:
        found = JWTAuthentication().authenticate(Request(request))
    except AuthenticationFailed:
        return None
    return found[0] if found else None


@require_GET
def twin_viewer(request, pk: int):
    user = _user(request)
    if user is None:
        return redirect_to_login(request.get_full_path())
    twin = twin_list_visible_to(user).select_related("plant").defer("twin_data").filter(pk=pk).first()
    if twin is None:
        raise Http404("Twin not found.")
    at = request.GET.get("at", "")
    query = f"?format=glb&at={at}" if at else "?format=glb"
    context = {
        "twin": twin,
        "glb_url": f"/api/digital-twins/{twin.pk}/gltf{query}",
        "legend": [(choice.label, color) for choice, color in LEGEND],
        "at": at,
    }
    return render(request, "twins/viewer.html", context)
