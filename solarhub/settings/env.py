"""Strict environment readers.

django-environ parses URLs well but is lenient elsewhere (``DEBUG=maybe`` silently becomes
False). Every reader here raises ``ImproperlyConfigured`` naming the variable, so a typo in a
deployment fails at start-up instead of running with a surprising value.
"""

from __future__ import annotations

import os
import re
from datetime import timedelta
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on", "y", "t"}
_FALSE = {"0", "false", "no", "off", "n", "f", ""}
_DURATION = re.compile(r"^\s*(\d+)\s*([smhdw]?)\s*$", re.IGNORECASE)
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DB_SCHEMES = {"postgres", "postgresql", "pgsql", "psql", "sqlite"}
_REDIS_SCHEMES = {"redis", "rediss", "unix"}


def _raw(name: str) -> str | None:
    value = os.environ.get(name)
    return None if value is None else value.strip()


def env_str(name: str, default: str | None = None, *, required: bool = False) -> str | None:
    value = _raw(name)
    if value is None or value == "":
        if required:
            raise ImproperlyConfigured(f"Set the {name} environment variable.")
        return default
    if "\x00" in value:
        raise ImproperlyConfigured(f"{name} contains a NUL byte.")
    return value


def env_bool(name: str, default: bool) -> bool:
    value = _raw(name)
    if value is None:
        return default
    lowered = value.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (true/false, 1/0, yes/no, on/off); got {value!r}.")


def env_int(name: str, default: int, *, minimum: int | None = None, maximum: int | None = None) -> int:
    value = _raw(name)
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer; got {value!r}.") from None
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}; got {number}.")
    if maximum is not None and number > maximum:
        raise ImproperlyConfigured(f"{name} must be at most {maximum}; got {number}.")
    return number


def env_list(name: str, default: list[str]) -> list[str]:
    value = _raw(name)
    if value is None:
        return list(default)
    return [item.strip() for item in value.split(",") if item.strip()]


def env_duration(name: str, default: timedelta) -> timedelta:
    """A duration such as ``30m``, ``12h``, ``7d``, ``2w`` or plain seconds (``1800``)."""
    value = _raw(name)
    if value is None or value == "":
        return default
    match = _DURATION.match(value)
    if not match or int(match.group(1)) == 0:
        raise ImproperlyConfigured(
            f"{name} must be a positive duration such as 30m, 12h, 7d or a number of seconds; got {value!r}."
        )
    return timedelta(seconds=int(match.group(1)) * _UNIT_SECONDS[match.group(2).lower()])


def env_duration_aliased(name: str, alias: str, default: timedelta) -> timedelta:
    """``name``, else ``alias`` (another document's name for the same setting), else ``default``.

    Our own name wins: the alias is read only while ``name`` is unset. Both set to durations
    that differ (``900`` and ``15m`` do not) is ambiguous — a copied ``.env`` beside ours — and
    stops start-up naming both, rather than silently ignoring one of them."""
    ours = env_duration(name, None)
    theirs = env_duration(alias, None)
    if ours is not None and theirs is not None and ours != theirs:
        raise ImproperlyConfigured(
            f"{name} ({_raw(name)}) and its alias {alias} ({_raw(alias)}) are both set and disagree; unset one of them."
        )
    return ours or theirs or default


def env_origins(name: str, default: list[str]) -> list[str]:
    """CORS origins: ``scheme://host[:port]`` with no path, as browsers send them."""
    origins = env_list(name, default)
    for origin in origins:
        parts = urlsplit(origin)
        if parts.scheme not in {"http", "https"} or not parts.netloc or parts.path not in {"", "/"}:
            raise ImproperlyConfigured(
                f"{name} must be a comma-separated list of origins like https://app.example.com; got {origin!r}."
            )
    return [origin.rstrip("/") for origin in origins]


PREPARE_THRESHOLD = 5  # executions of one statement on a connection before psycopg prepares it
SQLITE_BUSY_TIMEOUT = 20  # seconds a SQLite writer waits for another's lock before "database is locked"


def env_database(name: str, default: str) -> dict:
    value = env_str(name, default) or default
    scheme = urlsplit(value).scheme
    if scheme not in _DB_SCHEMES:
        raise ImproperlyConfigured(f"{name} must be a postgres:// or sqlite:// URL; got scheme {scheme!r}.")
    try:
        config = environ.Env.db_url_config(value)
    except Exception as exc:  # noqa: BLE001 -- django-environ raises assorted errors for malformed URLs
        raise ImproperlyConfigured(f"{name} is not a valid database URL: {exc}") from None
    if config["ENGINE"].endswith("postgresql"):
        if not config.get("NAME"):
            raise ImproperlyConfigured(f"{name} must name a database, e.g. postgres://user@host:5432/solarhub.")
        config.setdefault("OPTIONS", {}).setdefault("connect_timeout", 5)
        config["CONN_MAX_AGE"] = env_int("DATABASE_CONN_MAX_AGE", 60, minimum=0)
        config["CONN_HEALTH_CHECKS"] = True
        # Server-side prepared statements for what psycopg binds on the server (the hot reads of
        # solarhub.db.server_cursor: rollup rows, the token's user, the device scope; Django's own
        # queries bind on the client and are never prepared): planned once per connection, not
        # per request. Off for PgBouncer in transaction mode before 1.21, which cannot route them.
        prepared = env_bool("DATABASE_PREPARED_STATEMENTS", True)
        config["OPTIONS"].setdefault("prepare_threshold", PREPARE_THRESHOLD if prepared else None)
    else:
        # SQLite (`make run`) has two writers in one process: requests and the background thread
        # of eager tasks (solarhub/background.py). BEGIN IMMEDIATE takes the write lock up front,
        # so a second writer waits up to `timeout` seconds for it; with SQLite's default deferred
        # BEGIN, a transaction that read first and then writes while another holds the lock fails
        # at once with "database is locked". WAL lets reads proceed beside the writer.
        options = config.setdefault("OPTIONS", {})
        options.setdefault("transaction_mode", "IMMEDIATE")
        options.setdefault("timeout", SQLITE_BUSY_TIMEOUT)
        options.setdefault("init_command", "PRAGMA journal_mode=WAL;")
    return config


def env_redis_url(name: str) -> str | None:
    value = env_str(name)
    if value is None:
        return None
    parts = urlsplit(value)
    if parts.scheme not in _REDIS_SCHEMES or (parts.scheme != "unix" and not parts.hostname):
        raise ImproperlyConfigured(f"{name} must be a redis://host:port/db URL; got {value!r}.")
    try:
        parts.port  # noqa: B018 -- raises ValueError on a non-numeric port
    except ValueError:
        raise ImproperlyConfigured(f"{name} has an invalid port: {value!r}.") from None
    return value


def env_email(name: str, default: str) -> dict:
    value = env_str(name, default) or default
    try:
        return environ.Env.email_url_config(value)
    except Exception as exc:  # noqa: BLE001 -- any parse failure is a configuration error
        raise ImproperlyConfigured(f"{name} is not a valid email URL (smtp://user:pass@host:587): {exc}") from None
