"""Celery tasks of the reports app: thin, take ids, call a service."""
