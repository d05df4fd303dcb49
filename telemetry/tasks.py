"""Celery tasks of the telemetry app: thin, take ids, call a service."""
