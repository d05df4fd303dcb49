"""Django admin registrations of the alarms app: the status bit maps.

A status word (an inverter's event bits, a PCS fault word, a BESS rack's alarm word) is decoded
through the most specific map for the device (type + manufacturer + model, then type +
manufacturer, then the type's default; ``alarms.decoding``). Engineers enter a vendor's map
here; the form refuses bits that are not 0-63 and entries without a name or with an unknown
category, so a typo cannot silently rename every flag to ``BIT<n>``."""

from __future__ import annotations

from django import forms
from django.contrib import admin

from solarhub.admin import PlatformAdminPermissions

from .choices import FlagCategory
from .models import StatusBitMap

CATEGORIES = tuple(FlagCategory.values)


class StatusBitMapForm(forms.ModelForm):
    class Meta:
        model = StatusBitMap
        fields = ["device_type", "manufacturer", "model", "word", "label", "bits", "source"]

    def clean_bits(self):
        bits = self.cleaned_data["bits"]
        if not isinstance(bits, dict):
            raise forms.ValidationError(
                'An object of bit → {"name", "category"}, e.g. {"0": {"name": "GROUND_FAULT"}}.'
            )
        problems = []
        for bit, entry in bits.items():
            if not (isinstance(bit, str) and bit.isdigit() and int(bit) < 64):
                problems.append(f"{bit!r}: bits are 0-63")
                continue
            if not isinstance(entry, dict) or not isinstance(entry.get("name"), str) or not entry["name"].strip():
                problems.append(f"bit {bit}: needs a name")
                continue
            if entry.get("category", "fault") not in CATEGORIES:
                problems.append(f"bit {bit}: category must be one of {', '.join(CATEGORIES)}")
        if problems:
            raise forms.ValidationError(problems)
        return bits


@admin.register(StatusBitMap)
class StatusBitMapAdmin(PlatformAdminPermissions, admin.ModelAdmin):
    form = StatusBitMapForm
    list_display = ["device_type", "word", "manufacturer", "model", "label", "bit_count", "source"]
    list_filter = ["device_type"]
    search_fields = ["word", "manufacturer", "model", "label"]

    @admin.display(description="bits")
    def bit_count(self, obj) -> int:
        return len(obj.bits or {})
