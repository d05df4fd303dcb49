"""`make run` prints each log line once (Django's own console handler used to print every
``django.*`` line a second time beside root's)."""

from __future__ import annotations

import os
import subprocess
import sys

from solarhub.testing.server import ROOT

PROBE = """
import logging, django
django.setup()
logging.getLogger("django.request").warning("probe-line-django")
logging.getLogger("solarhub.api").warning("probe-line-app")
"""


def test_each_log_line_is_printed_once_with_the_developer_settings(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}}
    env.update(DJANGO_SETTINGS_MODULE="solarhub.settings.local", DEBUG="true", SOLARHUB_DATA_DIR=str(tmp_path))
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    output = result.stdout + result.stderr
    assert output.count("probe-line-django") == 1, output
    assert output.count("probe-line-app") == 1, output
