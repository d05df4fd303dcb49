"""The plant visibility rule, written once: ``Plant.objects.visible_to(user)`` and
``Plant.objects.allowing(user, action)``.

A user reaches a plant as its owner, its installer or a member (healthchecks'
``Profile.project_ids``: the union of owned and joined); platform admins reach every plant (the
one bypass, :func:`plants.access.is_platform_admin`). Which of those reaches allow an action
comes from the role → actions map in ``plants.access``. Everything else — the id subquery
``plant_ids_visible_to``, ``solarhub.api.scoping``, the hot-path device SQL in
``plants.selectors`` — is derived from :func:`plant_reach_q`.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from .access import ROLE_ACTIONS, PlantAction, is_platform_admin
from .choices import PlantRole

_EVERY_ROLE = frozenset(PlantRole.values)


def _anonymous(user) -> bool:
    return user is None or not user.is_authenticated or not user.is_active


def plant_reach_q(user, action: PlantAction = PlantAction.VIEW, *, prefix: str = "") -> Q | None:
    """The condition on a plant row (``prefix`` is the path to it, ``"plant__"`` from a device)
    under which ``user`` may do ``action``. ``None`` means no condition (a platform admin);
    an empty match (``Q(pk__in=[])``) means nothing at all (anonymous, inactive)."""
    if is_platform_admin(user):
        return None
    if _anonymous(user):
        return Q(**{f"{prefix}pk__in": []})
    from .models import PlantMembership

    roles = {role for role, actions in ROLE_ACTIONS.items() if action in actions}
    members = PlantMembership.objects.filter(user=user)
    if not roles >= _EVERY_ROLE:  # VIEW is every role: no role filter then
        members = members.filter(role__in=sorted(roles))
    # owner | installer | member, the order plant_ids_visible_to always had (same SQL)
    condition = Q(**{f"{prefix}id__in": members.values("plant_id")})
    if PlantRole.INSTALLER in roles:
        condition = Q(**{f"{prefix}installer": user}) | condition
    if PlantRole.OWNER in roles:
        condition = Q(**{f"{prefix}owner": user}) | condition
    return condition


class PlantQuerySet(models.QuerySet):
    def allowing(self, user, action: PlantAction) -> PlantQuerySet:
        """The plants where ``user`` may do ``action`` (one SQL condition, never a Python loop)."""
        return restrict_to_plants(self, user, field="id", action=action)

    def visible_to(self, user) -> PlantQuerySet:
        """The plants ``user`` may see: owned, installed, member of; platform admins every plant."""
        return self.allowing(user, PlantAction.VIEW)


def restrict_to_plants(queryset: models.QuerySet, user, *, field: str = "plant", action=PlantAction.VIEW):
    """``queryset`` narrowed to rows whose plant (at ``field``: ``"plant"`` for devices, ``"id"``
    for plants, ``"device__plant"`` for readings) allows ``user`` ``action`` — NetBox's
    ``restrict(user, action)``. Plants are filtered directly; other rows by
    ``<field> IN (plant id subquery)``, one SQL statement either way."""
    condition = plant_reach_q(user, action)
    if condition is None:  # a platform admin: no subquery at all
        return queryset
    if field == "id":
        return queryset.filter(condition)
    from .models import Plant

    lookup = f"{field}__in" if "__" in field else f"{field}_id__in"
    return queryset.filter(**{lookup: Plant.objects.filter(condition).values("id")})
