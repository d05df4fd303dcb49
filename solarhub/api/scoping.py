"""Plant scoping for every API view, in one place (NetBox's ``restrict`` / ``BaseViewSet.initial``
idea). The rule itself lives in ``plants``: ``Plant.objects.visible_to(user)`` /
``.allowing(user, action)`` (``plants.querysets``) and the one lookup
``plants.selectors.plant_get_for`` / ``device_get_for``; this module only applies it to views.

* Viewsets: :class:`PlantScopedViewSet` restricts every queryset to ``<plant field> IN
  (visible plant ids)`` — one SQL subquery, never a per-row Python check — for list, retrieve and
  custom actions alike (``get_queryset`` scopes).
* APIViews: :class:`PlantScopedAPIView` resolves a ``plant_id`` / ``device_id`` in the URL to
  ``self.plant`` / ``self.device`` in ``initial()``, before any handler or body validation runs;
  plants named in the query or body go through ``self.plant_for``.
* Related fields: :class:`VisiblePlantField` / :class:`VisibleDeviceField` only know the
  caller's plants and devices, so a foreign id and a missing id are the same validation error.
* The 404-vs-403 rule: an object outside the scope is simply not found (404); a visible object
  the user may not change answers 403 (:class:`PlantActionPermission`, from the role → actions
  map in ``plants.access``). The domain errors ``plants.exceptions.PlantNotFound`` /
  ``PlantPermissionDenied`` become those answers in ``solarhub.api.exceptions``.
* Writes re-check inside the transaction (``plant_get_for(..., lock=True)``): nobody can move an
  object into a plant they do not administer, even racing a membership change.
"""

from __future__ import annotations

from django.db.models import QuerySet
from rest_framework import serializers, viewsets
from rest_framework.filters import OrderingFilter, SearchFilter
from rest_framework.permissions import BasePermission
from rest_framework.views import APIView

from plants.access import PlantAction, plant_actions_for
from plants.models import Device, Plant
from plants.querysets import restrict_to_plants
from plants.selectors import device_get_for, devices_visible_to, plant_get_for

from .filters import PAGING_PARAMS, StrictFilterBackend, is_object_lookup


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
    :class:`PlantAction`); creation checks happen in ``perform_create`` via
    ``plant_get_for(..., lock=True)``.
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
        return restrict_to_plants(super().get_queryset(), self.request.user, field=self.plant_scope_field)

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


class PlantScopedAPIView(APIView):
    """Base of every plant-bound ``APIView`` (the APIView side of :class:`PlantScopedViewSet`).

    In ``initial()`` — after authentication and permissions, before the handler parses anything —
    a ``plant_id`` URL argument becomes ``self.plant`` and a ``device_id`` one ``self.device``,
    through ``plant_get_for`` / ``device_get_for`` with the action ``plant_actions`` names for the
    HTTP method (``view`` when not listed). So a route taking a plant or device id cannot forget
    the check, and a foreign id answers exactly as a missing one (404). A view whose plant comes
    from the query or the body calls :meth:`plant_for`; a view that narrows the devices it
    accepts (a type, a hot-path lookup) overrides :meth:`device_for`."""

    plant_actions: dict[str, PlantAction] = {}
    plant: Plant | None = None
    device: Device | None = None

    def required_plant_action(self) -> PlantAction:
        method = "GET" if self.request.method == "HEAD" else self.request.method
        return self.plant_actions.get(method, PlantAction.VIEW)

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        action = self.required_plant_action()
        if "plant_id" in kwargs:
            self.plant = self.plant_for(kwargs["plant_id"], action)
        if "device_id" in kwargs:
            self.device = self.device_for(kwargs["device_id"], action)

    def plant_for(self, plant_id, action: PlantAction = PlantAction.VIEW) -> Plant:
        return plant_get_for(user=self.request.user, plant_id=plant_id, action=action)

    def device_for(self, device_id, action: PlantAction = PlantAction.VIEW):
        return device_get_for(user=self.request.user, device_id=device_id, action=action)

    def scoped(self, queryset: QuerySet, field: str = "plant") -> QuerySet:
        """``queryset`` restricted to the caller's plants (``field``: the path to the plant)."""
        return restrict_to_plants(queryset, self.request.user, field=field)


class _VisibleRelatedField(serializers.PrimaryKeyRelatedField):
    """A primary-key field whose queryset is the request user's scope: an id of another
    tenant's object is as unknown as an id that never existed — one message, which does not
    echo the id, so the two answers are byte-identical."""

    default_error_messages = {
        **serializers.PrimaryKeyRelatedField.default_error_messages,
        "does_not_exist": "Unknown id.",
    }

    def get_queryset(self):
        request = self.context.get("request")
        return self.restrict(super().get_queryset(), getattr(request, "user", None))

    def restrict(self, queryset: QuerySet, user) -> QuerySet:
        raise NotImplementedError


class VisiblePlantField(_VisibleRelatedField):
    default_error_messages = {**_VisibleRelatedField.default_error_messages, "does_not_exist": "Unknown plant."}

    def __init__(self, **kwargs):
        kwargs.setdefault("queryset", Plant.objects.all())
        super().__init__(**kwargs)

    def restrict(self, queryset, user):
        return queryset.visible_to(user)


class VisibleDeviceField(_VisibleRelatedField):
    default_error_messages = {**_VisibleRelatedField.default_error_messages, "does_not_exist": "Unknown device."}

    def __init__(self, **kwargs):
        kwargs.setdefault("queryset", Device.objects.all())
        super().__init__(**kwargs)

    def restrict(self, queryset, user):
        return devices_visible_to(user, queryset=queryset)
