"""Who may do what on a plant: the one role → actions map (architecture.md).

Account type decides the reach (plant_admin: every plant); per-plant roles decide the actions.
Roles come from the plant's ``owner``/``installer`` fields and from ``PlantMembership`` rows.
"""

from __future__ import annotations

from enum import StrEnum

from accounts.choices import UserType

from .choices import PlantRole


class PlantAction(StrEnum):
    VIEW = "view"  # the plant, its devices, telemetry, alarms, reports
    OPERATE = "operate"  # acknowledge alarms, run reports and forecasts
    INGEST = "ingest"  # push telemetry, manage ingest keys
    MANAGE_DEVICES = "manage_devices"  # device and panel-spec definitions
    CHANGE_PLANT = "change_plant"  # the plant's own definition
    MANAGE_MEMBERS = "manage_members"  # grant/revoke engineer, operator, viewer
    MANAGE_KEYS = "manage_keys"  # create/revoke the plant's telemetry ingest keys
    MANAGE_ALARM_RULES = "manage_alarm_rules"  # create/edit/delete the plant's alarm rules
    DELETE_PLANT = "delete_plant"  # drops the plant and all of its data: platform admins only


# Ordered from most to least powerful. Customers (owners) are read-only on definitions but run
# their plant: they operate, push data and decide who else may look.
ROLE_ACTIONS: dict[str, frozenset[PlantAction]] = {
    PlantRole.OWNER: frozenset(
        {
            PlantAction.VIEW,
            PlantAction.OPERATE,
            PlantAction.INGEST,
            PlantAction.MANAGE_MEMBERS,
            PlantAction.MANAGE_KEYS,
            PlantAction.MANAGE_ALARM_RULES,
        }
    ),
    PlantRole.INSTALLER: frozenset(
        {
            PlantAction.VIEW,
            PlantAction.OPERATE,
            PlantAction.INGEST,
            PlantAction.MANAGE_DEVICES,
            PlantAction.CHANGE_PLANT,
            PlantAction.MANAGE_MEMBERS,
            PlantAction.MANAGE_KEYS,
            PlantAction.MANAGE_ALARM_RULES,
        }
    ),
    PlantRole.ENGINEER: frozenset(
        {PlantAction.VIEW, PlantAction.OPERATE, PlantAction.INGEST, PlantAction.MANAGE_ALARM_RULES}
    ),
    PlantRole.OPERATOR: frozenset({PlantAction.VIEW, PlantAction.OPERATE}),
    PlantRole.VIEWER: frozenset({PlantAction.VIEW}),
}
ALL_ACTIONS = frozenset(PlantAction)


def is_platform_admin(user) -> bool:
    return bool(
        user is not None
        and user.is_authenticated
        and user.is_active
        and (user.is_superuser or user.user_type == UserType.PLANT_ADMIN)
    )


def plant_roles_of(user, plant) -> set[str]:
    """The user's roles on one plant (one query for memberships)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return set()
    from .models import PlantMembership

    roles = set(PlantMembership.objects.filter(user=user, plant_id=plant.pk).values_list("role", flat=True))
    if plant.owner_id == user.pk:
        roles.add(PlantRole.OWNER)
    if plant.installer_id == user.pk:
        roles.add(PlantRole.INSTALLER)
    return roles


def plant_actions_for(user, plant) -> frozenset[PlantAction]:
    """Everything ``user`` may do on ``plant``."""
    if is_platform_admin(user):
        return ALL_ACTIONS
    actions: set[PlantAction] = set()
    for role in plant_roles_of(user, plant):
        actions |= ROLE_ACTIONS.get(role, frozenset())
    return frozenset(actions)


def user_can(user, action: PlantAction, plant) -> bool:
    return action in plant_actions_for(user, plant)


def may_transfer_ownership(user, plant) -> bool:
    """Handing a plant to a new owner is a deliberate act: platform admins; the owner (their
    consent is the act); and, while the plant has no owner yet, its installer (who could have
    named one at creation). Nobody else: an installer never moves a customer's plant, its
    history and its ingest keys to another customer."""
    if is_platform_admin(user):
        return True
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    return plant.owner_id == user.pk or (plant.owner_id is None and plant.installer_id == user.pk)


def may_create_plants(user) -> bool:
    """Installers create plants (for customers); platform admins too. Customers never."""
    return is_platform_admin(user) or (
        user is not None and user.is_authenticated and user.user_type == UserType.INSTALLER
    )
