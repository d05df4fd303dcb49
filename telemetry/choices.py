"""Enumerations (TextChoices) of the telemetry app."""
