"""Brute-force protection for sign-in endpoints.

DRF's rate throttles count every request; a password-guessing defence must count *failures*,
per client address and per username, and refuse further attempts for a while once either
passes ``AUTH_MAX_FAILURES`` within ``AUTH_FAILURE_WINDOW``. Counters live in the Django cache
(Redis when configured), so every web process shares them.
"""

from __future__ import annotations

import hashlib
import time

from django.conf import settings
from django.core.cache import cache
from rest_framework.exceptions import Throttled
from rest_framework.throttling import AnonRateThrottle


class AuthRateThrottle(AnonRateThrottle):
    """Per-address request rate on every auth endpoint (``THROTTLE_AUTH_RATE``), signed in or not."""

    scope = "auth"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


def _keys(request, username: str | None) -> list[str]:
    address = AnonRateThrottle().get_ident(request)
    keys = [f"authfail:ip:{address}"]
    if username:
        digest = hashlib.sha256(username.strip().lower().encode()).hexdigest()[:32]
        keys.append(f"authfail:user:{digest}")
    return keys


def auth_failures_check(*, request, username: str | None) -> None:
    """Raise 429 (with Retry-After) while the address or the username is locked out."""
    now = time.time()
    for key in _keys(request, username):
        locked_until = cache.get(f"{key}:locked")
        if locked_until and locked_until > now:
            raise Throttled(wait=max(1, int(locked_until - now)), detail="Too many failed attempts; try again later.")


def auth_failure_record(*, request, username: str | None) -> None:
    window = int(settings.AUTH_FAILURE_WINDOW.total_seconds())
    for key in _keys(request, username):
        cache.add(key, 0, timeout=window)
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=window)
            count = 1
        if count >= settings.AUTH_MAX_FAILURES:
            cache.set(f"{key}:locked", time.time() + window, timeout=window)


def auth_success_record(*, request, username: str | None) -> None:
    """A correct password clears the username's counter (not the address's)."""
    keys = _keys(request, username)
    if len(keys) > 1:
        cache.delete_many([keys[1], f"{keys[1]}:locked"])
