"""Issue 16: members are invited by e-mail (no user directory), ownership changes hands only
deliberately (owner consent or a plant admin), audited, with the plant's ingest keys revoked.

Everything goes through HTTP as the SPA sends it (camelCase JSON); grant answers are checked on
their raw text for any foreign username, name or e-mail."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.services import user_create
from plants.choices import DeviceType, PlantRole
from plants.models import Device, Plant, PlantEvent, PlantInvitation, PlantMembership
from solarhub.testing.personas import api_client_for, make_plant

pytestmark = pytest.mark.django_db

TOKEN_IN_MAIL = re.compile(r"/api/invitations/([A-Za-z0-9_-]{16,128})/accept")


def visible_plant_ids(user) -> set[int]:
    response = api_client_for(user).get("/api/plants")
    assert response.status_code == 200, response.content
    return {plant["id"] for plant in response.json()}


def members_of(plant, as_user) -> dict[int, str]:
    response = api_client_for(as_user).get(f"/api/plants/{plant.id}/members")
    assert response.status_code == 200, response.content
    return {member["userId"]: member["role"] for member in response.json()}


def invite(client, plant, body, capture):
    """POST an invitation and run the after-commit e-mail, as a real request would."""
    with capture(execute=True):
        return client.post(f"/api/plants/{plant.id}/members", body, format="json")


def token_of(mail) -> str:
    match = TOKEN_IN_MAIL.search(mail.body)
    assert match, mail.body
    return match.group(1)


def accept(user, token):
    return api_client_for(user).post(f"/api/invitations/{token}/accept", format="json")


def foreign_identities(*users) -> list[str]:
    """What must never show up in an answer about these accounts."""
    found = []
    for user in users:
        found += [user.username, user.email, user.email.lower()]
        if user.name:
            found.append(user.name)
    return found


def assert_reveals_none(response, users, *, given: tuple[str, ...] = ()) -> None:
    """``given``: what the caller sent (an e-mail address), which the answer may repeat."""
    text = response.content.decode()
    for sent in given:
        text = text.replace(sent, "")
    for needle in foreign_identities(*users):
        assert needle not in text, (needle, text)


@pytest.fixture
def named_outsider(outsider):
    outsider.name = "Olga Outsider"
    outsider.save(update_fields=["name"])
    return outsider


# --- granting is not a user directory ---------------------------------------------------------


def test_an_invitation_answers_the_same_whether_or_not_the_address_has_an_account(
    installer, own_plant, named_outsider, plant_admin, django_capture_on_commit_callbacks, mailoutbox
):
    client = api_client_for(installer)
    answers = {}
    for email in ("outsider@example.com", "nobody-here@example.com", "admin@example.com"):
        response = invite(client, own_plant, {"email": email, "role": "viewer"}, django_capture_on_commit_callbacks)
        assert response.status_code == 202, response.content
        assert_reveals_none(response, [named_outsider, plant_admin], given=(email,))
        answers[email] = response.json()
    shapes = {frozenset(body) for body in answers.values()}
    assert shapes == {
        frozenset({"id", "plantId", "email", "role", "status", "invitedBy", "createdAt", "sentAt", "expiresAt"})
    }
    for email, body in answers.items():
        assert (body["email"], body["role"], body["status"], body["invitedBy"]) == (
            email,
            "viewer",
            "pending",
            installer.id,
        )
    # every address got its e-mail, account or not; nobody got anything yet
    assert sorted(mail.to[0] for mail in mailoutbox) == sorted(answers)
    assert visible_plant_ids(named_outsider) == set()
    assert members_of(own_plant, installer) == {own_plant.owner_id: "owner", installer.id: "installer"}
    listed = api_client_for(installer).get(f"/api/plants/{own_plant.id}/invitations")
    assert {item["email"] for item in listed.json()} == set(answers)


def test_user_id_in_a_grant_is_refused_naming_it_for_every_id(
    installer, own_plant, named_outsider, plant_admin, customer, other_installer
):
    """Walking the id sequence answers one identical 400 for every id, real or not."""
    everybody = [named_outsider, plant_admin, customer, other_installer, installer]
    client = api_client_for(installer)
    bodies = set()
    for user_id in [*(u.id for u in everybody), 0, 999_999]:
        for body in (
            {"userId": user_id, "role": "viewer"},
            {"userId": user_id, "email": "x@example.com", "role": "viewer"},
        ):
            response = client.post(f"/api/plants/{own_plant.id}/members", body, format="json")
            assert response.status_code == 400, response.content
            assert "userId" in response.json()["errors"], response.json()
            assert_reveals_none(response, [u for u in everybody if u != installer])
            bodies.add(response.content)
    assert len(bodies) == 2  # without and with an e-mail beside it: never depending on the id
    assert not PlantInvitation.objects.exists()
    assert set(PlantMembership.objects.filter(plant=own_plant).values_list("user_id", flat=True)) == {
        customer.id,
        installer.id,
    }


@pytest.mark.parametrize("role", ["owner", "installer", "admin", "superuser"])
def test_only_grantable_roles_can_be_invited(customer, own_plant, role):
    response = api_client_for(customer).post(
        f"/api/plants/{own_plant.id}/members", {"email": "someone@example.com", "role": role}, format="json"
    )
    assert response.status_code == 400 and "role" in response.json()["errors"]
    assert not PlantInvitation.objects.exists()


def test_addresses_of_the_plants_own_members_are_refused(customer, installer, own_plant, outsider):
    PlantMembership.objects.create(user=outsider, plant=own_plant, role=PlantRole.VIEWER)
    client = api_client_for(customer)
    for email in ("OUTSIDER@example.com", installer.email, customer.email):
        response = client.post(
            f"/api/plants/{own_plant.id}/members", {"email": email, "role": "operator"}, format="json"
        )
        assert response.status_code == 400 and "email" in response.json()["errors"], response.content
    assert not PlantInvitation.objects.exists()


# --- accepting --------------------------------------------------------------------------------


def test_the_invitee_accepts_and_becomes_a_member_nobody_else_can(
    customer, installer, own_plant, other_plant, outsider, plant_admin, django_capture_on_commit_callbacks, mailoutbox
):
    response = invite(
        api_client_for(customer),
        own_plant,
        {"email": "Outsider@Example.com", "role": "operator"},
        django_capture_on_commit_callbacks,
    )
    assert response.status_code == 202, response.content
    (mail,) = mailoutbox
    assert mail.to == ["outsider@example.com"] and own_plant.name in mail.subject
    token = token_of(mail)

    for stranger in (installer, plant_admin, customer):  # a token is nothing in anybody else's hands
        refused = accept(stranger, token)
        assert refused.status_code == 404 and refused.json()["error_code"] == "NOT_FOUND"
    assert APIClient().post(f"/api/invitations/{token}/accept").status_code == 401
    assert accept(outsider, "x" * 43).status_code == 404

    accepted = accept(outsider, token)
    assert accepted.status_code == 200, accepted.content
    assert accepted.json() == {"plantId": own_plant.id, "role": "operator"}
    assert visible_plant_ids(outsider) == {own_plant.id, other_plant.id}
    assert members_of(own_plant, customer) == {customer.id: "owner", installer.id: "installer", outsider.id: "operator"}
    assert PlantMembership.objects.get(plant=own_plant, user=outsider).granted_by == customer
    assert accept(outsider, token).status_code == 404  # spent
    assert api_client_for(customer).get(f"/api/plants/{own_plant.id}/invitations").json() == []
    kinds = [e["kind"] for e in api_client_for(customer).get(f"/api/plants/{own_plant.id}/history").json()]
    assert kinds[:2] == ["member_joined", "member_invited"]


def test_an_invitation_reaches_an_account_registered_after_it(
    installer, own_plant, django_capture_on_commit_callbacks, mailoutbox
):
    invite(
        api_client_for(installer), own_plant, {"email": "new.person@example.com", "role": "viewer"},
        django_capture_on_commit_callbacks,
    )  # fmt: skip
    newcomer = user_create(email="new.person@example.com", password="x-Pass-1234", username="newcomer")
    assert accept(newcomer, token_of(mailoutbox[0])).json() == {"plantId": own_plant.id, "role": "viewer"}
    assert visible_plant_ids(newcomer) == {own_plant.id}


def test_an_expired_invitation_says_so_only_to_its_invitee(
    customer, own_plant, outsider, installer, django_capture_on_commit_callbacks, mailoutbox
):
    invite(
        api_client_for(customer), own_plant, {"email": outsider.email, "role": "viewer"},
        django_capture_on_commit_callbacks,
    )  # fmt: skip
    PlantInvitation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    token = token_of(mailoutbox[0])
    assert accept(installer, token).status_code == 404
    expired = accept(outsider, token)
    assert expired.status_code == 410 and expired.json()["error_code"] == "INVITATION_EXPIRED"
    assert visible_plant_ids(outsider) == set()
    listed = api_client_for(customer).get(f"/api/plants/{own_plant.id}/invitations").json()
    assert [item["status"] for item in listed] == ["expired"]


def test_an_invitation_of_somebody_who_left_the_plant_is_void(
    installer, own_plant, outsider, plant_admin, other_installer, django_capture_on_commit_callbacks, mailoutbox
):
    invite(
        api_client_for(installer), own_plant, {"email": outsider.email, "role": "viewer"},
        django_capture_on_commit_callbacks,
    )  # fmt: skip
    moved = api_client_for(plant_admin).patch(
        f"/api/plants/{own_plant.id}", {"installerId": other_installer.id}, format="json"
    )
    assert moved.status_code == 200, moved.content
    assert accept(outsider, token_of(mailoutbox[0])).status_code == 404
    assert visible_plant_ids(outsider) == set()


def test_inviting_again_replaces_the_pending_invitation_and_its_token(
    customer, own_plant, outsider, django_capture_on_commit_callbacks, mailoutbox
):
    client = api_client_for(customer)
    first = invite(client, own_plant, {"email": outsider.email, "role": "viewer"}, django_capture_on_commit_callbacks)
    again = invite(client, own_plant, {"email": outsider.email, "role": "viewer"}, django_capture_on_commit_callbacks)
    assert first.json()["id"] == again.json()["id"] and len(mailoutbox) == 1  # no new mail within a minute
    changed = invite(
        client, own_plant, {"email": outsider.email, "role": "engineer"}, django_capture_on_commit_callbacks
    )
    assert changed.json()["id"] == first.json()["id"] and len(mailoutbox) == 2  # a new role: a new mail
    old_token, new_token = token_of(mailoutbox[0]), token_of(mailoutbox[1])
    assert accept(outsider, old_token).status_code == 404
    assert accept(outsider, new_token).json() == {"plantId": own_plant.id, "role": "engineer"}
    assert PlantInvitation.objects.count() == 1


def test_a_withdrawn_invitation_cannot_be_accepted(
    customer, own_plant, outsider, django_capture_on_commit_callbacks, mailoutbox
):
    client = api_client_for(customer)
    made = invite(client, own_plant, {"email": outsider.email, "role": "viewer"}, django_capture_on_commit_callbacks)
    assert client.delete(f"/api/plants/{own_plant.id}/invitations/{made.json()['id']}").status_code == 204
    assert client.delete(f"/api/plants/{own_plant.id}/invitations/{made.json()['id']}").status_code == 404
    assert accept(outsider, token_of(mailoutbox[0])).status_code == 404
    assert client.get(f"/api/plants/{own_plant.id}/invitations").json() == []


def test_a_plant_cannot_send_unbounded_invitations(customer, own_plant, monkeypatch):
    from plants import services

    monkeypatch.setattr(services, "PENDING_INVITATIONS_MAX", 2)
    client = api_client_for(customer)
    codes = [
        client.post(
            f"/api/plants/{own_plant.id}/members", {"email": f"p{n}@example.com", "role": "viewer"}, format="json"
        ).status_code
        for n in range(3)
    ]
    assert codes == [202, 202, 409]
    assert PlantInvitation.objects.count() == 2


# --- members: list, role change, revoke -------------------------------------------------------


def test_role_change_and_revoke_of_a_member(customer, installer, own_plant, outsider):
    PlantMembership.objects.create(user=outsider, plant=own_plant, role=PlantRole.VIEWER)
    client = api_client_for(customer)
    changed = client.patch(f"/api/plants/{own_plant.id}/members/{outsider.id}", {"role": "operator"}, format="json")
    assert changed.status_code == 200 and changed.json()["role"] == "operator", changed.content
    assert client.patch(
        f"/api/plants/{own_plant.id}/members/{outsider.id}", {"role": "owner"}, format="json"
    ).status_code == 400  # fmt: skip
    for user_id in (installer.id, customer.id, 999_999):  # owner and installer follow the plant's fields
        patch = client.patch(f"/api/plants/{own_plant.id}/members/{user_id}", {"role": "viewer"}, format="json")
        assert patch.status_code == 404
    assert members_of(own_plant, installer) == {
        customer.id: "owner",
        installer.id: "installer",
        outsider.id: "operator",
    }
    assert client.delete(f"/api/plants/{own_plant.id}/members/{outsider.id}").status_code == 204
    assert visible_plant_ids(outsider) == set()
    kinds = [e["kind"] for e in client.get(f"/api/plants/{own_plant.id}/history").json()]
    assert kinds[:2] == ["member_revoked", "member_role_changed"]


def test_a_viewer_cannot_invite_or_see_members_whatever_the_body(own_plant, outsider):
    PlantMembership.objects.create(user=outsider, plant=own_plant, role=PlantRole.VIEWER)
    client = api_client_for(outsider)
    for method, path, body in (
        ("get", "members", None),
        ("post", "members", {"email": "a@example.com", "role": "viewer"}),
        ("post", "members", {"nonsense": True}),
        ("get", "invitations", None),
        ("get", "history", None),
        ("post", "transfer", {"ownerEmail": "a@example.com"}),
        ("post", "transfer", {"nonsense": True}),
    ):
        response = getattr(client, method)(f"/api/plants/{own_plant.id}/{path}", body, format="json")
        assert response.status_code == 403, (method, path, response.content)


# --- ownership --------------------------------------------------------------------------------


@pytest.fixture
def ingest_keys(installer, own_plant) -> list[str]:
    Device.objects.create(plant=own_plant, type=DeviceType.INVERTER, name="Inv", serial_number="INV-1")
    client = api_client_for(installer)
    keys = []
    for name in ("Logger 1", "Logger 2"):
        response = client.post(f"/api/plants/{own_plant.id}/ingest-keys", {"name": name}, format="json")
        assert response.status_code == 201, response.content
        keys.append(response.json()["key"])
    return keys


def ingest_status(key: str) -> int:
    body = {"readings": [{"serialNumber": "INV-1", "timestamp": "2026-06-01T10:00:00Z", "metrics": {"ac_power": 1}}]}
    return APIClient().post("/api/telemetry/ingest", body, format="json", HTTP_X_API_KEY=key).status_code


def test_an_installer_cannot_hand_a_customers_plant_to_another_customer(
    installer, customer, own_plant, outsider, ingest_keys
):
    client = api_client_for(installer)
    patch = client.patch(f"/api/plants/{own_plant.id}", {"ownerId": outsider.id}, format="json")
    assert patch.status_code == 400 and "ownerId" in patch.json()["errors"], patch.content
    put_body = {"name": "Own plant", "totalCapacity": 500, "coordinates": {"lat": 37.77, "lng": -122.42}}
    put_body["ownerId"] = outsider.id
    put = client.put(f"/api/plants/{own_plant.id}", put_body, format="json")
    assert put.status_code == 400 and "ownerId" in put.json()["errors"], put.content
    transfer = client.post(f"/api/plants/{own_plant.id}/transfer", {"ownerEmail": outsider.email}, format="json")
    assert transfer.status_code == 403, transfer.content
    by_id = client.post(f"/api/plants/{own_plant.id}/transfer", {"ownerId": outsider.id}, format="json")
    assert by_id.status_code == 403
    own_plant.refresh_from_db()
    assert own_plant.owner == customer
    assert visible_plant_ids(customer) == {own_plant.id} and visible_plant_ids(outsider) == set()
    assert [ingest_status(key) for key in ingest_keys] == [200, 200]
    assert not PlantEvent.objects.filter(plant=own_plant).exclude(data__via="create").exists()


def test_the_owner_hands_the_plant_over_by_e_mail_and_it_moves_when_accepted(
    customer, installer, own_plant, outsider, other_plant, ingest_keys, django_capture_on_commit_callbacks, mailoutbox
):
    client = api_client_for(customer)
    answers = []
    for email in ("nobody-here@example.com", outsider.email):  # same answer, account or not
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(f"/api/plants/{own_plant.id}/transfer", {"ownerEmail": email}, format="json")
        assert response.status_code == 202, response.content
        assert_reveals_none(response, [outsider], given=(email,))
        answers.append(response.json())
    assert {frozenset(a) for a in answers} == {frozenset(answers[0])}
    assert answers[0]["id"] == answers[1]["id"] and answers[1]["role"] == "owner"  # one offer at a time
    first_token, token = token_of(mailoutbox[0]), token_of(mailoutbox[1])
    assert "handing the plant" in mailoutbox[1].subject

    # nothing has moved yet
    own_plant.refresh_from_db()
    assert own_plant.owner == customer and [ingest_status(key) for key in ingest_keys] == [200, 200]
    assert accept(outsider, first_token).status_code == 404  # replaced

    accepted = accept(outsider, token)
    assert accepted.status_code == 200 and accepted.json() == {"plantId": own_plant.id, "role": "owner"}
    own_plant.refresh_from_db()
    assert own_plant.owner == outsider
    assert visible_plant_ids(outsider) == {own_plant.id, other_plant.id}
    assert visible_plant_ids(customer) == set()
    assert api_client_for(customer).get(f"/api/plants/{own_plant.id}").status_code == 404
    assert [ingest_status(key) for key in ingest_keys] == [401, 401]
    assert members_of(own_plant, outsider) == {outsider.id: "owner", installer.id: "installer"}
    history = api_client_for(outsider).get(f"/api/plants/{own_plant.id}/history").json()
    changed = next(e for e in history if e["kind"] == "owner_changed" and e["fromUserId"] == customer.id)
    assert (changed["actorId"], changed["toUserId"]) == (outsider.id, outsider.id)
    assert changed["data"] == {"via": "invitation", "revokedIngestKeys": 2}
    offered = [e for e in history if e["kind"] == "ownership_offered"]
    assert [(e["actorId"], e["email"]) for e in offered] == [
        (customer.id, outsider.email),
        (customer.id, "nobody-here@example.com"),
    ]


def test_only_a_customer_account_can_take_a_plant_over(
    customer, own_plant, other_installer, django_capture_on_commit_callbacks, mailoutbox
):
    with django_capture_on_commit_callbacks(execute=True):
        api_client_for(customer).post(
            f"/api/plants/{own_plant.id}/transfer", {"ownerEmail": other_installer.email}, format="json"
        )
    refused = accept(other_installer, token_of(mailoutbox[0]))
    assert refused.status_code == 400, refused.content
    own_plant.refresh_from_db()
    assert own_plant.owner == customer


def test_an_ownership_offer_dies_when_the_plant_changes_hands_otherwise(
    customer, own_plant, outsider, plant_admin, django_capture_on_commit_callbacks, mailoutbox
):
    third = user_create(email="third@example.com", password="x-Pass-1234", username="third")
    with django_capture_on_commit_callbacks(execute=True):
        api_client_for(customer).post(
            f"/api/plants/{own_plant.id}/transfer", {"ownerEmail": outsider.email}, format="json"
        )
    moved = api_client_for(plant_admin).post(
        f"/api/plants/{own_plant.id}/transfer", {"ownerId": third.id}, format="json"
    )
    assert moved.status_code == 200, moved.content
    assert accept(outsider, token_of(mailoutbox[0])).status_code == 404
    own_plant.refresh_from_db()
    assert own_plant.owner == third


def test_a_plant_admin_transfers_by_id_audited_with_the_keys_revoked(
    plant_admin, customer, installer, own_plant, outsider, other_installer, ingest_keys
):
    client = api_client_for(plant_admin)
    wrong = client.post(f"/api/plants/{own_plant.id}/transfer", {"ownerId": other_installer.id}, format="json")
    assert wrong.status_code == 400 and "ownerId" in wrong.json()["errors"]
    same = client.post(f"/api/plants/{own_plant.id}/transfer", {"ownerId": customer.id}, format="json")
    assert same.status_code == 400 and "ownerId" in same.json()["errors"]
    both = client.post(
        f"/api/plants/{own_plant.id}/transfer", {"ownerId": outsider.id, "ownerEmail": "x@example.com"}, format="json"
    )
    assert both.status_code == 400
    assert [ingest_status(key) for key in ingest_keys] == [200, 200]

    response = client.post(f"/api/plants/{own_plant.id}/transfer", {"ownerId": outsider.id}, format="json")
    assert response.status_code == 200, response.content
    event = response.json()
    assert (event["kind"], event["actorId"], event["fromUserId"], event["toUserId"]) == (
        "owner_changed",
        plant_admin.id,
        customer.id,
        outsider.id,
    )
    assert event["data"] == {"via": "transfer", "revokedIngestKeys": 2}
    assert [ingest_status(key) for key in ingest_keys] == [401, 401]
    assert visible_plant_ids(customer) == set()
    assert members_of(own_plant, plant_admin) == {outsider.id: "owner", installer.id: "installer"}


def test_the_owner_cannot_transfer_by_id(customer, own_plant, outsider):
    response = api_client_for(customer).post(
        f"/api/plants/{own_plant.id}/transfer", {"ownerId": outsider.id}, format="json"
    )
    assert response.status_code == 400 and "ownerId" in response.json()["errors"]
    assert_reveals_none(response, [outsider])
    own_plant.refresh_from_db()
    assert own_plant.owner == customer


def test_a_plant_admin_patching_the_owner_is_audited_and_revokes_the_keys(
    plant_admin, customer, own_plant, outsider, ingest_keys
):
    response = api_client_for(plant_admin).patch(f"/api/plants/{own_plant.id}", {"ownerId": outsider.id}, format="json")
    assert response.status_code == 200, response.content
    assert [ingest_status(key) for key in ingest_keys] == [401, 401]
    event = PlantEvent.objects.get(plant=own_plant, kind="owner_changed", from_user=customer)
    assert (event.actor, event.to_user, event.data) == (
        plant_admin,
        outsider,
        {"via": "update", "revokedIngestKeys": 2},
    )
    assert visible_plant_ids(customer) == set() and own_plant.id in visible_plant_ids(outsider)


def test_the_installer_of_a_plant_without_owner_offers_it_to_its_first_owner(
    installer, outsider, django_capture_on_commit_callbacks, mailoutbox
):
    plant = make_plant(name="Unowned", installer=installer)
    keys = api_client_for(installer).post(f"/api/plants/{plant.id}/ingest-keys", {"name": "L"}, format="json")
    with django_capture_on_commit_callbacks(execute=True):
        offer = api_client_for(installer).post(
            f"/api/plants/{plant.id}/transfer", {"ownerEmail": outsider.email}, format="json"
        )
    assert offer.status_code == 202, offer.content
    assert accept(outsider, token_of(mailoutbox[0])).json() == {"plantId": plant.id, "role": "owner"}
    plant.refresh_from_db()
    assert plant.owner == outsider
    # a first owner takes the plant from nobody: the installer's loggers keep pushing
    key = keys.json()["id"]
    listed = api_client_for(installer).get(f"/api/plants/{plant.id}/ingest-keys").json()
    assert [k["id"] for k in listed if k["active"]] == [key]
    # …and from now on only the owner hands it on
    again = api_client_for(installer).post(
        f"/api/plants/{plant.id}/transfer", {"ownerEmail": "x@example.com"}, format="json"
    )
    assert again.status_code == 403


def test_an_owner_change_in_a_plant_config_import_is_audited_and_revokes_the_keys(own_plant, outsider, ingest_keys):
    from plants.importers import plant_config_import

    plant_config_import(data={"plant": {"plant_code": own_plant.plant_code, "owner": outsider.username}})
    own_plant.refresh_from_db()
    assert own_plant.owner == outsider
    assert [ingest_status(key) for key in ingest_keys] == [401, 401]
    event = PlantEvent.objects.get(plant=own_plant, kind="owner_changed", to_user=outsider)
    assert event.actor is None and event.data == {"via": "import", "revokedIngestKeys": 2}


def test_plant_creation_records_its_first_owner_and_installer(installer, customer):
    body = {
        "name": "Fresh", "totalCapacity": 10, "coordinates": {"lat": 48.1, "lng": 11.6}, "ownerId": customer.id,
    }  # fmt: skip
    response = api_client_for(installer).post("/api/plants", body, format="json")
    assert response.status_code == 201, response.content
    plant = Plant.objects.get(pk=response.json()["id"])
    history = api_client_for(installer).get(f"/api/plants/{plant.id}/history").json()
    assert {(e["kind"], e["fromUserId"], e["toUserId"]) for e in history} == {
        ("owner_changed", None, customer.id),
        ("installer_changed", None, installer.id),
    }
