"""The default storage alarm rules for the plants that existed before the storage app: new plants
get them from ``plants.hooks.plant_created``; these never saw that signal."""

from django.db import migrations


def backfill_default_rules(apps, schema_editor) -> int:
    """Each plant's missing storage defaults (by name), as ``storage_alarm_rules_create_defaults``
    adds them; idempotent. Returns the rules created."""
    from storage.services import STORAGE_DEFAULT_RULES

    plant_model = apps.get_model("plants", "Plant")
    rule_model = apps.get_model("alarms", "AlarmRule")
    names = {spec["name"] for spec in STORAGE_DEFAULT_RULES}
    created = 0
    for plant_id in plant_model.objects.order_by("id").values_list("id", flat=True).iterator():
        present = set(
            rule_model.objects.filter(plant_id=plant_id, is_default=True, name__in=names).values_list("name", flat=True)
        )
        rules = [
            rule_model(plant_id=plant_id, is_default=True, **spec)
            for spec in STORAGE_DEFAULT_RULES
            if spec["name"] not in present
        ]
        created += len(rule_model.objects.bulk_create(rules))
    return created


class Migration(migrations.Migration):
    dependencies = [
        ("storage", "0002_storage_metrics"),
        ("alarms", "0002_seed_bit_maps_and_catalog"),
        ("plants", "0005_storage_datasheets_and_cctv"),
    ]

    operations = [migrations.RunPython(backfill_default_rules, migrations.RunPython.noop)]
