"""Django admin registrations of the telemetry app: the metric catalog.

Engineers extend the catalog here (a new key a logger sends, a tighter plausible range). A
metric's ``key`` is what loggers send and what readings and rules refer to, so it is fixed once
created; a metric is never deleted here (its readings would lose their meaning). Ingest picks up
changes within a minute (``telemetry.ingest.metric_catalog``); this process at once."""

from __future__ import annotations

from django import forms
from django.contrib import admin

from solarhub.admin import PlatformAdminPermissions

from .ingest import metric_catalog
from .models import Metric


class MetricForm(forms.ModelForm):
    class Meta:
        model = Metric
        fields = ["key", "unit", "kind", "description", "min_value", "max_value", "sunspec_point"]

    def clean_key(self):
        key = self.cleaned_data["key"].strip()
        if not key or not key.replace("_", "").isalnum() or not key.islower() or not key[0].isalpha():
            raise forms.ValidationError("Keys are lower_snake_case, starting with a letter (e.g. dc_voltage_mppt3).")
        return key

    def clean(self):
        data = super().clean()
        low, high = data.get("min_value"), data.get("max_value")
        if low is not None and high is not None and low > high:
            self.add_error("max_value", "The upper bound is below the lower bound.")
        return data


@admin.register(Metric)
class MetricAdmin(PlatformAdminPermissions, admin.ModelAdmin):
    form = MetricForm
    list_display = ["key", "unit", "kind", "min_value", "max_value", "sunspec_point", "description"]
    list_filter = ["kind"]
    search_fields = ["key", "description", "sunspec_point"]
    ordering = ["key"]

    def get_readonly_fields(self, request, obj=None):
        return ["key"] if obj is not None else []

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        metric_catalog(refresh=True)
