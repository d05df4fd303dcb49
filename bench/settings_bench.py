"""Settings for benchmarks served by a real server (``bench_plant_list.py``): the developer
settings plus a URL map with a bare baseline view, no DEBUG, no throttling.

Only the URL map, DEBUG, ALLOWED_HOSTS and throttling differ from ``solarhub.settings.local``;
the middleware, authentication, renderers and database settings (``DATABASE_URL``,
``DATABASE_CONN_MAX_AGE``, health checks) are the application's own.
"""

from solarhub.settings.local import *  # noqa: F403
from solarhub.settings.local import REST_FRAMEWORK

DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = "bench.urls_bench"
# wrk sends thousands of requests a second as one user; the user throttle would answer 429.
REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_CLASSES": []}
