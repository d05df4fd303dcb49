from django import forms
from django.contrib import admin

from .models import CollectionConfig


class CollectionConfigForm(forms.ModelForm):
    # Write-only: the stored secret is never rendered back into the page; leaving it blank keeps it.
    secret = forms.CharField(required=False, widget=forms.PasswordInput(render_value=False))

    class Meta:
        model = CollectionConfig
        fields = [
            "device", "driver", "host", "port", "unit_id", "base_address", "path", "use_tls", "json_mapping",
            "timestamp_path", "username", "secret", "interval_seconds", "timeout_seconds", "enabled",
        ]  # fmt: skip

    def clean_secret(self):
        value = self.cleaned_data.get("secret")
        if not value and self.instance.pk:
            return self.instance.secret
        return value or ""


@admin.register(CollectionConfig)
class CollectionConfigAdmin(admin.ModelAdmin):
    form = CollectionConfigForm
    list_display = [
        "device",
        "driver",
        "host",
        "port",
        "interval_seconds",
        "enabled",
        "last_poll_at",
        "last_error_code",
    ]
    list_filter = ["driver", "enabled", "last_error_code"]
    search_fields = ["device__name", "device__serial_number", "host"]
    raw_id_fields = ["device"]
    readonly_fields = [
        "next_poll_at", "consecutive_failures", "last_poll_at", "last_duration_ms", "last_values", "last_info",
        "last_stored", "last_error_code", "last_error", "last_success_at",
    ]  # fmt: skip
