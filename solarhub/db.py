"""Statements on the hot read paths, bound on the server.

Django's PostgreSQL cursors bind parameters on the client (psycopg's ``ClientCursor``): every
statement is sent as text, parsed and planned by PostgreSQL on each execution, and results come
back as text parsed value by value in Python. For the few statements every API request or every
series runs (the token's user, the device scope, the rollup rows), :func:`server_cursor` gives a
server-binding psycopg cursor instead, wrapped the way Django wraps its own — query logging,
``execute_wrapper`` hooks and query-count tests still see every statement — so that

* with ``DATABASE_PREPARED_STATEMENTS`` (the default) psycopg prepares a statement after a few
  executions on a connection: it is parsed and planned once per connection, not per request;
* ``binary=True`` receives results in binary (floats and timestamps without text parsing: a
  720-row series read 5.7 ms as text, 4.2 ms binary).

Only literal SQL with ``%s`` placeholders goes here; the ORM keeps everything else.
"""

from __future__ import annotations

from datetime import UTC, datetime

import psycopg
import psycopg.types.datetime
from django.db import connection
from psycopg.pq import Format


def server_cursor(*, binary: bool = False):
    """A server-binding cursor on Django's default connection (PostgreSQL only)."""
    connection.ensure_connection()
    raw = psycopg.Cursor(connection.connection)
    if binary:
        raw.format = Format.BINARY
    return connection._prepare_cursor(raw)


def hot_cursor():
    """:func:`server_cursor` on PostgreSQL, Django's ordinary cursor elsewhere (SQLite)."""
    return server_cursor() if connection.vendor == "postgresql" else connection.cursor()


class _UtcDatetimeDumper(psycopg.types.datetime.DatetimeDumper):
    """Aware datetimes are sent in UTC. Python allows UTC offsets up to ±23:59, PostgreSQL's
    timestamptz input only up to ±15:59: a client's ``since=…+16:00`` (valid ISO 8601) was a
    DataError, i.e. a 500. The instant is the same; only its spelling changes."""

    def dump(self, obj):
        return super().dump(obj.astimezone(UTC) if obj.tzinfo is not None else obj)


def utc_datetime_dumpers_register() -> None:
    """Once per process, before connections open (psycopg copies the global adapters map)."""
    psycopg.adapters.register_dumper(datetime, _UtcDatetimeDumper)
