"""Job leases: the claiming delivery, its lease expiry (renewed by a heartbeat) and the last
heartbeat. Rows running before this migration have no lease; the beat sweep treats a running
job without a lease as lost (requeued or failed, like one whose lease expired)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("solarhub", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="job",
            name="heartbeat_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="job",
            name="lease_expires_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="job",
            name="lease_owner",
            field=models.CharField(blank=True, default="", max_length=64),
        ),
        migrations.AddIndex(
            model_name="job",
            index=models.Index(
                condition=models.Q(("status", "running")),
                fields=["lease_expires_at"],
                name="solarhub_job_running_lease",
            ),
        ),
    ]
