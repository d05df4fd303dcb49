"""Serializers of the shadow-analysis API."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from shadow.choices import RowModel, ShadowRunStatus, WeatherChoice
from shadow.models import ShadowRun
from solarhub.api.scoping import VisiblePlantField


class ShadowParametersSerializer(serializers.Serializer):
    start = serializers.DateField(required=False, help_text="First plant-local day (default: 1 January this year).")
    end = serializers.DateField(required=False, help_text="Last plant-local day, inclusive; at most two years.")
    step_minutes = serializers.IntegerField(
        required=False, default=60, help_text="Time step in minutes (1 to 1440; default 60)."
    )
    weather = serializers.ChoiceField(choices=WeatherChoice.choices, default=WeatherChoice.CLEARSKY)
    samples_per_panel = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=200),
        min_length=2,
        max_length=2,
        required=False,
        help_text="Sample points per panel [along the slope, across the width] (default [4, 2]).",
    )
    row_model = serializers.ChoiceField(choices=RowModel.choices, default=RowModel.ANALYTIC)
    shading_table = serializers.BooleanField(
        default=False,
        help_text="Use (and complete) the twin version's near-shading table: obstacle shade per 1-degree sun "
        "direction bin, built once per twin version and reused by later runs (faster repeats, binned accuracy).",
    )

    def validate_step_minutes(self, value: int) -> int:
        if value < 1:
            raise serializers.ValidationError("At least 1 minute.")
        if value > 1440:
            raise serializers.ValidationError("At most 1440 minutes (a day).")
        return value

    def validate_samples_per_panel(self, value: list[int]) -> list[int]:
        if value[0] * value[1] > 400:
            raise serializers.ValidationError("At most 400 points per panel.")
        return value


class ShadowRunCreateSerializer(serializers.Serializer):
    plant_id = VisiblePlantField(help_text="A plant you see; a foreign id is as unknown as a missing one (400).")
    twin_id = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=2**63 - 1,
        help_text="The plant's twin (default: the plant's twin); any other id is 400.",
    )  # fmt: skip
    parameters = ShadowParametersSerializer(required=False, default=dict)


class ShadowRunSerializer(serializers.ModelSerializer):
    plant_id = serializers.IntegerField(read_only=True)
    twin_id = serializers.IntegerField(read_only=True, allow_null=True)
    requested_by = serializers.IntegerField(source="requested_by_id", read_only=True, allow_null=True)
    job_id = serializers.UUIDField(read_only=True, allow_null=True)
    status = serializers.SerializerMethodField()
    error = serializers.SerializerMethodField()
    status_url = serializers.SerializerMethodField()
    links = serializers.SerializerMethodField()

    class Meta:
        model = ShadowRun
        fields = [
            "id", "plant_id", "twin_id", "twin_version", "requested_by", "status", "progress", "error", "parameters",
            "result_summary", "asset_url", "links", "status_url", "job_id", "created_at", "started_at", "completed_at",
        ]  # fmt: skip
        read_only_fields = fields

    def _job_lost(self, run: ShadowRun) -> bool:
        # The job failed without the run knowing (its worker died on every attempt).
        job = run.job
        return (
            run.status in (ShadowRunStatus.QUEUED, ShadowRunStatus.RUNNING)
            and job is not None
            and (job.status == "failed")
        )

    @extend_schema_field(serializers.ChoiceField(choices=ShadowRunStatus.choices))
    def get_status(self, run: ShadowRun) -> str:
        return ShadowRunStatus.FAILED if self._job_lost(run) else run.status

    def get_error(self, run: ShadowRun) -> str:
        return run.job.error if self._job_lost(run) else run.error

    def get_status_url(self, run: ShadowRun) -> str:
        return f"/api/shadow-analysis/{run.pk}"

    @extend_schema_field(serializers.DictField(child=serializers.CharField()))
    def get_links(self, run: ShadowRun) -> dict[str, str]:
        if not run.artifacts:
            return {}
        base = f"/api/shadow-analysis/{run.pk}"
        return {"panels": f"{base}/panels", "heatmap": f"{base}/heatmap.png", "matrix": f"{base}/matrix.png",
                "csv": f"{base}/result.csv", "twinGlb": f"{base}/twin.glb"}  # fmt: skip


class ShadowRunAcceptedSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=ShadowRunStatus.choices)
    status_url = serializers.CharField()


class ShadowRunCompleteSerializer(serializers.Serializer):
    result_summary = serializers.DictField(
        help_text="The externally computed summary (``annual``, ``monthly`` [{month: YYYY-MM, lossKwh}] ...)."
    )
    asset_url = serializers.URLField(max_length=512, required=False, allow_blank=True, default="")


class ShadowPanelSerializer(serializers.Serializer):
    panel_id = serializers.CharField()
    string = serializers.CharField()
    inverter = serializers.CharField(allow_null=True)
    row = serializers.IntegerField(allow_null=True)
    position_in_row = serializers.IntegerField(allow_null=True)
    x = serializers.FloatField()
    z = serializers.FloatField()
    loss_kwh = serializers.FloatField()
    loss_pct = serializers.FloatField()
    mean_shaded_fraction = serializers.FloatField()
