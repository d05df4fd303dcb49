"""Celery tasks of the alarms app: thin, take ids, call a service."""
