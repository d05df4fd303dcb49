"""Seed 001's environment names: ``JWT_SECRET`` signs the tokens, ``JWT_EXPIRES_IN`` is an alias
of ``JWT_ACCESS_TOKEN_LIFETIME`` (ours wins; both set and different refuses to start)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from datetime import timedelta

import jwt
import pytest
from django.core.exceptions import ImproperlyConfigured

from accounts.services import user_create
from solarhub.settings import env as envmod
from solarhub.testing.server import ROOT, gunicorn_server
from solarhub.tests.test_health import _current_database_url

OURS, ALIAS = "JWT_ACCESS_TOKEN_LIFETIME", "JWT_EXPIRES_IN"
SEED_001_SECRET = "a-jwt-secret-of-at-least-32-characters-for-hs256"


def _lifetime() -> timedelta:
    return envmod.env_duration_aliased(OURS, ALIAS, timedelta(minutes=15))


@pytest.fixture
def clean_env(monkeypatch):
    for name in (OURS, ALIAS, "JWT_SECRET"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, timedelta(minutes=15)),
        ({ALIAS: "7d"}, timedelta(days=7)),  # seed 001's sample
        ({ALIAS: "24h"}, timedelta(hours=24)),
        ({OURS: "30m"}, timedelta(minutes=30)),
        ({OURS: "900", ALIAS: "15m"}, timedelta(minutes=15)),  # the same duration spelt two ways
        ({OURS: "30m", ALIAS: ""}, timedelta(minutes=30)),  # empty is unset
    ],
)
def test_jwt_expires_in_is_an_alias_read_while_ours_is_unset(clean_env, env, expected):
    for name, value in env.items():
        clean_env.setenv(name, value)
    assert _lifetime() == expected


def test_both_set_and_different_refuses_to_start_naming_both(clean_env):
    clean_env.setenv(OURS, "15m")
    clean_env.setenv(ALIAS, "7d")
    with pytest.raises(ImproperlyConfigured, match=f"{OURS} \\(15m\\) and its alias {ALIAS} \\(7d\\)"):
        _lifetime()


@pytest.mark.parametrize("value", ["7 days", "soon", "0"])
def test_a_malformed_alias_names_the_alias(clean_env, value):
    clean_env.setenv(ALIAS, value)
    with pytest.raises(ImproperlyConfigured, match=ALIAS):
        _lifetime()


def _boot(settings_module: str, **env: str) -> subprocess.CompletedProcess:
    """Start Django with exactly these JWT variables; print the effective simplejwt settings."""
    drop = {"SECRET_KEY", "ALLOWED_HOSTS", "DEBUG", OURS, ALIAS, "JWT_SECRET"}
    clean = {k: v for k, v in os.environ.items() if k not in drop}
    clean.update(env, DJANGO_SETTINGS_MODULE=settings_module)
    code = (
        "import django, json; django.setup(); "
        "from django.conf import settings; from rest_framework_simplejwt.settings import api_settings as s; "
        "print(json.dumps({'lifetime': s.ACCESS_TOKEN_LIFETIME.total_seconds(), "
        "'key_is_secret_key': s.SIGNING_KEY == settings.SECRET_KEY, 'key': s.SIGNING_KEY}))"
    )
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=60)


def _booted(result: subprocess.CompletedProcess) -> dict:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_unset_the_secret_key_signs_and_the_lifetime_is_ours():
    booted = _booted(_boot("solarhub.settings.local"))
    assert (booted["lifetime"], booted["key_is_secret_key"]) == (900, True)


def test_seed_001_names_take_effect_at_start_up():
    booted = _booted(_boot("solarhub.settings.local", JWT_SECRET=SEED_001_SECRET, JWT_EXPIRES_IN="7d"))
    assert booted == {"lifetime": 7 * 86400, "key_is_secret_key": False, "key": SEED_001_SECRET}


def test_a_conflicting_pair_stops_start_up():
    result = _boot("solarhub.settings.local", JWT_ACCESS_TOKEN_LIFETIME="15m", JWT_EXPIRES_IN="7d")
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and OURS in result.stderr and ALIAS in result.stderr


def test_production_refuses_a_short_jwt_secret():
    # seed 001's own sample value, "your-super-secret-jwt-key-here", is 30 characters
    production = {"SECRET_KEY": "k" * 50, "ALLOWED_HOSTS": "solar.example"}
    result = _boot("solarhub.settings.production", **production, JWT_SECRET="your-super-secret-jwt-key-here")
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and "JWT_SECRET" in result.stderr
    booted = _booted(_boot("solarhub.settings.production", **production, JWT_SECRET=SEED_001_SECRET))
    assert booted["key"] == SEED_001_SECRET


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_server_started_with_seed_001s_variables_signs_with_jwt_secret(settings):
    """Through HTTP, as the SPA signs in: the token is signed with JWT_SECRET and lives JWT_EXPIRES_IN."""
    user_create(email="spa@example.com", password="sunny-Panels-42", username="spa")
    env = {
        "DATABASE_URL": _current_database_url(settings),
        "JWT_SECRET": SEED_001_SECRET,
        "JWT_EXPIRES_IN": "24h",
        OURS: "",  # empty is unset, whatever this shell exports
    }
    body = json.dumps({"username": "spa", "password": "sunny-Panels-42", "userType": "customer"}).encode()
    with gunicorn_server(env) as base:
        request = urllib.request.Request(
            f"{base}/api/auth/login", data=body, headers={"Content-Type": "application/json"}, method="POST"
        )
        with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(request, timeout=15) as response:
            answer = json.loads(response.read())
    assert answer["expiresIn"] == 24 * 3600
    claims = jwt.decode(answer["token"], SEED_001_SECRET, algorithms=["HS256"])
    assert claims["exp"] - claims["iat"] == 24 * 3600
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(answer["token"], settings.SECRET_KEY, algorithms=["HS256"])
