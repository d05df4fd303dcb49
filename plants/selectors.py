"""Reads of the plants app."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from accounts.choices import UserType

from .models import Plant, PlantMembership


def plant_ids_visible_to(user) -> QuerySet:
    """Ids of the plants ``user`` may see, as a lazy subquery (never a Python list), so callers
    filter with ``plant_id__in=plant_ids_visible_to(user)`` in one SQL statement."""
    if user is None or not user.is_authenticated or not user.is_active:
        return Plant.objects.none().values("id")
    if user.user_type == UserType.PLANT_ADMIN or user.is_superuser:
        return Plant.objects.values("id")
    member_of = PlantMembership.objects.filter(user=user).values("plant_id")
    return Plant.objects.filter(Q(owner=user) | Q(installer=user) | Q(id__in=member_of)).values("id")
