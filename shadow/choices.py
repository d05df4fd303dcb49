"""Enumerations (TextChoices) of the shadow app."""

from django.db import models

SHADOW_RUN = "shadow.run"  # the job kind


class ShadowRunStatus(models.TextChoices):
    """Seed 000's four states, plus ``cancelled`` (a run stopped on request)."""

    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


ACTIVE_STATUSES = (ShadowRunStatus.QUEUED, ShadowRunStatus.RUNNING)


class WeatherChoice(models.TextChoices):
    CLEARSKY = "clearsky", "Clear sky (Ineichen)"
    TMY = "tmy", "Typical meteorological year"


class RowModel(models.TextChoices):
    ANALYTIC = "analytic", "pvlib shaded_fraction1d (infinite rows) + ray-cast obstacles"
    RAYCAST = "raycast", "Ray cast against panels and obstacles (small twins)"


class ShadowArtifact(models.TextChoices):
    RESULT = "npz", "Per step x panel shaded fraction (.npz)"
    PANELS = "panels", "Per-panel annual loss (JSON)"
    HEATMAP = "heatmap", "Loss heatmap, plan view (PNG)"
    MATRIX = "matrix", "Month x hour loss matrix (PNG)"
    CSV = "csv", "Per-panel loss (CSV)"
