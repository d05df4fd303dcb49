"""Django admin registrations of the accounts app."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from solarhub.admin import PlatformAdminPermissions

from .choices import UserType
from .models import User, UserSetting


@admin.register(User)
class UserAdmin(PlatformAdminPermissions, DjangoUserAdmin):
    list_display = ("username", "email", "name", "user_type", "is_active", "last_login")
    list_filter = ("user_type", "is_active", "is_staff")
    search_fields = ("username", "email", "name", "company_name", "installation_id")
    ordering = ("username",)
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        ("Identity", {"fields": ("name", "email", "user_type")}),
        ("Customer profile", {"fields": ("installation_id", "address")}),
        ("Installer profile", {"fields": ("company_name", "license_number", "phone_number")}),
        ("Permissions", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )

    def get_readonly_fields(self, request, obj=None):
        # Plant admins manage accounts, but only superusers hand out superuser rights or raw
        # Django permissions: no escalation from plant_admin to superuser through this form.
        readonly = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            readonly += ["is_superuser", "groups", "user_permissions"]
        return readonly

    def save_model(self, request, obj, form, change):
        # plant_admin is the platform-operator type: such users work in this admin.
        if obj.user_type == UserType.PLANT_ADMIN:
            obj.is_staff = True
        super().save_model(request, obj, form, change)

    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("username", "email", "user_type", "password1", "password2")}),
    )


@admin.register(UserSetting)
class UserSettingAdmin(PlatformAdminPermissions, admin.ModelAdmin):
    list_display = ("user", "theme", "default_plant", "updated_at")
    list_filter = ("theme",)
    search_fields = ("user__username", "user__email")
    raw_id_fields = ("user", "default_plant")
