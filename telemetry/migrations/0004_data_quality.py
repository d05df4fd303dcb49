"""Data quality: repeats on latest values (flat-line detection) and 5-minute slots with data on
rollups (completeness). Existing hourly and daily rollups get their slots computed from the
5-minute rows they were composed of."""

from django.db import migrations, models

PG_BACKFILL = [
    # an hour's slots: its 5-minute rows
    """
    UPDATE telemetry_rollup h SET slots = f.n
    FROM (
        SELECT device_id, metric_id, date_trunc('hour', bucket, 'UTC') AS hour, count(*)::int AS n
        FROM telemetry_rollup WHERE resolution = '5min' GROUP BY 1, 2, 3
    ) f
    WHERE h.resolution = 'hour' AND h.device_id = f.device_id AND h.metric_id = f.metric_id AND h.bucket = f.hour
    """,
    # a plant-local day's slots: the 5-minute rows up to the next day's bucket (or 24 h)
    """
    UPDATE telemetry_rollup d SET slots = GREATEST(1, (
        SELECT count(*) FROM telemetry_rollup f
        WHERE f.device_id = d.device_id AND f.metric_id = d.metric_id AND f.resolution = '5min'
          AND f.bucket >= d.bucket AND f.bucket < d.bucket + INTERVAL '24 hours'
    ))
    WHERE d.resolution = 'day'
    """,
]


def backfill_slots(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for statement in PG_BACKFILL:
                cursor.execute(statement)
        return
    # SQLite (development databases, small): let the folder recompute every stored hour.
    Rollup = apps.get_model("telemetry", "Rollup")
    DirtyHour = apps.get_model("telemetry", "DirtyHour")
    hours = Rollup.objects.filter(resolution="hour").values_list("device_id", "bucket").distinct()
    DirtyHour.objects.bulk_create(
        [DirtyHour(device_id=device_id, hour=hour) for device_id, hour in hours], ignore_conflicts=True, batch_size=500
    )


class Migration(migrations.Migration):
    dependencies = [
        ("telemetry", "0003_device_event_unique"),
    ]

    operations = [
        migrations.AddField(
            model_name="latestvalue",
            name="repeat_since",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="latestvalue",
            name="repeats",
            field=models.IntegerField(db_default=1, default=1),
        ),
        migrations.AddField(
            model_name="rollup",
            name="slots",
            field=models.IntegerField(
                db_default=1,
                default=1,
                help_text="5-minute slots of the bucket with at least one reading (completeness = slots / slots in bucket).",
            ),
        ),
        migrations.RunPython(backfill_slots, migrations.RunPython.noop),
    ]
