"""The admin site's gate and the platform app's registrations.

Only platform operators work in the Django admin: active staff whose account type is
``plant_admin`` (or superusers). Any other staff account — say an installer somebody ticked
"staff status" for — is sent to the login page, never the index. The default ``admin.site``
keeps serving ``solarhub/urls.py``; only its ``has_permission`` is replaced (this module is
autodiscovered because ``solarhub`` is an installed app).

Plant admins are not necessarily superusers and hold no Django model permissions: the admin
classes of the SolarHub apps use :class:`PlatformAdminPermissions`, which grants them every
right (architecture.md: plant admins may do anything on every plant).
"""

from __future__ import annotations

from django.contrib import admin

from plants.access import is_platform_admin

from .models import Job


def admin_site_has_permission(request) -> bool:
    """``AdminSite.has_permission`` for SolarHub: active staff who are platform admins."""
    user = request.user
    return bool(user.is_active and user.is_staff and is_platform_admin(user))


# An instance attribute shadows the method: every admin view (``admin_view``), the login
# page's "already signed in" redirect and ``each_context`` consult it.
admin.site.has_permission = admin_site_has_permission


class PlatformAdminPermissions:
    """ModelAdmin mixin: platform admins may view, add, change and delete; nobody else."""

    def has_module_permission(self, request) -> bool:
        return is_platform_admin(request.user)

    def has_view_permission(self, request, obj=None) -> bool:
        return is_platform_admin(request.user)

    def has_add_permission(self, request, *args) -> bool:  # inlines pass the parent obj
        return is_platform_admin(request.user)

    def has_change_permission(self, request, obj=None) -> bool:
        return is_platform_admin(request.user)

    def has_delete_permission(self, request, obj=None) -> bool:
        return is_platform_admin(request.user)


class ReadOnlyPlatformAdmin(PlatformAdminPermissions):
    """Platform admins may look; rows are written by the application only."""

    def has_add_permission(self, request, *args) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Job)
class JobAdmin(ReadOnlyPlatformAdmin, admin.ModelAdmin):
    list_display = ("kind", "status", "plant", "requested_by", "created_at", "finished_at")
    list_filter = ("status", "kind")
    list_select_related = ("plant", "requested_by")
    search_fields = ("kind", "unique_key", "plant__name", "plant__plant_code")
    date_hierarchy = "created_at"
    ordering = ("-created_at",)
    fieldsets = (
        (None, {"fields": ("id", "kind", "status", "plant", "requested_by", "unique_key")}),
        ("Run", {"fields": ("attempts", "created_at", "started_at", "finished_at", "error")}),
        ("Payload", {"fields": ("params", "result")}),
    )
