"""Reads of jobs."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from plants.access import is_platform_admin
from plants.selectors import plant_ids_visible_to
from solarhub.models import Job


def job_list_visible_to(user) -> QuerySet[Job]:
    """Jobs of plants the user may see, plus plant-less jobs the user started themselves;
    platform admins every job, plant-less ones included."""
    if user is None or not user.is_authenticated:
        return Job.objects.none()
    if is_platform_admin(user):  # not only every plant's jobs: the plant-less ones too
        return Job.objects.all()
    return Job.objects.filter(Q(plant_id__in=plant_ids_visible_to(user)) | Q(plant__isnull=True, requested_by=user))
