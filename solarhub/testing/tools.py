"""External tools some tests drive: esbuild (parses the R3F script as JSX) and a headless
Chromium (renders the twin viewer). Locally a test skips when its tool is missing; in CI
(``SOLARHUB_REQUIRE_SERVICES=1``, set by ``.ci/run``, which installs both) it fails instead."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from .server import ROOT
from .services import services_required

ESBUILD_VERSION = "0.28.2"
TOOLS_DIR = ROOT / ".data" / "tools"  # npm packages for tests (.ci/run installs them here)


def _require(path: str | None, what: str, how: str) -> str:
    if path:
        return path
    message = f"{what} is not installed ({how})."
    if services_required():
        pytest.fail(f"{message} CI must have it: .ci/run installs it.")
    pytest.skip(message)


def esbuild() -> str:
    """The esbuild binary: ``ESBUILD_BIN``, one on the PATH, or the npm package in
    ``.data/tools`` (installed there with npm when npm is available)."""
    found = os.environ.get("ESBUILD_BIN") or shutil.which("esbuild")
    local = TOOLS_DIR / "node_modules" / ".bin" / "esbuild"
    if not found and not local.exists() and shutil.which("npm"):
        TOOLS_DIR.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                "npm",
                "install",
                "--no-save",
                "--no-audit",
                "--no-fund",
                "--prefix",
                str(TOOLS_DIR),
                f"esbuild@{ESBUILD_VERSION}",
            ],
            capture_output=True,
            timeout=300,
            check=False,
        )
    if not found and local.exists():
        found = str(local)
    return _require(found, "esbuild", f"npm install --prefix .data/tools esbuild@{ESBUILD_VERSION}")


def chromium() -> str:
    """A Chromium/Chrome binary: ``CHROMIUM_BIN`` or one on the PATH."""
    found = os.environ.get("CHROMIUM_BIN") or next(
        (path for name in ("chromium", "chromium-browser", "google-chrome") if (path := shutil.which(name))), None
    )
    return _require(found, "Chromium", "apt-get install -y chromium")


def jsx_parse(source: str) -> subprocess.CompletedProcess:
    """esbuild's JSX transform of ``source`` (exit status 0: it parses)."""
    return subprocess.run(
        [esbuild(), "--loader=jsx", "--format=esm", "--jsx=automatic", "--log-level=error"],
        input=source,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


__all__ = ["ESBUILD_VERSION", "TOOLS_DIR", "Path", "chromium", "esbuild", "jsx_parse"]
