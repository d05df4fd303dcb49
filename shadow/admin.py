"""Django admin registrations of the shadow app."""

from django.contrib import admin

from .models import ShadowRun


@admin.register(ShadowRun)
class ShadowRunAdmin(admin.ModelAdmin):
    list_display = ["id", "plant", "status", "progress", "twin_version", "created_at", "completed_at"]
    list_filter = ["status"]
    search_fields = ["plant__name", "plant__plant_code"]
    raw_id_fields = ["plant", "twin", "requested_by", "job"]
    readonly_fields = ["result_summary", "artifacts", "error", "created_at", "started_at", "completed_at"]
