from __future__ import annotations

from django.urls import reverse
from rest_framework import serializers

from solarhub.models import Job, JobStatus


def job_status_url(job: Job, request) -> str:
    namespace = getattr(getattr(request, "resolver_match", None), "namespace", None) or "api"
    return reverse(f"{namespace}:job-detail", kwargs={"pk": job.pk})


class JobAcceptedSerializer(serializers.Serializer):
    """The 202 body every job-starting endpoint answers."""

    id = serializers.UUIDField()
    status = serializers.ChoiceField(choices=JobStatus.choices)
    status_url = serializers.CharField()


class JobSerializer(serializers.ModelSerializer):
    plant_id = serializers.IntegerField(allow_null=True, read_only=True)
    requested_by = serializers.IntegerField(source="requested_by_id", allow_null=True, read_only=True)
    status_url = serializers.SerializerMethodField()
    heartbeat_at = serializers.DateTimeField(
        read_only=True, allow_null=True, help_text="Last sign of life of the run (renewed while it runs)."
    )
    lease_expires_at = serializers.DateTimeField(
        read_only=True,
        allow_null=True,
        help_text="While running: when the job counts as lost without a further heartbeat (then it is requeued "
        "or failed within a minute or so).",
    )

    class Meta:
        model = Job
        fields = [
            "id",
            "kind",
            "status",
            "plant_id",
            "requested_by",
            "params",
            "result",
            "error",
            "attempts",
            "created_at",
            "started_at",
            "finished_at",
            "heartbeat_at",
            "lease_expires_at",
            "status_url",
        ]
        read_only_fields = fields

    def get_status_url(self, job: Job) -> str:
        return job_status_url(job, self.context.get("request"))


def job_accepted_body(job: Job, request) -> dict:
    return {"id": str(job.id), "status": job.status, "status_url": job_status_url(job, request)}
