"""Matrix entries of the storage routes. Seeing a plant is enough to read every view; writing
dispatch events needs ``operate`` (owner, installer, engineer, operator, platform admins). An
invisible plant, device or event is 404, never 403; a plant named in a body that you cannot see
is an unknown ``plantId`` (400). Devices, tariffs and events are created inside the request's
rolled-back savepoint by the path builders, so the views answer 200 where the plant is visible
instead of their plant-has-none answers."""

from __future__ import annotations

from datetime import UTC, datetime

from plants.models import Device
from solarhub.testing.matrix import Route, expect, ids_of
from storage.models import DispatchEvent, StorageTariff

_see_own = expect(customer=200, installer=200, plant_admin=200, outsider=404)
_see_other = expect(customer=404, installer=404, plant_admin=200, outsider=200)


def _device(plant, device_type, serial, parent=None):
    device, _ = Device.objects.get_or_create(
        plant=plant, serial_number=serial, defaults={"type": device_type, "name": serial, "parent": parent}
    )
    return device


def _bess(w, t) -> str:
    plant = w.plants[t]
    bess = _device(plant, "bess", "MATRIX-BESS")
    _device(plant, "bess_rack", "MATRIX-RACK", parent=bess)
    return f"/api/v1/bess/1?plantId={plant.pk}"


def _pcs(w, t) -> str:
    plant = w.plants[t]
    _device(plant, "pcs", "MATRIX-PCS")
    return f"/api/v1/pcs/1?plantId={plant.pk}"


def _tariff(w, t) -> int:
    plant = w.plants[t]
    StorageTariff.objects.get_or_create(plant=plant, defaults={"nominal_frequency_hz": 60.0})
    return plant.pk


def _event(w, t) -> DispatchEvent:
    return DispatchEvent.objects.create(
        plant=w.plants[t],
        mode="dreg",
        time_start=datetime(2026, 6, 1, 14, tzinfo=UTC),
        time_end=datetime(2026, 6, 1, 15, tzinfo=UTC),
        quote_capacity=1.0,
        quote_price=900.0,
        is_get=True,
        power=1.0,
        price=850.0,
    )


def _body(w, t) -> dict:
    return {
        "plantId": w.plants[t].id,
        "mode": "dreg",
        "timeStart": "2026-06-02T14:00:00Z",
        "timeEnd": "2026-06-02T15:00:00Z",
        "quoteCapacity": 1.0,
        "quotePrice": 900.0,
        "isGet": True,
        "power": 1.0,
        "price": 850.0,
        "quoteCode": "QC-M",
    }


def _plant_route(name: str, path: str) -> Route:
    return Route(
        name, "GET", lambda w, t: f"{path}{'&' if '?' in path else '?'}plantId={w.plants[t].id}", _see_own, _see_other
    )


_write_own = expect(customer=200, installer=200, plant_admin=200, outsider=404)
_write_other = expect(customer=404, installer=404, plant_admin=200, outsider=200)

MATRIX = [
    Route("api:bess-detail", "GET", _bess, _see_own, _see_other),
    Route("api:pcs-detail", "GET", _pcs, _see_own, _see_other),
    _plant_route("api:meters", "/api/v1/meters"),
    _plant_route("api:meters-aux", "/api/v1/meters/aux?data_type=summary&time=2026-06-01"),
    Route(
        "api:inverter-detail", "GET", lambda w, t: f"/api/v1/inverter?deviceId={w.devices[t].id}", _see_own, _see_other
    ),
    _plant_route("api:system-overview", "/api/v1/system/overview"),
    _plant_route("api:system-topology", "/api/v1/system/topology"),
    _plant_route("api:config-sidebar", "/api/v1/config/sidebar"),
    _plant_route("api:schedule", "/api/v1/schedule?weeks=2"),
    Route(
        "api:schedule-income-daily",
        "GET",
        lambda w, t: f"/api/v1/schedule/income/daily?start_time=2026-06-01&plantId={_tariff(w, t)}",
        _see_own,
        _see_other,
    ),
    Route(
        "api:schedule-income-monthly",
        "GET",
        lambda w, t: f"/api/v1/schedule/income/monthly?start_time=2026-06&plantId={_tariff(w, t)}",
        _see_own,
        _see_other,
    ),
    _plant_route("api:schedule-exec-rate", "/api/v1/schedule/exec-rate?date=2026-06-01"),
    _plant_route("api:analysis-power-loss", "/api/v1/analysis/power-loss?start_time=2026-06-01"),
    _plant_route("api:analysis-power-io", "/api/v1/analysis/power-io?select_time=2026-06-01&data_type=monthly"),
    _plant_route("api:analysis-freq-power", "/api/v1/analysis/freq-power?date_period=60"),
    Route(
        "api:storage-kpis",
        "GET",
        lambda w, t: f"/api/plants/{w.plants[t].id}/storage/kpis?start=2026-06-01&end=2026-06-02",
        _see_own,
        _see_other,
    ),
    Route(
        "api:dispatch-event-list",
        "GET",
        lambda w, t: (_event(w, "own"), _event(w, "other"), "/api/dispatch-events")[-1],
        expect(customer=200, installer=200, plant_admin=200, outsider=200),
        visible=ids_of("plantId", "plants"),
    ),
    Route(
        "api:dispatch-event-list",
        "POST",
        lambda w, t: "/api/dispatch-events",
        expect(customer=201, installer=201, plant_admin=201, outsider=400),
        expect(customer=400, installer=400, plant_admin=201, outsider=201),
        body=_body,
    ),
    Route(
        "api:dispatch-event-detail", "GET", lambda w, t: f"/api/dispatch-events/{_event(w, t).id}", _see_own, _see_other
    ),
    *[
        Route(
            "api:dispatch-event-detail",
            method,
            lambda w, t: f"/api/dispatch-events/{_event(w, t).id}",
            _write_own,
            _write_other,
            body=lambda w, t: {**_body(w, t), "title": "Moved", "power": 0.5},
        )
        for method in ("PUT", "PATCH")
    ],
    Route(
        "api:dispatch-event-detail",
        "DELETE",
        lambda w, t: f"/api/dispatch-events/{_event(w, t).id}",
        expect(customer=204, installer=204, plant_admin=204, outsider=404),
        expect(customer=404, installer=404, plant_admin=204, outsider=204),
    ),
]
