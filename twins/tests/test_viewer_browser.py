"""The viewer page in a real headless Chromium, served by gunicorn on the test database: it
loads the GLB (three.js from the vendored files), draws a non-blank canvas, logs no errors."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore

from solarhub.testing.browser import Browser, png_pixels
from solarhub.testing.server import gunicorn_server
from solarhub.testing.tools import chromium
from solarhub.tests.test_health import _current_database_url
from twins.services import twin_regenerate

from .helpers import roof_configure

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

BACKGROUND = (0xDF, 0xE9, 0xF3)


def _session_cookie(user) -> str:
    """A database session for ``user``, as a sign-in would make (gunicorn reads the same DB)."""
    store = SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    return store.session_key


def test_viewer_renders_the_twin_in_headless_chromium(settings, customer, own_plant):
    binary = chromium()
    roof_configure(own_plant)
    twin, _ = twin_regenerate(
        plant=own_plant,
        by=None,
        obstacles=[
            {"type": "structure", "position": [0, 1.25, -14], "dimensions": {"length": 1, "width": 1, "height": 2.5}}
        ],
    )
    if django_settings.SESSION_ENGINE != "django.contrib.sessions.backends.db":
        pytest.skip("the test signs in with a database session")
    cookie = _session_cookie(customer)
    env = {"DATABASE_URL": _current_database_url(settings)}
    with gunicorn_server(env) as base:
        browser = Browser(binary)
        try:
            browser.call(
                "Network.setCookie",
                session=True,
                name=django_settings.SESSION_COOKIE_NAME,
                value=cookie,
                url=base,
                httpOnly=True,
            )
            browser.call("Page.navigate", session=True, url=f"{base}/twins/{twin.pk}/view")
            state = browser.wait_for(
                "document.body && document.body.dataset.state !== 'loading' && document.body.dataset.state", 90
            )
            viewer = browser.evaluate("window.twinViewer")
            assert state == "ready", (viewer, browser.console_errors())
            assert viewer["objects"] == twin.object_count
            assert viewer["counts"]["solar_panel"] == 240
            assert viewer["instanced"] >= 240  # the panels are one InstancedMesh
            shot = browser.screenshot()
            width, height, rows = png_pixels(shot)
            errors = browser.console_errors()
        finally:
            browser.close()
    if os.environ.get("TWIN_SCREENSHOT"):
        Path(os.environ["TWIN_SCREENSHOT"]).write_bytes(shot)
    assert not errors, errors
    # the canvas is not blank: far more than the legend's pixels differ from the background
    differing = sum(
        1
        for row in rows[:: max(1, height // 100)]
        for x in range(0, width * 4, 4 * max(1, width // 100))
        if max(abs(row[x] - BACKGROUND[0]), abs(row[x + 1] - BACKGROUND[1]), abs(row[x + 2] - BACKGROUND[2])) > 24
    )
    assert differing > 1000, differing
