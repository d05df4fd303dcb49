"""pytest settings. The database is chosen by ``solarhub.testing.services.choose_database_url``
(DATABASE_URL, else PostgreSQL on 127.0.0.1:5432 if it answers, else SQLite); conftest prints it."""

import os
import uuid

from solarhub.testing.services import choose_database_url, redis_url_for_tests

os.environ.setdefault("DATABASE_URL", choose_database_url())

from .base import *  # noqa: F403
from .env import env_database

DEBUG = False
SECRET_KEY = "test-secret-key-not-for-production-0123456789abcdef"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
DATABASES = {"default": env_database("DATABASE_URL", os.environ["DATABASE_URL"])}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # A file, not :memory:, so that a real Celery worker process can open the test database.
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / f"test-{os.getpid()}.sqlite3")}  # noqa: F405
else:
    DATABASES["default"]["CONN_MAX_AGE"] = 0
# Tests in this process run Celery eagerly; the real-worker test switches to the broker itself.
CELERY_TASK_ALWAYS_EAGER = True
# ... synchronously, in the caller: the suite relies on it. Tests of the background executor turn
# it on with override_settings (solarhub/tests/test_background.py).
CELERY_EAGER_BACKGROUND = False
CELERY_BROKER_URL = "memory://"
# The cache is Redis whenever one answers, so throttling is tested as production shares it
# across processes. A fresh key prefix per run keeps runs (and parallel runs) apart; tests
# clear only their own prefix, never the whole Redis database.
_test_redis = redis_url_for_tests()
if _test_redis:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": _test_redis,
            "KEY_PREFIX": f"solarhub-test-{uuid.uuid4().hex[:8]}",
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
# Webhook requests (and the test endpoint's padded "delivery failed" answer) take at most this
# long: the permission matrix calls the test endpoint of an unreachable webhook several times.
WEBHOOK_TIMEOUT_SECONDS = 1

# Static files come from the apps' static/ folders (production collects them at build time):
# the headless-browser test of the twin viewer loads three.js from a gunicorn of these settings.
WHITENOISE_USE_FINDERS = True
