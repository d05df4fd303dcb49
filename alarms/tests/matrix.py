"""Matrix entries of the alarm and alarm-rule routes. Each request gets a fresh alarm on its
target plant; rules are the plant's default rule set."""

from solarhub.testing.matrix import Route, expect, ids_of

_read_own = expect(customer=200, installer=200, plant_admin=200, outsider=404)
_read_other = expect(customer=404, installer=404, plant_admin=200, outsider=200)
# The plant is named in the body (plantId): one you cannot see is an unknown plantId (400, the
# answer for a plant that does not exist), never a 404 that would confirm it exists.
_created_own = expect(customer=201, installer=201, plant_admin=201, outsider=400)
_created_other = expect(customer=400, installer=400, plant_admin=201, outsider=201)
_all = expect(customer=200, installer=200, plant_admin=200, outsider=200)


def _alarm(w, t):
    """A fresh alarm inside the request's savepoint (the matrix rolls each request back)."""
    from alarms.services import alarm_create_manual

    return alarm_create_manual(plant=w.plants[t], by=None, title=f"Manual {t}", severity="high")


def _alarms_everywhere(w, path: str) -> str:
    """An alarm on each plant's device (inside the request's savepoint), then ``path``: a list
    must show the caller's and only the caller's."""
    from alarms.services import alarm_create_manual

    for target, plant in w.plants.items():
        alarm_create_manual(
            plant=plant, by=None, title=f"World alarm {plant.id}", severity="high", device=w.devices[target]
        )
    return path


def _rule(w, t):
    return w.plants[t].alarm_rules.order_by("id").first()


def _alarm_route(suffix, method="POST", ok=200, body=None):
    own = expect(customer=ok, installer=ok, plant_admin=ok, outsider=404)
    other = expect(customer=404, installer=404, plant_admin=ok, outsider=ok)
    return Route(
        f"api:alarm-{suffix}",
        method,
        lambda w, t: f"/api/alarms/{_alarm(w, t).id}/{suffix}",
        own,
        other,
        body=body or (lambda w, t: {"comment": "checked"}),
    )


def _rule_body(w, t):
    return {
        "plantId": w.plants[t].id,
        "name": "Hot inverter",
        "ruleType": "threshold",
        "severity": "high",
        "params": {"metric": "internal_temp", "operator": ">", "value": 80},
    }


MATRIX = [
    Route(
        "api:alarm-list",
        "GET",
        lambda w, t: _alarms_everywhere(w, "/api/alarms"),
        _all,
        visible=ids_of("plantId", "plants"),
    ),
    Route(
        "api:alarm-list",
        "POST",
        lambda w, t: "/api/alarms",
        _created_own,
        _created_other,
        body=lambda w, t: {"plantId": w.plants[t].id, "title": "Fence damaged", "severity": "low"},
    ),
    Route("api:alarm-detail", "GET", lambda w, t: f"/api/alarms/{_alarm(w, t).id}", _read_own, _read_other),
    Route(
        "api:alarm-detail",
        "PATCH",
        lambda w, t: f"/api/alarms/{_alarm(w, t).id}",
        _read_own,
        _read_other,
        body=lambda w, t: {"acknowledged": True},
    ),
    Route(
        "api:alarm-detail",
        "DELETE",
        lambda w, t: f"/api/alarms/{_alarm(w, t).id}",
        expect(customer=403, installer=403, plant_admin=204, outsider=404),
        expect(customer=404, installer=404, plant_admin=204, outsider=403),
    ),
    # PUT is not offered (seed 000 edits alarms with PATCH): 405 for everyone signed in
    Route(
        "api:alarm-detail",
        "PUT",
        lambda w, t: f"/api/alarms/{_alarm(w, t).id}",
        expect(customer=405, installer=405, plant_admin=405, outsider=405),
        body=lambda w, t: {"title": "x"},
    ),
    _alarm_route("acknowledge"),
    _alarm_route("clear"),
    _alarm_route("close"),
    _alarm_route("shelve", body=lambda w, t: {"minutes": 30}),
    _alarm_route("comment", ok=201),
    _alarm_route("assign", body=lambda w, t: {"assigneeId": w.plants[t].owner_id}),
    _alarm_route("events", method="GET"),
    # every plant has its default rule set
    Route("api:alarm-rule-list", "GET", lambda w, t: "/api/alarm-rules", _all, visible=ids_of("plantId", "plants")),
    Route(
        "api:alarm-rule-list", "POST", lambda w, t: "/api/alarm-rules", _created_own, _created_other, body=_rule_body
    ),
    Route("api:alarm-rule-detail", "GET", lambda w, t: f"/api/alarm-rules/{_rule(w, t).id}", _read_own, _read_other),
    Route(
        "api:alarm-rule-detail",
        "PUT",
        lambda w, t: f"/api/alarm-rules/{_rule(w, t).id}",
        _read_own,
        _read_other,
        body=_rule_body,
    ),
    Route(
        "api:alarm-rule-detail",
        "PATCH",
        lambda w, t: f"/api/alarm-rules/{_rule(w, t).id}",
        _read_own,
        _read_other,
        body=lambda w, t: {"enabled": False},
    ),
    Route(
        "api:alarm-rule-detail",
        "DELETE",
        lambda w, t: f"/api/alarm-rules/{_rule(w, t).id}",
        expect(customer=204, installer=204, plant_admin=204, outsider=404),
        expect(customer=404, installer=404, plant_admin=204, outsider=204),
    ),
    Route(
        "api:alarm-rule-test",
        "POST",
        lambda w, t: f"/api/alarm-rules/{_rule(w, t).id}/test",
        _read_own,
        _read_other,
        body=lambda w, t: {"hours": 24},
    ),
]
