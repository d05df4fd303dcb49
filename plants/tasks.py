"""Celery tasks of the plants app: thin, take ids, call a service."""
