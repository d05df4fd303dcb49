"""The storage metrics of the catalog (``telemetry.catalog._STORAGE``), added with this app."""

from django.db import migrations


def seed_catalog(apps, schema_editor):
    from telemetry.catalog import catalog_seed

    catalog_seed(apps.get_model("telemetry", "Metric"))


class Migration(migrations.Migration):
    dependencies = [
        ("storage", "0001_initial"),
        ("telemetry", "0005_plant_power"),
        ("alarms", "0002_seed_bit_maps_and_catalog"),
    ]

    operations = [migrations.RunPython(seed_catalog, migrations.RunPython.noop)]
