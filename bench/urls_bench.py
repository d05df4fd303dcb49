"""URL map for benchmarks: a bare Django JSON view in front of the application's own URL map,
so both are served by the same process, settings and middleware stack."""

from django.db import connection
from django.http import JsonResponse
from django.urls import path

from solarhub.urls import handler400, handler403, handler404, handler500
from solarhub.urls import urlpatterns as app_urlpatterns

__all__ = ["BARE_PATH", "handler400", "handler403", "handler404", "handler500", "urlpatterns"]

BARE_PATH = "bench/bare"

# The same shape and about the same size as 25 items of GET /api/plants (camelCase keys).
BARE_ITEMS = [
    {
        "id": 1000 + i,
        "name": f"Bench plant {i:04d}",
        "location": "California, USA",
        "totalCapacity": 250.0 + i,
        "currentGeneration": None,
        "efficiency": None,
        "deviceCount": 3 + i % 4,
        "status": "online",
        "lastUpdate": None,
        "ownerId": 17,
        "installerId": 3,
    }
    for i in range(25)
]


def bare_view(request):
    """No DRF, no authentication, one trivial query (``SELECT 1``), a fixed list as JSON."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return JsonResponse(BARE_ITEMS, safe=False)


urlpatterns = [path(BARE_PATH, bare_view, name="bench-bare"), *app_urlpatterns]
