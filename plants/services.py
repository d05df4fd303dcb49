"""Writes of the plants app. Views, admin, import commands and the demo seeder call these; each
re-checks the caller's rights inside its transaction (``plant_get_for(..., lock=True)``)."""

from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from accounts.choices import UserType

from .access import PlantAction, is_platform_admin, may_create_plants, may_transfer_ownership, user_can
from .choices import GRANTABLE_ROLES, PARENT_TYPES, PlantEventKind, PlantRole
from .exceptions import InvitationNotFound, MemberNotFound, PlantPermissionDenied
from .hooks import devices_deleting, plant_created_send, plant_handed_over_send
from .models import DATASHEETS, Device, PanelSpec, Plant, PlantEvent, PlantInvitation, PlantMembership
from .selectors import plant_get_for

logger = logging.getLogger(__name__)

INVITATION_TTL = timedelta(days=7)
# Pending, unexpired invitations a plant may have at once: invitations send e-mail to any
# address, so a plant must not become a mail cannon.
PENDING_INVITATIONS_MAX = 50
# Re-inviting the same address within this window changes the invitation but sends no new e-mail.
INVITATION_RESEND_AFTER = timedelta(minutes=1)

_tz_finder = None


def timezone_for(*, latitude: float, longitude: float) -> str:
    """The IANA zone at a coordinate (offline lookup, timezonefinder's bundled polygons)."""
    global _tz_finder
    if _tz_finder is None:
        from timezonefinder import TimezoneFinder

        _tz_finder = TimezoneFinder()
    return _tz_finder.timezone_at(lat=latitude, lng=longitude) or "UTC"


def plant_code_generate() -> str:
    while True:
        code = f"PLT-{secrets.token_hex(3).upper()}"
        if not Plant.objects.filter(plant_code=code).exists():
            return code


def _check_owner(owner) -> None:
    if owner is not None and owner.user_type != UserType.CUSTOMER:
        raise ValidationError({"owner_id": "The owner must be a customer account."})


def _check_installer(installer) -> None:
    if installer is not None and installer.user_type != UserType.INSTALLER:
        raise ValidationError({"installer_id": "The installer must be an installer account."})


def plant_memberships_sync(*, plant: Plant) -> None:
    """Owner and installer memberships follow the plant's fields (one owner, one installer)."""
    for role, user_id in ((PlantRole.OWNER, plant.owner_id), (PlantRole.INSTALLER, plant.installer_id)):
        PlantMembership.objects.filter(plant=plant, role=role).exclude(user_id=user_id).delete()
        if user_id is not None:
            PlantMembership.objects.update_or_create(plant=plant, user_id=user_id, defaults={"role": role})


def _full_clean(instance, exclude: list[str] | None = None) -> None:
    instance.full_clean(exclude=exclude, validate_unique=True)


@transaction.atomic
def plant_create(*, by, data: dict[str, Any]) -> Plant:
    """Create a plant. Installers become its installer; only platform admins may name another
    installer. ``plant_code`` is generated and ``timezone`` looked up from the coordinates when
    not given. Seed 001's fields are enough: mounting, layout and datasheets are optional and
    ``forecasting.selectors.plant_model_readiness`` says what the plant model still lacks (the
    features that need the model refuse with PLANT_CONFIG_INVALID naming those fields)."""
    if not may_create_plants(by):
        raise PlantPermissionDenied(message="Only installers and plant administrators can create plants.")
    data = dict(data)
    if not is_platform_admin(by):
        if data.get("installer") not in (None, by):
            raise ValidationError({"installer_id": "You can only create plants that you install."})
        data["installer"] = by
    plant = Plant(**data)
    if not plant.plant_code:
        plant.plant_code = plant_code_generate()
    if not data.get("timezone") and plant.latitude is not None and plant.longitude is not None:
        plant.timezone = timezone_for(latitude=plant.latitude, longitude=plant.longitude)
    _check_owner(plant.owner)
    _check_installer(plant.installer)
    _full_clean(plant)
    plant.save()
    plant_created_send(plant=plant)
    plant_memberships_sync(plant=plant)
    plant_handover_record(plant=plant, by=by, previous_owner_id=None, previous_installer_id=None, via="create")
    return plant


@transaction.atomic
def plant_update(*, by, plant_id: int, data: dict[str, Any]) -> Plant:
    plant = plant_get_for(user=by, plant_id=plant_id, action=PlantAction.CHANGE_PLANT, lock=True)
    data = dict(data)
    if "installer" in data and _pk(data["installer"]) != plant.installer_id and not is_platform_admin(by):
        raise ValidationError({"installer_id": "Only plant administrators can hand a plant to another installer."})
    if "owner" in data and _pk(data["owner"]) != plant.owner_id and not is_platform_admin(by):
        raise ValidationError(
            {
                "owner_id": "Only plant administrators change the owner here. The owner hands the plant over "
                "with POST /api/plants/{id}/transfer."
            }
        )
    previous_owner_id, previous_installer_id = plant.owner_id, plant.installer_id
    for field, value in data.items():
        setattr(plant, field, value)
    if ("latitude" in data or "longitude" in data) and "timezone" not in data:
        plant.timezone = timezone_for(latitude=plant.latitude, longitude=plant.longitude)
    _check_owner(plant.owner)
    _check_installer(plant.installer)
    _full_clean(plant)
    plant.save()
    plant_memberships_sync(plant=plant)
    plant_handover_record(
        plant=plant, by=by, previous_owner_id=previous_owner_id, previous_installer_id=previous_installer_id
    )
    return plant


def _pk(user) -> int | None:
    return None if user is None else user.pk


def _actor(by):
    """The account to record as actor (``None`` for a management command)."""
    return by if by is not None and getattr(by, "is_authenticated", False) and isinstance(by.pk, int) else None


def plant_event_record(
    *,
    plant: Plant,
    kind: str,
    by,
    from_user_id: int | None = None,
    to_user_id: int | None = None,
    role: str = "",
    email: str = "",
    data: dict | None = None,
) -> PlantEvent:
    return PlantEvent.objects.create(
        plant=plant,
        kind=kind,
        actor=_actor(by),
        from_user_id=from_user_id,
        to_user_id=to_user_id,
        role=role,
        email=email,
        data=data or {},
    )


def plant_handover_record(
    *, plant: Plant, by, previous_owner_id: int | None, previous_installer_id: int | None, via: str = "update"
) -> PlantEvent | None:
    """After the plant row holds its new owner/installer (saved, memberships synced): every
    owner or installer change — from the API, the admin, an import, a transfer — is recorded in
    the plant's history; when a previous owner or installer loses the plant, its ingest keys are
    revoked (whoever held them must not go on pushing data into somebody else's plant; the new
    people create new keys); a pending ownership offer is void. Returns the owner-change event."""
    changes = [
        (PlantEventKind.OWNER_CHANGED, previous_owner_id, plant.owner_id),
        (PlantEventKind.INSTALLER_CHANGED, previous_installer_id, plant.installer_id),
    ]
    changes = [change for change in changes if change[1] != change[2]]
    if not changes:
        return None
    # Keys are rotated when somebody loses the plant; a first owner or installer takes nothing
    # from anyone (the installer's loggers of a plant that had no owner keep pushing).
    revoked = plant_handed_over_send(plant=plant, by=_actor(by)) if any(before for _, before, _ in changes) else 0
    if previous_owner_id != plant.owner_id:
        PlantInvitation.objects.filter(plant=plant, role=PlantRole.OWNER, accepted_at__isnull=True).delete()
    owner_event = None
    for kind, before, after in changes:
        event = plant_event_record(
            plant=plant,
            kind=kind,
            by=by,
            from_user_id=before,
            to_user_id=after,
            data={"via": via, "revokedIngestKeys": revoked},
        )
        if kind == PlantEventKind.OWNER_CHANGED:
            owner_event = event
    return owner_event


@transaction.atomic
def plant_delete(*, by, plant_id: int) -> None:
    plant = plant_get_for(user=by, plant_id=plant_id, action=PlantAction.DELETE_PLANT, lock=True)
    devices_deleting.send(sender=Device, device_ids=list(plant.devices.values_list("id", flat=True)))
    plant.delete()


@transaction.atomic
def membership_grant(*, by, plant_id: int, user, role: str) -> PlantMembership:
    """Grant engineer/operator/viewer to an account already in hand (internal callers, an
    accepted invitation). The API never looks accounts up for this: it invites by e-mail
    (:func:`membership_invite`). Owner and installer are plant fields, never granted."""
    plant = plant_get_for(user=by, plant_id=plant_id, action=PlantAction.MANAGE_MEMBERS, lock=True)
    if role not in GRANTABLE_ROLES:
        raise ValidationError({"role": f"Grantable roles are {', '.join(GRANTABLE_ROLES)}."})
    if user.pk in (plant.owner_id, plant.installer_id):
        raise ValidationError({"user_id": "The plant's owner and installer already have their own roles."})
    membership, _ = PlantMembership.objects.update_or_create(
        plant=plant, user=user, defaults={"role": role, "granted_by": by}
    )
    plant_event_record(plant=plant, kind=PlantEventKind.MEMBER_JOINED, by=by, to_user_id=user.pk, role=role)
    return membership


@transaction.atomic
def membership_role_change(*, by, plant_id: int, user_id: int, role: str) -> PlantMembership:
    """Change the role of an engineer, operator or viewer of the plant."""
    plant = plant_get_for(user=by, plant_id=plant_id, action=PlantAction.MANAGE_MEMBERS, lock=True)
    if role not in GRANTABLE_ROLES:
        raise ValidationError({"role": f"Grantable roles are {', '.join(GRANTABLE_ROLES)}."})
    membership = (
        PlantMembership.objects.select_for_update()
        .select_related("user")
        .filter(plant=plant, user_id=user_id, role__in=GRANTABLE_ROLES)
        .first()
    )
    if membership is None:
        raise MemberNotFound()
    if membership.role != role:
        previous = membership.role
        membership.role = role
        membership.save(update_fields=["role"])
        plant_event_record(
            plant=plant,
            kind=PlantEventKind.MEMBER_ROLE_CHANGED,
            by=by,
            to_user_id=user_id,
            role=role,
            data={"previousRole": previous},
        )
    return membership


@transaction.atomic
def membership_revoke(*, by, plant_id: int, user_id: int) -> None:
    plant = plant_get_for(user=by, plant_id=plant_id, action=PlantAction.MANAGE_MEMBERS, lock=True)
    membership = PlantMembership.objects.filter(plant=plant, user_id=user_id, role__in=GRANTABLE_ROLES).first()
    if membership is None:
        raise MemberNotFound()
    membership.delete()
    plant_event_record(
        plant=plant, kind=PlantEventKind.MEMBER_REVOKED, by=by, from_user_id=user_id, role=membership.role
    )


# ---------------------------------------------------------------------------------------------
# Invitations (memberships and ownership transfers, by e-mail) and transfers


def invitation_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _email_normalize(email: str) -> str:
    return email.strip().lower()


def _invitation_issue(*, plant: Plant, email: str, role: str, by) -> PlantInvitation:
    """Create (or renew) the pending invitation of ``email`` on ``plant`` and e-mail its token
    after commit. Whether an account has that address is never looked at: the answer is the
    same either way."""
    from solarhub.api.exceptions import ApiError

    now = timezone.now()
    pending = PlantInvitation.objects.select_for_update().filter(plant=plant, accepted_at__isnull=True)
    if role == PlantRole.OWNER:
        invitation = pending.filter(role=PlantRole.OWNER).first()  # one offer at a time
    else:
        invitation = pending.filter(email=email).exclude(role=PlantRole.OWNER).first()
    if invitation is None and pending.filter(expires_at__gt=now).count() >= PENDING_INVITATIONS_MAX:
        raise ApiError(
            f"This plant has {PENDING_INVITATIONS_MAX} pending invitations; cancel some or wait for them to expire.",
            code="too_many_invitations",
            status_code=409,
        )
    resend = (
        invitation is None
        or (invitation.email, invitation.role) != (email, role)
        or invitation.is_expired
        or now - invitation.sent_at >= INVITATION_RESEND_AFTER
    )
    token = secrets.token_urlsafe(32) if resend else None
    if invitation is None:
        invitation = PlantInvitation(plant=plant)
    invitation.email, invitation.role, invitation.invited_by = email, role, _actor(by)
    invitation.expires_at = now + INVITATION_TTL
    if token is not None:
        invitation.token_hash, invitation.sent_at = invitation_token_hash(token), now
    invitation.save()
    if token is not None:
        invitation_id = invitation.pk
        transaction.on_commit(lambda: invitation_send(invitation_id=invitation_id, token=token))
    return invitation


def invitation_send(*, invitation_id: int, token: str) -> None:
    """E-mail an invitation's token (after commit). A failing mail server is logged, never
    turned into an error of the request that made the invitation (inviting again re-sends)."""
    invitation = PlantInvitation.objects.select_related("plant", "invited_by").filter(pk=invitation_id).first()
    if invitation is None:
        return
    inviter = invitation.invited_by
    who = (inviter.name or inviter.username) if inviter is not None else "A SolarHub administrator"
    if invitation.role == PlantRole.OWNER:
        subject = f"SolarHub: {who} is handing the plant {invitation.plant.name} over to you"
        what = f"to take over the ownership of the plant {invitation.plant.name!r}"
    else:
        subject = f"SolarHub: {who} invited you to the plant {invitation.plant.name}"
        what = f"to the plant {invitation.plant.name!r} as {invitation.role}"
    body = (
        f"{who} invited you {what} on SolarHub.\n\n"
        f"Sign in (or register) with this e-mail address, {invitation.email}, and accept the invitation with "
        f"this code:\n\n    {token}\n\n"
        f"(API: POST /api/invitations/{token}/accept with your access token.)\n\n"
        f"The invitation expires on {invitation.expires_at:%Y-%m-%d %H:%M} UTC. If you did not expect it, "
        "ignore this message: nothing happens unless you accept it."
    )
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [invitation.email], fail_silently=False)
    except Exception:
        logger.exception("plant invitation %s: the e-mail could not be sent", invitation_id)


@transaction.atomic
def membership_invite(*, by, plant_id: int, email: str, role: str) -> PlantInvitation:
    """Invite ``email`` to the plant as engineer, operator or viewer. No account is looked up:
    the caller learns nothing about who has an account; the invitee accepts with the e-mailed
    token. An address that already belongs to a member of this plant is refused — those members
    and their addresses are on the plant's member list, which the caller manages."""
    plant = plant_get_for(user=by, plant_id=plant_id, action=PlantAction.MANAGE_MEMBERS, lock=True)
    if role not in GRANTABLE_ROLES:
        raise ValidationError({"role": f"Grantable roles are {', '.join(GRANTABLE_ROLES)}."})
    email = _email_normalize(email)
    member = PlantMembership.objects.filter(plant=plant, user__email__iexact=email).first()
    if member is not None:
        if member.role in GRANTABLE_ROLES:
            raise ValidationError(
                {"email": "Already a member of this plant: change the role with PATCH …/members/{userId}."}
            )
        raise ValidationError({"email": "The plant's owner and installer already have their own roles."})
    invitation = _invitation_issue(plant=plant, email=email, role=role, by=by)
    plant_event_record(plant=plant, kind=PlantEventKind.MEMBER_INVITED, by=by, role=role, email=email)
    return invitation


def _plant_lock_for_transfer(*, by, plant_id: int) -> Plant:
    plant = plant_get_for(user=by, plant_id=plant_id, action=PlantAction.VIEW, lock=True)
    if not may_transfer_ownership(by, plant):
        raise PlantPermissionDenied(
            message="Only the plant's owner or a plant administrator can hand it to a new owner "
            "(its installer too while it has none)."
        )
    return plant


@transaction.atomic
def plant_transfer_invite(*, by, plant_id: int, email: str) -> PlantInvitation:
    """Offer the plant's ownership to ``email``: the owner's (or a plant admin's) deliberate act,
    completed when the holder of that address accepts (:func:`invitation_accept`). Until then
    nothing changes; a new offer replaces a pending one."""
    plant = _plant_lock_for_transfer(by=by, plant_id=plant_id)
    email = _email_normalize(email)
    if plant.owner_id is not None and plant.owner.email.lower() == email:
        raise ValidationError({"owner_email": "That is the plant's owner already."})
    invitation = _invitation_issue(plant=plant, email=email, role=PlantRole.OWNER, by=by)
    plant_event_record(
        plant=plant, kind=PlantEventKind.OWNERSHIP_OFFERED, by=by, from_user_id=plant.owner_id, email=email
    )
    return invitation


@transaction.atomic
def plant_transfer(*, by, plant_id: int, owner) -> PlantEvent:
    """A plant admin hands the plant to the customer ``owner`` at once. Recorded in the plant's
    history; the plant's ingest keys are revoked (:func:`plant_handover_record`)."""
    plant = _plant_lock_for_transfer(by=by, plant_id=plant_id)
    if not is_platform_admin(by):
        raise ValidationError({"owner_id": "Only plant administrators transfer by account id: give ownerEmail."})
    if owner is None or owner.user_type != UserType.CUSTOMER or not owner.is_active:
        raise ValidationError({"owner_id": "The new owner must be an active customer account."})
    if owner.pk == plant.owner_id:
        raise ValidationError({"owner_id": "That is the plant's owner already."})
    return _owner_set(plant=plant, owner=owner, by=by, via="transfer")


def _owner_set(*, plant: Plant, owner, by, via: str) -> PlantEvent:
    previous_owner_id = plant.owner_id
    plant.owner = owner
    plant.save(update_fields=["owner", "updated_at"])
    plant_memberships_sync(plant=plant)
    return plant_handover_record(
        plant=plant, by=by, previous_owner_id=previous_owner_id, previous_installer_id=plant.installer_id, via=via
    )


@transaction.atomic
def invitation_cancel(*, by, plant_id: int, invitation_id: int) -> None:
    """Withdraw a pending invitation (its token stops working). A pending ownership offer is
    withdrawn by those who may make one."""
    plant = plant_get_for(user=by, plant_id=plant_id, action=PlantAction.MANAGE_MEMBERS, lock=True)
    invitation = PlantInvitation.objects.filter(plant=plant, pk=invitation_id, accepted_at__isnull=True).first()
    if invitation is None:
        raise InvitationNotFound("No such pending invitation.")
    if invitation.role == PlantRole.OWNER and not may_transfer_ownership(by, plant):
        raise PlantPermissionDenied(
            message="Only the plant's owner or a plant administrator can withdraw an ownership offer."
        )
    invitation.delete()
    plant_event_record(
        plant=plant, kind=PlantEventKind.INVITATION_CANCELLED, by=by, role=invitation.role, email=invitation.email
    )


@transaction.atomic
def invitation_accept(*, by, token: str) -> tuple[Plant, str]:
    """The signed-in invitee accepts: the token must be a pending invitation addressed to
    ``by``'s own account e-mail, and whoever made it must still be allowed to (a member
    invitation of an installer who since left the plant, or an ownership offer of a former
    owner, is void). Anything else is the same 404 — an unknown token, somebody else's, a void
    one — so a token tells nobody but its invitee anything. Returns the plant and the role
    ``by`` now has there."""
    from solarhub.api.exceptions import ApiError

    not_found = InvitationNotFound()
    invitation = (
        PlantInvitation.objects.select_for_update()
        .filter(token_hash=invitation_token_hash(token), accepted_at__isnull=True)
        .first()
    )
    email = (getattr(by, "email", "") or "").strip().lower()
    if invitation is None or not email or invitation.email != email:
        raise not_found
    if invitation.is_expired:
        raise ApiError("This invitation has expired: ask for a new one.", code="invitation_expired", status_code=410)
    plant = Plant.objects.select_for_update().get(pk=invitation.plant_id)
    inviter = invitation.invited_by
    now = timezone.now()
    if invitation.role == PlantRole.OWNER:
        if inviter is None or not may_transfer_ownership(inviter, plant):
            raise not_found
        if by.user_type != UserType.CUSTOMER:
            raise ValidationError("Only a customer account can own a plant: sign in with your customer account.")
        invitation.accepted_at, invitation.accepted_by = now, by
        invitation.save(update_fields=["accepted_at", "accepted_by"])
        if plant.owner_id != by.pk:
            _owner_set(plant=plant, owner=by, by=by, via="invitation")
        return plant, PlantRole.OWNER
    if inviter is None or not user_can(inviter, PlantAction.MANAGE_MEMBERS, plant):
        raise not_found
    invitation.accepted_at, invitation.accepted_by = now, by
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    if by.pk == plant.owner_id:
        return plant, PlantRole.OWNER
    if by.pk == plant.installer_id:
        return plant, PlantRole.INSTALLER
    PlantMembership.objects.update_or_create(
        plant=plant, user=by, defaults={"role": invitation.role, "granted_by": inviter}
    )
    plant_event_record(
        plant=plant,
        kind=PlantEventKind.MEMBER_JOINED,
        by=by,
        to_user_id=by.pk,
        role=invitation.role,
        email=invitation.email,
        data={"invitedBy": inviter.pk},
    )
    return plant, invitation.role


def _check_parent(device: Device) -> None:
    if device.parent_id is None:
        return
    parent = device.parent
    if parent.plant_id != device.plant_id:
        raise ValidationError({"parent_id": "The parent device must belong to the same plant."})
    expected = PARENT_TYPES.get(device.type)
    if expected is None:
        raise ValidationError({"parent_id": f"A {device.type} has no parent device."})
    if parent.type != expected:
        raise ValidationError({"parent_id": f"The parent of a {device.type} must be a {expected}."})


def _save_datasheet(device: Device, datasheet: dict[str, Any] | None) -> None:
    if datasheet is None:
        return
    spec = DATASHEETS.get(device.type)
    if spec is None:
        if datasheet:
            raise ValidationError({"datasheet": f"A {device.type} has no datasheet."})
        return
    model, related = spec
    sheet = getattr(device, related, None) if hasattr(device, related) else None
    if sheet is None:
        sheet = model(device=device)
    for field, value in datasheet.items():
        setattr(sheet, field, value)
    try:
        sheet.full_clean(exclude=["device"])
    except ValidationError as exc:
        raise ValidationError({"datasheet": [f"{k}: {'; '.join(v)}" for k, v in exc.message_dict.items()]}) from None
    sheet.save()


@transaction.atomic
def device_create(*, by, plant_id: int, data: dict[str, Any], datasheet: dict[str, Any] | None = None) -> Device:
    plant = plant_get_for(user=by, plant_id=plant_id, action=PlantAction.MANAGE_DEVICES, lock=True)
    device = Device(plant=plant, **data)
    _full_clean(device)
    _check_parent(device)
    device.save()
    _save_datasheet(device, datasheet)
    return device


@transaction.atomic
def device_update(*, by, device: Device, data: dict[str, Any], datasheet: dict[str, Any] | None = None) -> Device:
    """Moving a device to another plant needs device rights on both plants."""
    plant_get_for(user=by, plant_id=device.plant_id, action=PlantAction.MANAGE_DEVICES, lock=True)
    new_plant_id = data.pop("plant_id", device.plant_id)
    if new_plant_id != device.plant_id:
        device.plant = plant_get_for(user=by, plant_id=new_plant_id, action=PlantAction.MANAGE_DEVICES, lock=True)
        if "parent" not in data:
            device.parent = None
    if "type" in data and data["type"] != device.type and hasattr(device, DATASHEETS.get(device.type, (None, "-"))[1]):
        getattr(device, DATASHEETS[device.type][1]).delete()
    for field, value in data.items():
        setattr(device, field, value)
    _full_clean(device)
    _check_parent(device)
    device.save()
    _save_datasheet(device, datasheet)
    return device


@transaction.atomic
def device_delete(*, by, device: Device) -> None:
    plant_get_for(user=by, plant_id=device.plant_id, action=PlantAction.MANAGE_DEVICES, lock=True)
    devices_deleting.send(sender=Device, device_ids=[device.pk])
    device.delete()


@transaction.atomic
def panel_spec_create(*, by, plant_id: int, data: dict[str, Any]) -> PanelSpec:
    plant = plant_get_for(user=by, plant_id=plant_id, action=PlantAction.MANAGE_DEVICES, lock=True)
    spec = PanelSpec(plant=plant, **data)
    _full_clean(spec)
    spec.save()
    return spec


def customer_by_id(*, user_id: int):
    User = get_user_model()
    return User.objects.filter(pk=user_id, user_type=UserType.CUSTOMER).first()
