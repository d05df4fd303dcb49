"""Celery tasks of the twins app: thin, take ids, call a service."""
