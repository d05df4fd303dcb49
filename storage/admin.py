"""Admin of the storage app: dispatch events (with a CSV import action on the changelist) and
per-plant tariffs. Platform admins only (``PlatformAdminPermissions``)."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.shortcuts import redirect, render
from django.urls import path

from plants.models import Plant
from solarhub.admin import PlatformAdminPermissions

from .models import DispatchEvent, StorageTariff
from .services import dispatch_events_import


class DispatchImportForm(forms.Form):
    plant = forms.ModelChoiceField(queryset=Plant.objects.all())
    file = forms.FileField(help_text="CSV with a header of the event's field names (README).")


@admin.register(DispatchEvent)
class DispatchEventAdmin(PlatformAdminPermissions, admin.ModelAdmin):
    list_display = ("plant", "mode", "time_start", "time_end", "is_get", "power", "price", "interrupt", "quote_code")
    list_filter = ("mode", "is_get", "interrupt")
    search_fields = ("quote_code", "title", "plant__name")
    raw_id_fields = ("plant", "created_by")
    date_hierarchy = "time_start"
    change_list_template = "admin/storage/dispatchevent/change_list.html"

    def get_urls(self):
        return [
            path("import-csv/", self.admin_site.admin_view(self.import_csv), name="storage_dispatchevent_import"),
            *super().get_urls(),
        ]

    def import_csv(self, request):
        if not self.has_add_permission(request):
            return redirect("admin:storage_dispatchevent_changelist")
        form = DispatchImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            text = form.cleaned_data["file"].read().decode("utf-8-sig", errors="replace")
            try:
                count = dispatch_events_import(plant=form.cleaned_data["plant"], text=text, by=request.user)
            except ValueError as exc:
                messages.error(request, f"Nothing imported: {exc}")
            else:
                messages.success(request, f"{count} dispatch event(s) imported.")
                return redirect("admin:storage_dispatchevent_changelist")
        context = {**self.admin_site.each_context(request), "form": form, "title": "Import dispatch events"}
        return render(request, "admin/storage/dispatchevent/import.html", context)


@admin.register(StorageTariff)
class StorageTariffAdmin(PlatformAdminPermissions, admin.ModelAdmin):
    list_display = ("plant", "currency", "efficiency_price", "nominal_frequency_hz", "updated_at")
    raw_id_fields = ("plant",)
