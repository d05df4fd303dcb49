"""Brute-force protection for password sign-ins.

DRF's rate throttles count every request; a password-guessing defence must count *failures*.
Only password sign-ins count (``accounts.api.views._password_sign_in``). A refused refresh token
or Google ID token is not a guess at anything: both are signatures (ours, HS256 with the secret
key; Google's, RS256) that cannot be found by trying, and a browser's tabs racing to refresh one
token must not lock its user out. Those endpoints have only the per-address request rate of
:class:`AuthRateThrottle` (``THROTTLE_AUTH_RATE``), which bounds the load they can cause; that
is all they need.

Two counters, following OWASP's authentication cheat sheet:

* per (username, address), ``AUTH_MAX_FAILURES``: one person's typos lock that person out from
  that address only — not everyone else behind the same office NAT, and not that person from
  their phone. A correct password clears this counter.
* per address, ``AUTH_MAX_FAILURES_PER_ADDRESS`` (much higher): an address trying many
  usernames (credential stuffing, password spraying) is stopped. A success does not clear it,
  or one valid account would let an attacker reset the counter between guesses.

There is deliberately no per-username lockout from everywhere: anyone who knows or guesses a
username could then keep its owner locked out. Once either counter reaches its threshold within
``AUTH_FAILURE_WINDOW``, password sign-ins of that pair / from that address answer 429 (with
``Retry-After``) until the window has passed. The counter is per *account*: the typed
username or e-mail is resolved as the backends resolve it (an unknown identifier counts as typed,
trimmed and case-folded), so guesses by username and by e-mail add up (issue 15). The client
cannot tell which, so nothing about which e-mail and username belong together leaks. An ``email``
sent instead of ``username`` (seeds 002/004) resolves the same way.

The address is DRF's ``get_ident`` (REST_FRAMEWORK ``NUM_PROXIES``, env ``NUM_PROXIES``; 0 by
default: REMOTE_ADDR). Counters live in the Django cache (Redis when configured), so every web
process shares them; ``cache.add`` + ``cache.incr`` keep them exact under concurrency.
"""

from __future__ import annotations

import hashlib
import time

from django.conf import settings
from django.core.cache import cache
from rest_framework.exceptions import Throttled
from rest_framework.throttling import AnonRateThrottle

LOCKED_DETAIL = "Too many failed attempts; try again later."


class AuthRateThrottle(AnonRateThrottle):
    """Per-address request rate on every auth endpoint (``THROTTLE_AUTH_RATE``), signed in or not."""

    scope = "auth"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


def client_address(request) -> str:
    """The client address throttles use (``NUM_PROXIES`` decides whether X-Forwarded-For counts)."""
    return AnonRateThrottle().get_ident(request) or ""


def _digest(*parts: str) -> str:
    # Hashed: nothing a client sends ends up verbatim in a cache key.
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:32]


def _identity(username: str) -> str:
    """Whom a sign-in is for: the account the typed identifier names — by username or by e-mail,
    as the authentication backends resolve it — so that 5 guesses by username and 5 by e-mail
    are 5 guesses at one account, not 10; an identifier no account has counts as typed (so
    probing unknown names is throttled too). One query, made for every attempt alike, and never
    told to the client: the answer is the same 401 whether or not the account exists."""
    from django.contrib.auth import get_user_model
    from django.db.models import Q

    typed = username.strip()
    if typed and "\x00" not in typed and len(typed) <= 254:
        account = (
            get_user_model()
            .objects.filter(Q(username__iexact=typed) | Q(email__iexact=typed))
            .order_by("id")
            .values_list("id", flat=True)
            .first()
        )
        if account is not None:
            return f"account:{account}"
    return f"typed:{typed.lower()}"


def _counters(request, username: str) -> list[tuple[str, int]]:
    """(cache key, threshold) of the counters a password sign-in of ``username`` touches."""
    address = client_address(request)
    return [
        (f"authfail:addr:{_digest(address)}", settings.AUTH_MAX_FAILURES_PER_ADDRESS),
        (f"authfail:user-addr:{_digest(_identity(username), address)}", settings.AUTH_MAX_FAILURES),
    ]


def sign_in_lockout_check(*, request, username: str) -> None:
    """Raise 429 (with Retry-After) while this username from this address, or this address,
    is locked out."""
    now = time.time()
    keys = [f"{key}:locked" for key, _ in _counters(request, username)]
    locked = [until for until in cache.get_many(keys).values() if until and until > now]
    if locked:
        raise Throttled(wait=max(1, int(max(locked) - now)), detail=LOCKED_DETAIL)


def sign_in_failure_record(*, request, username: str) -> None:
    """Count one failed password sign-in for (username, address) and for the address."""
    window = max(1, int(settings.AUTH_FAILURE_WINDOW.total_seconds()))
    for key, threshold in _counters(request, username):
        cache.add(key, 0, timeout=window)
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=window)
            count = 1
        if count >= threshold:
            # add, not set: failures racing past the threshold do not push the end further out.
            cache.add(f"{key}:locked", time.time() + window, timeout=window)


def sign_in_success_record(*, request, username: str) -> None:
    """A correct password clears the (username, address) counter — not the address's."""
    _, (pair_key, _) = _counters(request, username)
    cache.delete_many([pair_key, f"{pair_key}:locked"])
