"""Plant scoping for every API view, in one place (NetBox's ``restrict`` / paperless'
``PermittedObjectsFilter`` idea).

* Reads: :class:`PlantScopedFilterBackend` and :class:`PlantScopedViewSet` restrict every
  queryset to ``<plant field> IN plant_ids_visible_to(user)`` — one SQL subquery, never a
  per-row Python check — for list, retrieve and custom actions alike (``get_queryset`` scopes).
* The 404-vs-403 rule: an object outside the scope is simply not found (404); a visible object
  the user may not change answers 403 (:class:`PlantActionPermission`, from the role → actions
  map in ``plants.access``).
* Writes re-check inside the transaction (``plant_lock_for``): nobody can move an object into a
  plant they do not administer, even racing a membership change.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import QuerySet
from rest_framework import exceptions, viewsets
from rest_framework.filters import BaseFilterBackend, OrderingFilter, SearchFilter
from rest_framework.permissions import BasePermission

from plants.access import PlantAction, is_platform_admin, plant_actions_for
from plants.models import Plant
from plants.selectors import plant_ids_visible_to

from .filters import PAGING_PARAMS, StrictFilterBackend, is_object_lookup


def scope_queryset(queryset: QuerySet, user, field: str = "plant") -> QuerySet:
    """Restrict ``queryset`` to plants ``user`` may see; ``field`` is the path to the plant
    (``"plant"`` for devices, ``"id"`` for plants, ``"device__plant"`` for readings)."""
    if is_platform_admin(user):
        return queryset
    lookup = "id__in" if field == "id" else f"{field}_id__in" if "__" not in field else f"{field}__in"
    return queryset.filter(**{lookup: plant_ids_visible_to(user)})


class PlantScopedFilterBackend(BaseFilterBackend):
    """For generic views that are not :class:`PlantScopedViewSet`: set ``plant_scope_field``."""

    def filter_queryset(self, request, queryset, view):
        return scope_queryset(queryset, request.user, getattr(view, "plant_scope_field", "plant"))


class PlantActionPermission(BasePermission):
    """Object-level: the view's ``plant_actions[action]`` must be among the user's actions on
    the object's plant. Invisible objects never get here (the scoped queryset 404s first)."""

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated)

    def has_object_permission(self, request, view, obj) -> bool:
        required = view.required_plant_action()
        if required is None:
            return True
        plant = view.plant_of(obj)
        allowed = required in plant_actions_for(request.user, plant)
        if not allowed:
            self.message = f"Your role on this plant does not allow '{required.value}'."
        return allowed


class PlantScopedViewSet(viewsets.ModelViewSet):
    """Base viewset: scoped queryset, plant-action permissions, search/ordering/filtering.

    Subclasses set ``plant_scope_field`` and may override ``plant_actions`` (DRF action →
    :class:`PlantAction`); creation checks happen in ``perform_create`` via ``plant_lock_for``.
    """

    plant_scope_field = "plant"
    permission_classes = [PlantActionPermission]
    filter_backends = [StrictFilterBackend, SearchFilter, OrderingFilter]
    plant_actions: dict[str, PlantAction | None] = {
        "list": None,
        "retrieve": None,
        "create": PlantAction.MANAGE_DEVICES,
        "update": PlantAction.MANAGE_DEVICES,
        "partial_update": PlantAction.MANAGE_DEVICES,
        "destroy": PlantAction.MANAGE_DEVICES,
    }

    def get_queryset(self):
        return scope_queryset(super().get_queryset(), self.request.user, self.plant_scope_field)

    def filter_queryset(self, queryset):
        # An object lookup is never filtered (the list's filters would 404 the object, e.g. the
        # plant of /plants/{id}/devices?status=offline). Plain list requests (no filter, search
        # or ordering parameter) skip building the FilterSet form and the search/ordering
        # backends: measurable on every list call.
        if is_object_lookup(self):
            return queryset
        if self.request is not None and not set(self.request.query_params) - PAGING_PARAMS:
            return queryset
        return super().filter_queryset(queryset)

    def required_plant_action(self) -> PlantAction | None:
        return self.plant_actions.get(self.action, PlantAction.MANAGE_DEVICES)

    def plant_of(self, obj) -> Plant:
        return obj if isinstance(obj, Plant) else obj.plant


def plant_lock_for(*, user, plant_id, action: PlantAction) -> Plant:
    """Inside a transaction: lock the plant row and re-check the user's right to ``action`` on
    it. Invisible plants → 404 (as if they did not exist); visible but not allowed → 403."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("plant_lock_for must run inside transaction.atomic()")
    plant = scope_queryset(Plant.objects.select_for_update(), user, "id").filter(pk=plant_id).first()
    if plant is None:
        raise exceptions.NotFound("Plant not found.")
    if action not in plant_actions_for(user, plant):
        raise exceptions.PermissionDenied(f"Your role on this plant does not allow '{action.value}'.")
    return plant
