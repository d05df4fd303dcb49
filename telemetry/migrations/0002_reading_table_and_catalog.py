"""The readings table (partitioned by month on PostgreSQL) and the seeded metric catalog."""

from django.db import migrations

PG_CREATE = """
CREATE TABLE telemetry_reading (
    device_id bigint NOT NULL,
    metric_id smallint NOT NULL,
    ts timestamptz NOT NULL,
    value double precision NOT NULL,
    PRIMARY KEY (device_id, metric_id, ts)
) PARTITION BY RANGE (ts);
-- BRIN: readings arrive roughly in time order, so a tiny block-range index serves time scans.
CREATE INDEX telemetry_reading_ts_brin ON telemetry_reading USING brin (ts);
"""
SQLITE_CREATE = """
CREATE TABLE telemetry_reading (
    device_id integer NOT NULL,
    metric_id smallint NOT NULL,
    ts datetime NOT NULL,
    value real NOT NULL,
    PRIMARY KEY (device_id, metric_id, ts)
) WITHOUT ROWID;
"""


def create_reading_table(apps, schema_editor):
    sql = PG_CREATE if schema_editor.connection.vendor == "postgresql" else SQLITE_CREATE
    with schema_editor.connection.cursor() as cursor:
        for statement in sql.split(";"):
            if statement.strip():
                cursor.execute(statement)


def drop_reading_table(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS telemetry_reading")


def seed_catalog(apps, schema_editor):
    from telemetry.catalog import catalog_seed

    catalog_seed(apps.get_model("telemetry", "Metric"))


class Migration(migrations.Migration):
    dependencies = [("telemetry", "0001_initial")]

    operations = [
        migrations.RunPython(create_reading_table, drop_reading_table),
        migrations.RunPython(seed_catalog, migrations.RunPython.noop),
    ]
