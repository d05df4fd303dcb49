from django.db import migrations


def seed(apps, schema_editor):
    from alarms.bitmaps import bit_maps_seed
    from telemetry.catalog import catalog_seed

    catalog_seed(apps.get_model("telemetry", "Metric"))  # status-word metrics added with the alarms app
    bit_maps_seed(apps.get_model("alarms", "StatusBitMap"))


class Migration(migrations.Migration):
    dependencies = [
        ("alarms", "0001_initial"),
        ("telemetry", "0004_data_quality"),
    ]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
