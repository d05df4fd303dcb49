"""Run the real WSGI app in a gunicorn subprocess, for tests that need a separate process
(another database URL, a dead dependency) and speak HTTP to it."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http_get(url: str, timeout: float = 15.0) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 -- loopback only
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


@contextlib.contextmanager
def gunicorn_server(env: dict[str, str], settings_module: str = "solarhub.settings.test") -> Iterator[str]:
    port = free_port()
    full_env = {**os.environ, **env, "DJANGO_SETTINGS_MODULE": settings_module}
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    # The server's output goes to a file, never a pipe: nobody reads a pipe while the test runs,
    # and once its 64 KB buffer is full (a fuzz run logs every 4xx) gunicorn blocks on write and
    # stops answering — the fuzz test hung until its timeout.
    log = tempfile.TemporaryFile()  # noqa: SIM115 -- lives as long as the server, closed below
    process = subprocess.Popen(
        [gunicorn, "solarhub.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "1", "--timeout", "30"],
        cwd=ROOT,
        env=full_env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                log.seek(0)
                output = log.read().decode(errors="replace")
                raise RuntimeError(f"gunicorn exited with {process.returncode}:\n{output}")
            try:
                if http_get(f"{base}/health/live", timeout=2)[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("gunicorn did not answer /health/live within 30 s")
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


# ``serve_forever`` checks for ``shutdown()`` once per poll interval (0.5 s by default): every
# test stopping a loopback server waited up to half a second for it. 10 ms costs nothing.
POLL_INTERVAL = 0.01


@contextlib.contextmanager
def http_server_running(server) -> Iterator[threading.Thread]:
    """Serve ``server`` (a ``socketserver`` server, e.g. ``ThreadingHTTPServer``) from a daemon
    thread for the ``with`` block, then shut it down and close its socket."""
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": POLL_INTERVAL}, daemon=True)
    thread.start()
    try:
        yield thread
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
