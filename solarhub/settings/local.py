"""Developer machine: `make run`. SQLite and eager Celery unless DATABASE_URL / REDIS_URL are set."""

from .base import *  # noqa: F403
from .env import env_bool

DEBUG = env_bool("DEBUG", True)
# A fixed development key keeps sessions valid across restarts; production refuses to start without one.
SECRET_KEY = SECRET_KEY or "django-insecure-solarhub-local-development-key-do-not-use-in-production"  # noqa: F405
