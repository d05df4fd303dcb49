"""Celery tasks of the forecasting app: thin, take ids, call a service."""
