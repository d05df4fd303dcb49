"""Serializers of the telemetry API."""
