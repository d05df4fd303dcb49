"""Account-level permission classes. Plant-level scoping lives in the plant-scope filter."""

from __future__ import annotations

from rest_framework.permissions import IsAuthenticated


class IsPlantAdmin(IsAuthenticated):
    """Platform operators only: anonymous → 401, any other user → 403."""

    message = "Only plant administrators may do this."

    def has_permission(self, request, view) -> bool:
        if not super().has_permission(request, view):
            return False
        user = request.user
        return bool(user.is_superuser or getattr(user, "is_plant_admin", False))
