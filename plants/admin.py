"""Django admin registrations of the plants app."""

from django.contrib import admin

from .models import Plant, PlantMembership


class PlantMembershipInline(admin.TabularInline):
    model = PlantMembership
    extra = 0
    autocomplete_fields = ("user",)


@admin.register(Plant)
class PlantAdmin(admin.ModelAdmin):
    list_display = ("name", "location", "status", "owner", "installer", "updated_at")
    list_filter = ("status",)
    search_fields = ("name", "location")
    autocomplete_fields = ("owner", "installer")
    inlines = [PlantMembershipInline]
