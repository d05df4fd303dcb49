"""Celery tasks of the accounts app: thin, take ids, call a service."""
