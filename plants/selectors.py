"""Reads of the plants app."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from solarhub.db import hot_cursor
from telemetry.live import device_live_annotate, plant_live_annotate

from .access import is_platform_admin
from .models import Device, Plant, PlantMembership


def plant_ids_visible_to(user) -> QuerySet:
    """Ids of the plants ``user`` may see, as a lazy subquery (never a Python list), so callers
    filter with ``plant_id__in=plant_ids_visible_to(user)`` in one SQL statement. The union of
    owned, installed and member-of plants (healthchecks' ``Profile.project_ids`` idea)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return Plant.objects.none().values("id")
    if is_platform_admin(user):
        return Plant.objects.values("id")
    member_of = PlantMembership.objects.filter(user=user).values("plant_id")
    return Plant.objects.filter(Q(owner=user) | Q(installer=user) | Q(id__in=member_of)).values("id")


@dataclass(frozen=True)
class VisibleDevice:
    id: int
    plant_id: int
    timezone: str


_VISIBLE_DEVICE_SQL = (
    "SELECT d.id, d.plant_id, p.timezone FROM plants_device d JOIN plants_plant p ON p.id = d.plant_id WHERE d.id = %s"
)
# plant_ids_visible_to's owner / installer / member union, for one plant row ``p``.
_PLANT_SCOPE_SQL = (
    " AND (p.owner_id = %s OR p.installer_id = %s OR EXISTS "
    "(SELECT 1 FROM plants_plantmembership m WHERE m.plant_id = p.id AND m.user_id = %s))"
)
_VISIBLE_DEVICE_SCOPED_SQL = _VISIBLE_DEVICE_SQL + _PLANT_SCOPE_SQL


def device_visible_to(user, *, device_id: int) -> VisibleDevice | None:
    """The device ``device_id`` (its id, plant and the plant's zone) if ``user`` may see it, else
    None. The scope of :func:`plant_ids_visible_to` — owner, installer, member, platform admins
    everything — written as one statement for hot read paths (a time-series request): composing
    the ORM query cost three times running it (profiled: 2.3 ms against 0.7 ms). Tests hold the
    two to the same answers for every persona."""
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    admin = is_platform_admin(user)
    params = [device_id] if admin else [device_id, user.pk, user.pk, user.pk]
    with hot_cursor() as cursor:
        cursor.execute(_VISIBLE_DEVICE_SQL if admin else _VISIBLE_DEVICE_SCOPED_SQL, params)
        row = cursor.fetchone()
    return VisibleDevice(*row) if row else None


def plant_list_visible_to(user) -> QuerySet[Plant]:
    """Plants with their device count and live figures (``telemetry.live.plant_live_annotate``:
    correlated subqueries over the latest values), in one query — no N+1 however many plants."""
    # Filter Plant directly rather than ``id IN (SELECT id FROM plant …)``: that self-join made
    # PostgreSQL scan and sort the whole plant table twice per request (profiled on 500 plants).
    # The device count is a correlated subquery, so the pagination COUNT stays a plain COUNT(*)
    # instead of carrying a join and a GROUP BY over every plant column.
    if user is None or not user.is_authenticated or not user.is_active:
        plants = Plant.objects.none()
    elif is_platform_admin(user):
        plants = Plant.objects.all()
    else:
        member_of = PlantMembership.objects.filter(user=user).values("plant_id")
        plants = Plant.objects.filter(Q(owner=user) | Q(installer=user) | Q(id__in=member_of))
    device_count = (
        Device.objects.filter(plant_id=OuterRef("pk")).order_by().values("plant_id").annotate(n=Count("id")).values("n")
    )
    plants = plants.annotate(device_count=Coalesce(Subquery(device_count, output_field=IntegerField()), Value(0)))
    return plant_live_annotate(queryset=plants).order_by("id")


_DATASHEET_RELATIONS = (
    "inverter_datasheet",
    "meter_datasheet",
    "string_box_datasheet",
    "bess_datasheet",
    "pcs_datasheet",
)


def device_list_visible_to(user, *, with_datasheets: bool = False, with_live: bool = False) -> QuerySet[Device]:
    """Devices of the plants ``user`` may see; ``with_live`` adds the live facts the list
    serializers show (``telemetry.live.device_live_annotate``) in the same query."""
    queryset = Device.objects.filter(plant_id__in=plant_ids_visible_to(user))
    if with_datasheets:
        queryset = queryset.select_related(*_DATASHEET_RELATIONS)
    if with_live:
        queryset = device_live_annotate(queryset=queryset)
    return queryset
