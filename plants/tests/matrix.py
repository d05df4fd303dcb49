"""Matrix entries of the plants routes. ``own`` = the customer's plant (installed by the
installer); ``other`` = the outsider's plant (installed by a rival installer)."""

import secrets
from datetime import timedelta

from django.utils import timezone

from solarhub.testing.matrix import Route, expect, ids_of

# Seeing: owner, installer, admin; the outsider only sees the other plant.
SEE_OWN = expect(customer=200, installer=200, plant_admin=200, outsider=404)
SEE_OTHER = expect(customer=404, installer=404, plant_admin=200, outsider=200)


def _change(ok: int):
    """Changing definitions: installer and admin; the owner is read-only (403)."""
    return (
        expect(customer=403, installer=ok, plant_admin=ok, outsider=404),
        expect(customer=404, installer=404, plant_admin=ok, outsider=403),
    )


def _members(ok: int):
    """Managing members: owner, installer and admin."""
    return (
        expect(customer=ok, installer=ok, plant_admin=ok, outsider=404),
        expect(customer=404, installer=404, plant_admin=ok, outsider=ok),
    )


def _plant_body(w, t):
    return {
        "name": "Matrix plant",
        "location": "Somewhere",
        "totalCapacity": 250,
        "coordinates": {"lat": 48.1, "lng": 11.6},
        "surfaceTilt": 25,
        "surfaceAzimuth": 180,
    }


def _device_body(w, t):
    return {"plantId": w.plants[t].id, "name": "New inverter", "type": "inverter", "serialNumber": "NEW-1"}


def _plant(w, t):
    return w.plants[t].id


def _device(w, t):
    return w.devices[t].id


_put_plant = _change(200)
_delete_plant = (
    expect(customer=403, installer=403, plant_admin=204, outsider=404),
    expect(customer=404, installer=404, plant_admin=204, outsider=403),
)
_create_child = _change(201)
_put_device = _change(200)
_delete_device = _change(204)
_invite = _members(202)
_revoke = _members(204)
# Handing a plant over: the owner (consent) and plant admins; never the installer of an owned
# plant (403), and an outsider does not see the plant (404).
_transfer = (
    expect(customer=202, installer=403, plant_admin=202, outsider=404),
    expect(customer=404, installer=404, plant_admin=202, outsider=202),
)


def _pending_invitation(w, t, *, email: str, invited_by=None) -> int:
    """A pending viewer invitation on the target plant (made inside the request's rolled-back
    savepoint, like the request itself); returns its id."""
    from plants.models import PlantInvitation
    from plants.services import invitation_token_hash

    invitation = PlantInvitation.objects.create(
        plant=w.plants[t],
        email=email,
        role="viewer",
        invited_by=invited_by,
        token_hash=invitation_token_hash(secrets.token_urlsafe(32)),
        expires_at=timezone.now() + timedelta(days=1),
    )
    return invitation.id


def _token_for_customer(w, t) -> str:
    """A token inviting the customer (by their e-mail) to the outsider's plant, made by its owner:
    only the customer may accept it; for everybody else it does not exist."""
    from plants.models import PlantInvitation
    from plants.services import invitation_token_hash

    token = secrets.token_urlsafe(32)
    PlantInvitation.objects.create(
        plant=w.plants["other"],
        email=w.users["customer"].email.lower(),
        role="viewer",
        invited_by=w.users["outsider"],
        token_hash=invitation_token_hash(token),
        expires_at=timezone.now() + timedelta(days=1),
    )
    return token


MATRIX = [
    Route(
        "api:plant-list",
        "GET",
        lambda w, t: "/api/plants",
        expect(customer=200, installer=200, plant_admin=200, outsider=200),
        visible=ids_of("id", "plants"),
    ),
    Route(
        "api:plant-list",
        "POST",
        lambda w, t: "/api/plants",
        expect(customer=403, installer=201, plant_admin=201, outsider=403),
        body=_plant_body,
    ),
    Route("api:plant-detail", "GET", lambda w, t: f"/api/plants/{_plant(w, t)}", SEE_OWN, SEE_OTHER),
    Route("api:plant-detail", "PUT", lambda w, t: f"/api/plants/{_plant(w, t)}", *_put_plant, body=_plant_body),
    Route(
        "api:plant-detail",
        "PATCH",
        lambda w, t: f"/api/plants/{_plant(w, t)}",
        *_put_plant,
        body=lambda w, t: {"name": "R"},
    ),
    Route("api:plant-detail", "DELETE", lambda w, t: f"/api/plants/{_plant(w, t)}", *_delete_plant),
    Route("api:plant-devices", "GET", lambda w, t: f"/api/plants/{_plant(w, t)}/devices", SEE_OWN, SEE_OTHER),
    Route(
        "api:plant-devices",
        "POST",
        lambda w, t: f"/api/plants/{_plant(w, t)}/devices",
        *_create_child,
        body=lambda w, t: {"name": "Inv", "type": "inverter", "serialNumber": "NEW-2"},
    ),
    Route("api:plant-panel-specs", "GET", lambda w, t: f"/api/plants/{_plant(w, t)}/panel-specs", SEE_OWN, SEE_OTHER),
    Route(
        "api:plant-panel-specs",
        "POST",
        lambda w, t: f"/api/plants/{_plant(w, t)}/panel-specs",
        *_create_child,
        body=lambda w, t: {
            "panelType": "M-540",
            "pMaxW": 540,
            "efficiencyPct": 21,
            "maxSystemVoltageV": 1500,
            "maxSeriesFuseRatingA": 25,
        },
    ),
    Route("api:plant-members", "GET", lambda w, t: f"/api/plants/{_plant(w, t)}/members", *_members(200)),
    Route(
        "api:plant-members",
        "POST",
        lambda w, t: f"/api/plants/{_plant(w, t)}/members",
        *_invite,
        body=lambda w, t: {"email": w.extra["grantee"].email, "role": "viewer"},
    ),
    Route(
        "api:plant-members",
        "DELETE",
        lambda w, t: f"/api/plants/{_plant(w, t)}/members",
        *_revoke,
        body=lambda w, t: {"userId": w.viewers[t].id},
    ),
    Route(
        "api:plant-member-detail",
        "DELETE",
        lambda w, t: f"/api/plants/{_plant(w, t)}/members/{w.viewers[t].id}",
        *_revoke,
    ),
    Route(
        "api:plant-member-detail",
        "PATCH",
        lambda w, t: f"/api/plants/{_plant(w, t)}/members/{w.viewers[t].id}",
        *_members(200),
        body=lambda w, t: {"role": "operator"},
    ),
    Route("api:plant-invitations", "GET", lambda w, t: f"/api/plants/{_plant(w, t)}/invitations", *_members(200)),
    Route(
        "api:plant-invitation-detail",
        "DELETE",
        lambda w, t: f"/api/plants/{_plant(w, t)}/invitations/"
        f"{_pending_invitation(w, t, email=f'invitee-{t}@example.com')}",
        *_revoke,
    ),
    Route(
        "api:plant-transfer",
        "POST",
        lambda w, t: f"/api/plants/{_plant(w, t)}/transfer",
        *_transfer,
        body=lambda w, t: {"ownerEmail": "new-owner@example.com"},
    ),
    Route("api:plant-history", "GET", lambda w, t: f"/api/plants/{_plant(w, t)}/history", *_members(200)),
    Route(
        "api:invitation-accept",
        "POST",
        lambda w, t: f"/api/invitations/{_token_for_customer(w, t)}/accept",
        expect(customer=200, installer=404, plant_admin=404, outsider=404),
    ),
    Route(
        "api:device-list",
        "GET",
        lambda w, t: "/api/devices",
        expect(customer=200, installer=200, plant_admin=200, outsider=200),
        visible=ids_of("id", "devices"),
    ),
    Route(
        "api:device-list",
        "POST",
        lambda w, t: "/api/devices",
        # a plant you cannot see is an unknown plantId (400), never a 404 leak of its existence
        expect(customer=403, installer=201, plant_admin=201, outsider=400),
        expect(customer=400, installer=400, plant_admin=201, outsider=403),
        body=_device_body,
    ),
    Route("api:device-detail", "GET", lambda w, t: f"/api/devices/{_device(w, t)}", SEE_OWN, SEE_OTHER),
    Route(
        "api:device-detail",
        "PUT",
        lambda w, t: f"/api/devices/{_device(w, t)}",
        *_put_device,
        body=lambda w, t: {
            "plantId": w.plants[t].id,
            "name": "Renamed",
            "type": "inverter",
            "serialNumber": w.devices[t].serial_number,
        },
    ),
    Route(
        "api:device-detail",
        "PATCH",
        lambda w, t: f"/api/devices/{_device(w, t)}",
        *_put_device,
        body=lambda w, t: {"name": "R"},
    ),
    Route("api:device-detail", "DELETE", lambda w, t: f"/api/devices/{_device(w, t)}", *_delete_device),
    Route(
        "api:device-group",
        "GET",
        lambda w, t: "/api/devices/inverters",
        expect(customer=200, installer=200, plant_admin=200, outsider=200),
        visible=ids_of("id", "devices"),
    ),
]
