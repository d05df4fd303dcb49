"""Settings shared by every environment. All configuration comes from environment variables
(read strictly through ``solarhub.settings.env``); see the README's configuration table."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from celery.schedules import crontab

from .env import (
    env_bool,
    env_database,
    env_duration,
    env_duration_aliased,
    env_email,
    env_int,
    env_list,
    env_origins,
    env_redis_url,
    env_str,
)

BASE_DIR = Path(__file__).resolve().parent.parent.parent
DATA_DIR = Path(env_str("SOLARHUB_DATA_DIR", str(BASE_DIR / ".data")))
DATA_DIR.mkdir(parents=True, exist_ok=True)

SERVICE_NAME = "SolarHub API"
VERSION = "0.1.0"

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_str("SECRET_KEY")  # environment modules decide whether a default is acceptable
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "0.0.0.0"])  # noqa: S104 -- `make run` serves on 0.0.0.0

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sites",
    # third party
    "corsheaders",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.google",
    # SolarHub
    "solarhub.apps.SolarHubConfig",
    "accounts.apps.AccountsConfig",
    "plants.apps.PlantsConfig",
    "telemetry.apps.TelemetryConfig",
    "alarms.apps.AlarmsConfig",
    "reports.apps.ReportsConfig",
    "twins.apps.TwinsConfig",
    "forecasting.apps.ForecastingConfig",
    "collector.apps.CollectorConfig",
    "shadow.apps.ShadowConfig",
    "storage.apps.StorageConfig",  # battery storage and seed 003's site views (issue 21)
    "demo.apps.DemoConfig",  # seed_demo: composes every app, so it sits above them all
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "solarhub.api.middleware.OptionalTrailingSlashMiddleware",
    "solarhub.api.middleware.RequestBodyLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "djangorestframework_camel_case.middleware.CamelCaseMiddleWare",
]

ROOT_URLCONF = "solarhub.urls"
WSGI_APPLICATION = "solarhub.wsgi.application"
ASGI_APPLICATION = "solarhub.asgi.application"
SITE_ID = 1
# Paths are served exactly as the seeds write them (no trailing slash); the optional-slash
# middleware accepts a trailing slash for every method without a redirect.
APPEND_SLASH = False

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- database -------------------------------------------------------------------------------
DATABASES = {"default": env_database("DATABASE_URL", f"sqlite:///{DATA_DIR / 'solarhub.sqlite3'}")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- cache and Celery -----------------------------------------------------------------------
REDIS_URL = env_redis_url("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "solarhub"),
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "solarhub"}}

CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", REDIS_URL or "memory://")
# Without a broker, tasks run eagerly in-process (zero-setup `make run`); with one, on workers.
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", not (REDIS_URL or env_str("CELERY_BROKER_URL")))
# Eager tasks (alarm evaluation after an ingest, notifications, jobs) run on one in-process
# background thread after the response instead of inside the request: bounded queue (full: run
# inline in the caller), coalesced evaluations, lost on a hard kill (solarhub/background.py).
# Only consulted when eager; false: plain eager Celery, in the caller's thread.
CELERY_EAGER_BACKGROUND = env_bool("CELERY_EAGER_BACKGROUND", CELERY_TASK_ALWAYS_EAGER)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True  # job state lives in our own status rows, not a result backend
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 25 * 60, minimum=1)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 30 * 60, minimum=1)
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_DEFAULT_QUEUE", "solarhub")
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_TIMEOUT = 3
# With acks_late on Redis an unacknowledged task is redelivered after the visibility timeout;
# it must exceed the hard time limit or long jobs would run twice.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_TASK_TIME_LIMIT + 600}
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Static schedule entries; the DatabaseScheduler copies them into django-celery-beat's tables at
# start, where engineers can see and pause them in the admin.
CELERY_BEAT_SCHEDULE = {
    "flush-expired-tokens": {
        "task": "accounts.flush_expired_tokens",
        "schedule": crontab(hour=3, minute=17),
    },
    # Dirty rollup hours are folded every minute; a run that finds its slot taken by a late
    # predecessor simply shares the work (SKIP LOCKED), and an unpicked run expires.
    "telemetry-fold-rollups": {
        "task": "telemetry.fold_rollups",
        "schedule": crontab(minute="*"),
        "options": {"expires": 55},
    },
    "telemetry-partitions-ahead": {
        "task": "telemetry.partitions_ahead",
        "schedule": crontab(hour=2, minute=5),
    },
    "telemetry-drop-old-partitions": {
        "task": "telemetry.drop_old_partitions",
        "schedule": crontab(hour=2, minute=35),
    },
    # Alarms: communication loss is judged against the clock, and shelves expire.
    "alarms-evaluate-time-based": {
        "task": "alarms.evaluate_time_based",
        "schedule": crontab(minute="*"),
        "options": {"expires": 55},
    },
    # Forecasting: tomorrow's day-ahead forecast where it is evening (checked hourly, per plant
    # time zone); expected power from measured weather every 15 minutes; accuracy of finished
    # forecasts hourly; self-calibration daily.
    "forecasting-day-ahead": {
        "task": "forecasting.day_ahead_forecasts",
        "schedule": crontab(minute=10),
        "options": {"expires": 50 * 60},
    },
    "forecasting-expected-power": {
        "task": "forecasting.expected_power",
        "schedule": crontab(minute="2,17,32,47"),
        "options": {"expires": 14 * 60},
    },
    "forecasting-accuracy": {
        "task": "forecasting.accuracy",
        "schedule": crontab(minute=40),
        "options": {"expires": 50 * 60},
    },
    "forecasting-calibrate": {
        "task": "forecasting.calibrate",
        "schedule": crontab(hour=3, minute=40),
    },
    # Reports: the recent KPI days of every plant, kept computed (the KPI endpoint reads them).
    "reports-warm-kpi-days": {
        "task": "reports.warm_kpi_days",
        "schedule": crontab(minute=25),
        "options": {"expires": 50 * 60},
    },
    # Collector: claim the devices whose poll is due and fan them out in batches (each device
    # has its own jittered due time, so this only picks them up).
    "collector-dispatch-due": {
        "task": "collector.dispatch_due",
        "schedule": timedelta(seconds=30),
        "options": {"expires": 25},
    },
    # Jobs whose worker is gone (lease expired: no heartbeat) are requeued or failed.
    "jobs-sweep-expired-leases": {
        "task": "solarhub.sweep_job_leases",
        "schedule": crontab(minute="*"),
        "options": {"expires": 55},
    },
}
# Job leases (solarhub/jobs/services.py): a running job holds a lease on its row that a
# heartbeat thread renews every JOB_HEARTBEAT_SECONDS; beat requeues a job whose lease expired
# (its worker is gone) until it has been tried JOB_MAX_ATTEMPTS times, then fails it.
JOB_LEASE_SECONDS = env_int("JOB_LEASE_SECONDS", 90, minimum=2)
JOB_HEARTBEAT_SECONDS = env_int("JOB_HEARTBEAT_SECONDS", 15, minimum=1)
if JOB_HEARTBEAT_SECONDS * 2 > JOB_LEASE_SECONDS:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured(
        f"JOB_HEARTBEAT_SECONDS ({JOB_HEARTBEAT_SECONDS}) must be at most half of JOB_LEASE_SECONDS "
        f"({JOB_LEASE_SECONDS}), or a live job could lose its lease between two heartbeats."
    )
JOB_MAX_ATTEMPTS = env_int("JOB_MAX_ATTEMPTS", 2, minimum=1, maximum=20)
# Raw readings older than this are dropped (whole monthly partitions); rollups are kept.
TELEMETRY_RETENTION_DAYS = env_int("TELEMETRY_RETENTION_DAYS", 730, minimum=1)
# Largest ingest body (REST JSON or CSV), bytes; 413 beyond.
TELEMETRY_MAX_BODY_BYTES = env_int("TELEMETRY_MAX_BODY_BYTES", 10 * 1024 * 1024, minimum=1024)
# Plant-local hour at which beat makes tomorrow's day-ahead forecast of each plant.
FORECAST_DAY_AHEAD_LOCAL_HOUR = env_int("FORECAST_DAY_AHEAD_LOCAL_HOUR", 18, minimum=0, maximum=23)
# Digital twins: versions kept per twin (each save keeps its scene; at least 20) and the size
# bound of one scene (objects; panels included).
TWIN_VERSIONS_KEPT = env_int("TWIN_VERSIONS_KEPT", 20, minimum=20, maximum=1000)
TWIN_MAX_OBJECTS = env_int("TWIN_MAX_OBJECTS", 100_000, minimum=100, maximum=1_000_000)

# --- auth -----------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {
        # Our User has `name` instead of first_name/last_name (Django's default attributes).
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
        "OPTIONS": {"user_attributes": ("username", "name", "email")},
    },
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
ACCOUNT_LOGIN_METHODS = {"email", "username"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "username*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = env_str("ACCOUNT_EMAIL_VERIFICATION", "optional")

GOOGLE_CLIENT_ID = env_str("GOOGLE_CLIENT_ID", "")
SOCIALACCOUNT_PROVIDERS = {
    "google": {
        "APP": {"client_id": GOOGLE_CLIENT_ID, "secret": env_str("GOOGLE_CLIENT_SECRET", ""), "key": ""},
        "SCOPE": ["openid", "profile", "email"],
        "CERTS_URL": env_str("GOOGLE_CERTS_URL", "https://www.googleapis.com/oauth2/v1/certs"),
    }
}
SOCIALACCOUNT_EMAIL_AUTHENTICATION = True  # a verified Google e-mail signs in the account with that e-mail
SOCIALACCOUNT_EMAIL_AUTHENTICATION_AUTO_CONNECT = True

# Failed password sign-ins (accounts/throttling.py): after AUTH_MAX_FAILURES failures for one
# username from one address, or AUTH_MAX_FAILURES_PER_ADDRESS failures from one address whatever
# the usernames, within AUTH_FAILURE_WINDOW, further password sign-ins of that pair / from that
# address answer 429 until the window passes (shared via the cache). There is deliberately no
# lockout of a username from everywhere: anyone could lock a victim out by guessing at their name.
AUTH_MAX_FAILURES = env_int("AUTH_MAX_FAILURES", 5, minimum=1)
AUTH_MAX_FAILURES_PER_ADDRESS = env_int("AUTH_MAX_FAILURES_PER_ADDRESS", 50, minimum=1)
AUTH_FAILURE_WINDOW = env_duration("AUTH_FAILURE_WINDOW", timedelta(minutes=15))
# Refresh-token reuse interval (Auth0's "reuse interval"): for this many seconds after a refresh
# token was rotated, presenting it again answers the same new pair the rotation issued (tabs of
# one SPA refreshing at once); 0 disables it. Kept short: it is a window in single use.
JWT_REFRESH_REUSE_SECONDS = env_int("JWT_REFRESH_REUSE_SECONDS", 15, minimum=0, maximum=300)

# Seed 001's names are aliases: JWT_EXPIRES_IN of JWT_ACCESS_TOKEN_LIFETIME (ours wins; both set
# and different stops start-up), JWT_SECRET the key that signs tokens (unset: SECRET_KEY; at
# least 32 characters in production, see production.py).
JWT_SECRET = env_str("JWT_SECRET")
SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": env_duration_aliased("JWT_ACCESS_TOKEN_LIFETIME", "JWT_EXPIRES_IN", timedelta(minutes=15)),
    "REFRESH_TOKEN_LIFETIME": env_duration("JWT_REFRESH_TOKEN_LIFETIME", timedelta(days=7)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": True,
    "AUTH_HEADER_TYPES": ("Bearer",),
    # Every token carries a digest of the user's password hash: once the password changes (API,
    # admin, allauth reset, changepassword), access tokens issued before are refused at once and
    # refresh tokens too (accounts.services.auth_tokens_refresh), besides being blacklisted
    # (accounts.signals).
    "CHECK_REVOKE_TOKEN": True,
}
if JWT_SECRET:
    SIMPLE_JWT["SIGNING_KEY"] = JWT_SECRET  # else simplejwt's default: the final SECRET_KEY

# --- REST API -------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.JWTAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["solarhub.api.renderers.CamelCaseJSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "solarhub.api.parsers.StrictCamelCaseJSONParser",
        "djangorestframework_camel_case.parser.CamelCaseFormParser",
        "djangorestframework_camel_case.parser.CamelCaseMultiPartParser",
    ],
    "DEFAULT_FILTER_BACKENDS": ["solarhub.api.filters.StrictFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "solarhub.api.pagination.HeaderPageNumberPagination",
    "PAGE_SIZE": 100,
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env_str("THROTTLE_ANON_RATE", "120/min"),
        "user": env_str("THROTTLE_USER_RATE", "2000/min"),
        "auth": env_str("THROTTLE_AUTH_RATE", "60/min"),
    },
    # Client addresses for throttles and sign-in lockouts: the X-Forwarded-For entry that many
    # proxies from the right (0: REMOTE_ADDR, never the client-supplied header, which anyone
    # can set to a fresh value per request to escape every per-address limit).
    "NUM_PROXIES": env_int("NUM_PROXIES", 0, minimum=0),
    "EXCEPTION_HANDLER": "solarhub.api.exceptions.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "solarhub.api.schema.SolarHubAutoSchema",
    "DATETIME_FORMAT": "iso-8601",
    "COERCE_DECIMAL_TO_STRING": False,
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
API_MAX_PAGE_SIZE = env_int("API_MAX_PAGE_SIZE", 1000, minimum=1)

SPECTACULAR_SETTINGS = {
    "TITLE": SERVICE_NAME,
    "DESCRIPTION": (
        "Monitoring and operation of solar PV plants and their batteries. JSON is camelCase; "
        "errors are {detail, status_code, error_code}; lists are plain arrays paginated with "
        "?page and ?pageSize (X-Total-Count and Link headers). Every path below is also served "
        "under /api/v1/ (seed 003's prefix), and with or without a trailing slash; there, auth/login, "
        "auth/login/json, auth/refresh and auth/logout follow seed 003 (see those operations)."
    ),
    "VERSION": VERSION,
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/(v1/)?",
    # Sign-in endpoints use a no-op authenticator (for the 401 challenge); it is not a scheme.
    "AUTHENTICATION_WHITELIST": [
        "accounts.authentication.JWTAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "PREPROCESSING_HOOKS": ["solarhub.api.schema.document_canonical_mount_only"],
    "POSTPROCESSING_HOOKS": [
        "solarhub.api.schema.camelize_except_verbatim",
        "drf_spectacular.hooks.postprocess_schema_enums",
    ],
    "SWAGGER_UI_SETTINGS": {"persistAuthorization": True},
    "ENUM_NAME_OVERRIDES": {
        "UserTypeEnum": "accounts.choices.UserType",
        "RegistrableUserTypeEnum": "accounts.choices.REGISTRABLE_USER_TYPES",
        "JobStatusEnum": "solarhub.models.JobStatus",
        "PlantStatusEnum": "plants.choices.PlantStatus",
        "DeviceStatusEnum": "plants.live.DeviceStatus",
        "AlarmSeverityEnum": "alarms.choices.Severity",
        "NotificationSeverityEnum": "accounts.choices.AlarmSeverity",
        "ShadowRunStatusEnum": "shadow.choices.ShadowRunStatus",
    },
}

JSON_CAMEL_CASE = {
    "RENDERER_CLASS": "rest_framework.renderers.JSONRenderer",
}

CSRF_FAILURE_VIEW = "solarhub.api.errors.csrf_failure"

# --- CORS -----------------------------------------------------------------------------------
CORS_ALLOWED_ORIGINS = env_origins("CORS_ORIGINS", ["http://localhost:5173"])
CORS_ALLOW_CREDENTIALS = True
CORS_EXPOSE_HEADERS = ["X-Total-Count", "X-Page", "X-Page-Size", "X-Skip", "X-Limit", "Link", "Retry-After"]

# --- email ----------------------------------------------------------------------------------
_email = env_email("EMAIL_URL", "consolemail://")
EMAIL_BACKEND = _email["EMAIL_BACKEND"]
EMAIL_HOST = _email.get("EMAIL_HOST", "")
EMAIL_PORT = _email.get("EMAIL_PORT") or 25
EMAIL_HOST_USER = _email.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = _email.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = _email.get("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = _email.get("EMAIL_USE_SSL", False)
if "EMAIL_FILE_PATH" in _email:  # filemail:///abs/path: one .log file per message (development, tests)
    EMAIL_FILE_PATH = "/" + _email["EMAIL_FILE_PATH"].lstrip("/")  # django-environ drops the leading /
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "SolarHub <noreply@solarhub.local>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- i18n, static ---------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(DATA_DIR / "media")))
MEDIA_URL = "media/"
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 10 * 1024 * 1024, minimum=1024)

# --- logging --------------------------------------------------------------------------------
LOG_LEVEL = env_str("LOG_LEVEL", "INFO").upper()
if LOG_LEVEL not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured(f"LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL; got {LOG_LEVEL!r}.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # Django's default config gives "django" a console handler of its own (DEBUG only) and
        # lets it propagate to root as well: every line printed twice under `make run`. Here it
        # only propagates to root's handler.
        "django": {"handlers": [], "level": LOG_LEVEL, "propagate": True},
        "django.db.backends": {"level": "WARNING"},
        # pymodbus logs every failed connect/read at ERROR with a traceback; the collector records
        # each failure on the device's config (lastPoll.error), so only its criticals are kept.
        "pymodbus": {"level": "CRITICAL"},
    },
}

HEALTH_CHECK_TIMEOUT = 2.0  # seconds per dependency in /health/detailed
# /health/detailed shows its dependency details to plant_admins (JWT or admin session) and to
# requests carrying this token (`X-Health-Token: …` or `Authorization: Bearer …`); everybody
# else gets the overall status only. Empty: no token is accepted.
HEALTH_TOKEN = env_str("HEALTH_TOKEN", "")
if HEALTH_TOKEN and len(HEALTH_TOKEN) < 16:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("HEALTH_TOKEN must be at least 16 characters (or unset).")

# --- outbound webhooks (alarms/webhook_transport.py) ----------------------------------------
# Webhook hosts are resolved at send time and only public addresses are connected to (never
# private, loopback, link-local, CGNAT, multicast, reserved or cloud-metadata ranges); redirects
# are never followed. true: private and loopback addresses are allowed too (local development,
# tests with a receiver on 127.0.0.1) — never in production.
WEBHOOK_ALLOW_PRIVATE = env_bool("WEBHOOK_ALLOW_PRIVATE", False)
WEBHOOK_TIMEOUT_SECONDS = env_int("WEBHOOK_TIMEOUT_SECONDS", 5, minimum=1, maximum=60)

# --- data collector (collector/) -------------------------------------------------------------
# Polls devices that cannot push (SunSpec Modbus TCP, HTTP JSON) from a worker that can reach
# them. Per worker task: at most COLLECTOR_CONCURRENCY reads in flight, COLLECTOR_BATCH devices
# per task; a device failing COLLECTOR_ALARM_AFTER polls in a row raises its plant's
# communication-loss alarm; retries back off exponentially up to COLLECTOR_MAX_BACKOFF_SECONDS.
COLLECTOR_CONCURRENCY = env_int("COLLECTOR_CONCURRENCY", 20, minimum=1, maximum=500)
COLLECTOR_BATCH = env_int("COLLECTOR_BATCH", 25, minimum=1, maximum=1000)
COLLECTOR_ALARM_AFTER = env_int("COLLECTOR_ALARM_AFTER", 3, minimum=1)
COLLECTOR_MAX_BACKOFF_SECONDS = env_int("COLLECTOR_MAX_BACKOFF_SECONDS", 3600, minimum=30)
