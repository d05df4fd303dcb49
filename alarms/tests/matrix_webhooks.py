"""Matrix entries of the plant webhook routes (``alarms/api/webhook_urls.py``).

Listing needs VIEW; creating, deleting and testing need ``manage_keys`` (owner, installer,
platform admin). The webhook a DELETE/test targets is created inside the request's savepoint
(the matrix rolls each request back), pointing at a loopback address, which sending refuses, so
``test`` answers "delivery failed" after the (test settings') one-second timeout."""

from solarhub.testing.matrix import Route, expect

_see_own = expect(customer=200, installer=200, plant_admin=200, outsider=404)
_see_other = expect(customer=404, installer=404, plant_admin=200, outsider=200)


def _hook_path(suffix: str = ""):
    def path(w, t):
        from alarms.models import Webhook

        hook = Webhook.objects.create(plant=w.plants[t], name="matrix", url="https://127.0.0.1:9/hook")
        return f"/api/plants/{w.plants[t].id}/webhooks/{hook.id}{suffix}"

    return path


MATRIX = [
    Route("api:plant-webhooks", "GET", lambda w, t: f"/api/plants/{w.plants[t].id}/webhooks", _see_own, _see_other),
    Route(
        "api:plant-webhooks",
        "POST",
        lambda w, t: f"/api/plants/{w.plants[t].id}/webhooks",
        expect(customer=201, installer=201, plant_admin=201, outsider=404),
        expect(customer=404, installer=404, plant_admin=201, outsider=201),
        body=lambda w, t: {"name": "ops", "url": "https://hooks.example.com/solarhub", "minSeverity": "high"},
    ),
    Route(
        "api:plant-webhook-detail",
        "DELETE",
        _hook_path(),
        expect(customer=204, installer=204, plant_admin=204, outsider=404),
        expect(customer=404, installer=404, plant_admin=204, outsider=204),
    ),
    Route(
        "api:plant-webhook-test",
        "POST",
        _hook_path("/test"),
        expect(customer=200, installer=200, plant_admin=200, outsider=404),
        expect(customer=404, installer=404, plant_admin=200, outsider=200),
    ),
]
