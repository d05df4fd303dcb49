"""Settings fail fast: a bad environment value raises ImproperlyConfigured naming the variable."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured

from solarhub.settings import env as envmod
from solarhub.testing.server import ROOT


@pytest.mark.parametrize(
    ("reader", "name", "value"),
    [
        (lambda: envmod.env_bool("DEBUG", False), "DEBUG", "maybe"),
        (lambda: envmod.env_int("API_MAX_PAGE_SIZE", 10, minimum=1), "API_MAX_PAGE_SIZE", "ten"),
        (lambda: envmod.env_int("API_MAX_PAGE_SIZE", 10, minimum=1), "API_MAX_PAGE_SIZE", "0"),
        (lambda: envmod.env_duration("JWT_ACCESS_TOKEN_LIFETIME", timedelta(1)), "JWT_ACCESS_TOKEN_LIFETIME", "soon"),
        (lambda: envmod.env_duration("JWT_ACCESS_TOKEN_LIFETIME", timedelta(1)), "JWT_ACCESS_TOKEN_LIFETIME", "0m"),
        (lambda: envmod.env_origins("CORS_ORIGINS", []), "CORS_ORIGINS", "localhost:5173"),
        (lambda: envmod.env_origins("CORS_ORIGINS", []), "CORS_ORIGINS", "https://ok.example,https://x.example/path"),
        (lambda: envmod.env_database("DATABASE_URL", "sqlite:///x"), "DATABASE_URL", "mysql://root@localhost/db"),
        (lambda: envmod.env_database("DATABASE_URL", "sqlite:///x"), "DATABASE_URL", "postgres://host:5432"),
        (lambda: envmod.env_redis_url("REDIS_URL"), "REDIS_URL", "http://localhost:6379"),
        (lambda: envmod.env_redis_url("REDIS_URL"), "REDIS_URL", "redis://localhost:port/0"),
        (lambda: envmod.env_email("EMAIL_URL", "consolemail://"), "EMAIL_URL", "pigeon://coop"),
        (lambda: envmod.env_str("SECRET_KEY", required=True), "SECRET_KEY", ""),
    ],
)
def test_bad_values_name_the_variable(monkeypatch, reader, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(ImproperlyConfigured, match=name):
        reader()


def test_good_values_parse(monkeypatch):
    monkeypatch.setenv("DEBUG", "on")
    monkeypatch.setenv("JWT_REFRESH_TOKEN_LIFETIME", "7d")
    monkeypatch.setenv("CORS_ORIGINS", "http://localhost:5173, https://app.example.com/")
    monkeypatch.setenv("DATABASE_URL", "postgres://u:p@db.internal:6432/solar")
    assert envmod.env_bool("DEBUG", False) is True
    assert envmod.env_duration("JWT_REFRESH_TOKEN_LIFETIME", timedelta(0)) == timedelta(days=7)
    assert envmod.env_origins("CORS_ORIGINS", []) == ["http://localhost:5173", "https://app.example.com"]
    db = envmod.env_database("DATABASE_URL", "sqlite:///x")
    assert (db["HOST"], db["PORT"], db["NAME"]) == ("db.internal", 6432, "solar")
    assert db["OPTIONS"]["connect_timeout"] == 5


def _boot(settings_module: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "ALLOWED_HOSTS", "DEBUG"}}
    clean.update(env, DJANGO_SETTINGS_MODULE=settings_module)
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); print('booted')"],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_refuses_to_start_without_secret_key():
    result = _boot("solarhub.settings.production", ALLOWED_HOSTS="solar.example")
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and "SECRET_KEY" in result.stderr


def test_production_starts_with_required_settings():
    result = _boot("solarhub.settings.production", SECRET_KEY="k" * 50, ALLOWED_HOSTS="solar.example")
    assert result.returncode == 0, result.stderr
    assert "booted" in result.stdout


def test_a_typo_in_any_variable_stops_start_up():
    result = _boot("solarhub.settings.local", DEBUG="ture")
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and "DEBUG" in result.stderr


def test_every_setting_the_code_reads_is_declared():
    """``settings.X`` and ``getattr(settings, "X", default)`` in product code name settings the
    settings module declares (and so the README's configuration table can list): a default hidden
    at the call site is a setting nobody can find."""
    import re
    from pathlib import Path

    from django.conf import settings as django_settings

    root = Path(__file__).resolve().parents[2]
    pattern = re.compile(r"\bsettings\.([A-Z][A-Z0-9_]+)|getattr\(\s*settings,\s*[\"']([A-Z][A-Z0-9_]+)")
    missing = set()
    for path in root.glob("*/**/*.py"):
        relative = path.relative_to(root)
        if relative.parts[0] in {".venv", "bench"} or "tests" in relative.parts or "migrations" in relative.parts:
            continue
        for match in pattern.finditer(path.read_text()):
            name = match.group(1) or match.group(2)
            if not hasattr(django_settings, name):
                missing.add(f"{relative}: {name}")
    assert not missing, sorted(missing)


def test_celery_and_wsgi_default_to_the_same_settings_module():
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    default = re.compile(r'setdefault\("DJANGO_SETTINGS_MODULE", "([\w.]+)"\)')
    modules = {
        name: default.search((root / "solarhub" / name).read_text()).group(1)
        for name in ("celery.py", "wsgi.py", "asgi.py")
    }
    assert set(modules.values()) == {"solarhub.settings.production"}, modules
