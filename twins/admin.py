"""Django admin registrations of the twins app: twins per plant with their version count and
a link to the viewer. Scenes are edited over the API (validated there); the admin shows them."""

from django.contrib import admin
from django.db.models import Count
from django.utils.html import format_html

from solarhub.admin import PlatformAdminPermissions

from .models import DigitalTwin, DigitalTwinVersion


class DigitalTwinVersionInline(PlatformAdminPermissions, admin.TabularInline):
    model = DigitalTwinVersion
    fields = ["version", "reason", "object_count", "created_by", "created_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, *args) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).defer("twin_data")


@admin.register(DigitalTwin)
class DigitalTwinAdmin(PlatformAdminPermissions, admin.ModelAdmin):
    list_display = [
        "__str__",
        "plant",
        "version",
        "version_count",
        "panel_count",
        "object_count",
        "updated_at",
        "viewer",
    ]
    list_filter = ["plant"]
    list_select_related = ["plant"]
    search_fields = ["name", "plant__name", "plant__plant_code"]
    readonly_fields = ["plant", "version", "object_count", "panel_count", "created_by", "updated_by", "viewer"]
    exclude = ["twin_data"]
    inlines = [DigitalTwinVersionInline]
    ordering = ["plant__name"]

    def get_queryset(self, request):
        return super().get_queryset(request).defer("twin_data").annotate(_versions=Count("versions"))

    def has_add_permission(self, request, *args) -> bool:
        return False  # twins are generated from the registry or posted over the API (validated)

    @admin.display(description="versions kept", ordering="_versions")
    def version_count(self, obj) -> int:
        return obj._versions  # noqa: SLF001 -- the queryset annotation above

    @admin.display(description="viewer")
    def viewer(self, obj) -> str:
        return format_html('<a href="/twins/{}/view" target="_blank">open 3D viewer</a>', obj.pk)
