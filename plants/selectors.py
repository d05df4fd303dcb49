"""Reads of the plants app."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from accounts.choices import UserType
from solarhub.db import hot_cursor

from .access import PlantAction, is_platform_admin, plant_actions_for
from .exceptions import DeviceNotFound, PlantNotFound, PlantPermissionDenied
from .live import device_live_annotate, plant_live_annotate
from .models import Device, Plant
from .querysets import plant_reach_q, restrict_to_plants


def plant_ids_visible_to(user) -> QuerySet:
    """Ids of the plants ``user`` may see, as a lazy subquery (never a Python list), so callers
    filter with ``plant_id__in=plant_ids_visible_to(user)`` in one SQL statement. The rule is
    ``Plant.objects.visible_to`` (``plants.querysets``)."""
    return Plant.objects.visible_to(user).values("id")


def plant_ids_allowing(user, action: PlantAction) -> QuerySet:
    """Ids of the plants where ``user`` may do ``action``, as a lazy subquery."""
    return Plant.objects.allowing(user, action).values("id")


def plant_get_for(*, user, plant_id, action: PlantAction = PlantAction.VIEW, lock: bool = False) -> Plant:
    """The one plant lookup: plant ``plant_id`` if ``user`` may see it and do ``action`` on it.

    A plant that does not exist and one the user may not see are the same
    :class:`~plants.exceptions.PlantNotFound` (404: no existence oracle); a visible plant the
    role does not allow ``action`` on is :class:`~plants.exceptions.PlantPermissionDenied` (403).
    ``lock=True`` (inside ``transaction.atomic()``) locks the row and so re-checks the right
    inside the write's transaction: nobody moves an object into a plant they do not administer,
    even racing a membership change."""
    if lock and not transaction.get_connection().in_atomic_block:
        raise RuntimeError("plant_get_for(lock=True) must run inside transaction.atomic()")
    try:
        plant_id = int(plant_id)
    except (TypeError, ValueError):
        raise PlantNotFound() from None
    plants = Plant.objects.select_for_update() if lock else Plant.objects.all()
    plant = plants.visible_to(user).filter(pk=plant_id).first()
    if plant is None:
        raise PlantNotFound()
    if action != PlantAction.VIEW and action not in plant_actions_for(user, plant):
        raise PlantPermissionDenied(action)
    return plant


def plant_sole_visible_to(user) -> Plant | None:
    """The only plant ``user`` sees, or None when they see none or several (the caller then asks
    which one)."""
    plants = list(Plant.objects.visible_to(user).order_by("id")[:2])
    return plants[0] if len(plants) == 1 else None


def device_get_for(
    *, user, device_id, action: PlantAction = PlantAction.VIEW, queryset: QuerySet[Device] | None = None
) -> Device:
    """The device ``device_id`` (from ``queryset``, default every device) if its plant is visible
    to ``user`` and allows ``action``; :class:`~plants.exceptions.DeviceNotFound` (404) for a
    missing, foreign or filtered-out device, :class:`~plants.exceptions.PlantPermissionDenied`
    (403) when visible but not allowed."""
    try:
        device_id = int(device_id)
    except (TypeError, ValueError):
        raise DeviceNotFound() from None
    devices = Device.objects.all() if queryset is None else queryset
    device = devices_visible_to(user, queryset=devices).filter(pk=device_id).select_related("plant").first()
    if device is None:
        raise DeviceNotFound()
    if action != PlantAction.VIEW and action not in plant_actions_for(user, device.plant):
        raise PlantPermissionDenied(action)
    return device


def devices_visible_to(user, *, queryset: QuerySet[Device] | None = None) -> QuerySet[Device]:
    """``queryset`` (default every device) narrowed to the plants ``user`` may see."""
    return restrict_to_plants(Device.objects.all() if queryset is None else queryset, user)


@dataclass(frozen=True)
class VisibleDevice:
    id: int
    plant_id: int
    timezone: str


# The hot-path device scope is the ORM's own SQL for ``plant_reach_q`` on the device's plant,
# compiled once per process and database vendor with marker values in place of the device and
# user ids: composing the ORM query per request cost three times running it (profiled: 2.3 ms
# against 0.7 ms), but writing the SQL by hand was a second copy of the rule.
_DEVICE_MARK = -7_340_001
_USER_MARK = -7_340_002
_device_scope_sql: dict[tuple[str, bool], tuple[str, tuple[str, ...]]] = {}


def _device_scope_statement(*, admin: bool) -> tuple[str, tuple[str, ...]]:
    key = (connection.vendor, admin)
    if key not in _device_scope_sql:
        user_type = UserType.PLANT_ADMIN if admin else UserType.CUSTOMER
        marker = get_user_model()(pk=_USER_MARK, is_active=True, user_type=user_type)
        devices = Device.objects.filter(pk=_DEVICE_MARK).order_by()
        condition = plant_reach_q(marker, PlantAction.VIEW, prefix="plant__")
        if condition is not None:
            devices = devices.filter(condition)
        query = devices.values_list("id", "plant_id", "plant__timezone").query
        sql, params = query.get_compiler(connection=connection).as_sql()
        slots = []
        for param in params:
            if param not in (_DEVICE_MARK, _USER_MARK):
                raise RuntimeError(f"unexpected parameter {param!r} in the device scope statement")
            slots.append("device" if param == _DEVICE_MARK else "user")
        _device_scope_sql[key] = (sql, tuple(slots))
    return _device_scope_sql[key]


def device_visible_to(user, *, device_id: int) -> VisibleDevice | None:
    """The device ``device_id`` (its id, plant and the plant's zone) if ``user`` may see it, else
    None: the scope of ``Plant.objects.visible_to`` as one prepared statement for hot read paths
    (a time-series request). Tests hold it to the same answers as the ORM for every persona."""
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    sql, slots = _device_scope_statement(admin=is_platform_admin(user))
    params = [device_id if slot == "device" else user.pk for slot in slots]
    with hot_cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return VisibleDevice(*row) if row else None


def device_visible_get(*, user, device_id: int) -> VisibleDevice:
    """:func:`device_visible_to`, raising :class:`~plants.exceptions.DeviceNotFound` (404)."""
    found = device_visible_to(user, device_id=device_id)
    if found is None:
        raise DeviceNotFound()
    return found


def plant_list_visible_to(user) -> QuerySet[Plant]:
    """Plants with their device count and live figures (``plants.live.plant_live_annotate``:
    correlated subqueries over the latest values), in one query — no N+1 however many plants."""
    # Filter Plant directly rather than ``id IN (SELECT id FROM plant …)``: that self-join made
    # PostgreSQL scan and sort the whole plant table twice per request (profiled on 500 plants).
    # The device count is a correlated subquery, so the pagination COUNT stays a plain COUNT(*)
    # instead of carrying a join and a GROUP BY over every plant column.
    plants = Plant.objects.visible_to(user)
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
    serializers show (``plants.live.device_live_annotate``) in the same query."""
    queryset = devices_visible_to(user)
    if with_datasheets:
        queryset = queryset.select_related(*_DATASHEET_RELATIONS)
    if with_live:
        queryset = device_live_annotate(queryset=queryset)
    return queryset
