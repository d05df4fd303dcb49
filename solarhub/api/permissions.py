"""Account-level permission classes. Plant-level scoping lives in the plant-scope filter."""

from __future__ import annotations

from rest_framework.permissions import IsAuthenticated

from plants.access import is_platform_admin


class IsPlantAdmin(IsAuthenticated):
    """Platform operators only: anonymous → 401, any other user → 403."""

    message = "Only plant administrators may do this."

    def has_permission(self, request, view) -> bool:
        return super().has_permission(request, view) and is_platform_admin(request.user)
