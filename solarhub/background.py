"""In-process background work for the zero-setup mode (no broker: Celery runs tasks eagerly).

Why this exists: eager Celery runs a task in the caller's thread, so the work an ingest hands
over after its commit (alarm evaluation, then notifications) ran inside the HTTP request and made
``POST /api/telemetry/ingest`` an order of magnitude slower than with a broker. With
``CELERY_EAGER_BACKGROUND`` on, :class:`solarhub.celery.BaseTask` hands eager tasks to the one
:class:`BackgroundExecutor` of the process instead, and the response returns after the commit.

How it behaves, and why:

* **One worker thread**, a daemon started lazily on the first hand-over (and again in a forked
  child: a gunicorn worker never inherits its master's queue or thread). One thread keeps the
  tasks in order and never runs two evaluations against each other.
* **Bounded queue** of ``max_pending`` items, FIFO. **Backpressure: when it is full, the work runs
  inline in the caller's thread**, exactly as plain eager Celery would (exceptions propagate
  likewise). The caller slows down, memory stays bounded, nothing is dropped.
* **Coalescing**, opted into per task (``BaseTask.coalesce``): a new call merges into the same
  task's pending, not yet started, call instead of queueing another — a burst of ingests becomes
  one alarm evaluation covering every touched device. A merge never needs room in the queue.
* **No deadlock from inside**: work handed over by a running item (a notification after an alarm
  opens) is queued like any other and never waited for; ``drain`` refuses to run on the worker.
* **Database connections** are handled as a request's are: ``close_old_connections()`` before and
  after each item (``CONN_MAX_AGE`` and broken connections respected), and every connection of the
  thread is closed whenever the queue goes idle, so an idle process holds none.
* **Failures** are logged (``solarhub.background``) and the next item runs; the thread never dies.
* **Exit**: at interpreter exit the queue is drained for at most ``SHUTDOWN_TIMEOUT`` seconds; what
  is still queued then is lost, as it is on a hard kill. For alarm evaluation that is acceptable:
  each (rule, device) state row remembers how far the data was read (``evaluated_until``), so the
  next evaluation of that device reads everything after it and catches up.

Not a job queue: nothing is persisted and results are not kept (job state lives in the jobs'
own status rows). With a broker, none of this is used.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from django.db import close_old_connections, connections

logger = logging.getLogger("solarhub.background")

MAX_PENDING = 1000  # queued items (coalesced calls count once); beyond: run inline in the caller
SHUTDOWN_TIMEOUT = 5.0  # seconds the queue may take to drain at interpreter exit

Call = tuple[tuple[Any, ...], dict[str, Any]]
"""Positional and keyword arguments of one call."""

Merge = Callable[[Call, Call], Call | None]
"""``merge(pending, incoming)``: the arguments of one call doing the work of both, or None when
the two cannot be merged (the incoming call is then queued on its own)."""


class Outcome(StrEnum):
    """What :meth:`BackgroundExecutor.submit` did with the work."""

    QUEUED = "queued"  # appended to the queue
    COALESCED = "coalesced"  # merged into a pending call of the same key
    INLINE = "inline"  # the queue was full (or the executor shut down): ran in the caller's thread


@dataclass(eq=False)
class _Work:
    func: Callable[..., object]
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    label: str
    key: Hashable | None = None
    merge: Merge | None = None

    def run(self) -> object:
        return self.func(*self.args, **self.kwargs)


@dataclass
class Stats:
    """Counters since start (diagnostics and tests)."""

    queued: int = 0
    coalesced: int = 0
    inline: int = 0
    done: int = 0
    failed: int = 0


class BackgroundExecutor:
    """One lazily started worker thread over a bounded, coalescing FIFO (see the module docstring)."""

    def __init__(self, *, max_pending: int = MAX_PENDING, name: str = "solarhub-background") -> None:
        if max_pending < 1:
            raise ValueError("max_pending must be at least 1")
        self.max_pending = max_pending
        self.name = name
        self._exit_registered = False
        self._reset()
        # A forked child (gunicorn worker, multiprocessing) gets fresh state: the parent's lock may
        # be held mid-operation and its queued work belongs to the parent.
        reset = weakref.WeakMethod(self._reset)
        os.register_at_fork(after_in_child=lambda: (method := reset()) and method())

    def _reset(self) -> None:
        self._cond = threading.Condition()
        self._pending: deque[_Work] = deque()
        self._by_key: dict[Hashable, _Work] = {}
        self._busy = False
        self._closed = False
        self._thread: threading.Thread | None = None
        self._saturated = False
        self.stats = Stats()

    # --- handing work over ----------------------------------------------------------------------

    def submit(
        self,
        func: Callable[..., object],
        args: tuple[Any, ...] = (),
        kwargs: dict[str, Any] | None = None,
        *,
        key: Hashable | None = None,
        merge: Merge | None = None,
        label: str | None = None,
    ) -> Outcome:
        """Run ``func(*args, **kwargs)`` on the worker thread. With ``key`` and ``merge``, a call
        still pending under the same key absorbs this one (``merge(pending, incoming)``). When the
        queue is full the call runs here, in the caller's thread, before this returns."""
        work = _Work(func, tuple(args), dict(kwargs or {}), label or _label(func), key, merge)
        with self._cond:
            if not self._closed:
                if self._coalesce(work):
                    self.stats.coalesced += 1
                    return Outcome.COALESCED
                if len(self._pending) < self.max_pending:
                    self._pending.append(work)
                    if key is not None and merge is not None:
                        self._by_key[key] = work
                    self.stats.queued += 1
                    self._saturated = False
                    self._ensure_thread()
                    self._cond.notify_all()
                    return Outcome.QUEUED
                warn, self._saturated = not self._saturated, True
            else:
                warn = False
            self.stats.inline += 1
        if warn:
            logger.warning(
                "Background queue full (%d pending): running %s and further work inline in the caller until it drains",
                self.max_pending,
                work.label,
            )
        work.run()
        return Outcome.INLINE

    def _coalesce(self, work: _Work) -> bool:
        if work.key is None or work.merge is None:
            return False
        pending = self._by_key.get(work.key)
        if pending is None:
            return False
        try:
            merged = work.merge((pending.args, pending.kwargs), (work.args, work.kwargs))
        except Exception:
            logger.exception("Merging %s into its pending call failed; queueing it on its own", work.label)
            return False
        if merged is None:
            return False
        pending.args, pending.kwargs = tuple(merged[0]), dict(merged[1])
        return True

    def _ensure_thread(self) -> None:
        """Start the worker (under the lock) if it is not running: first use, or after a fork."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._thread = threading.Thread(target=self._loop, name=self.name, daemon=True)
        self._thread.start()
        if not self._exit_registered:
            self._exit_registered = True
            atexit.register(self._at_exit)

    # --- the worker -----------------------------------------------------------------------------

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._pending and not self._closed:
                    self._cond.wait()
                if not self._pending:  # closed and empty
                    break
                work = self._pending.popleft()
                if work.key is not None and self._by_key.get(work.key) is work:
                    del self._by_key[work.key]  # from now on a new call queues anew
                self._busy = True
            try:
                self._execute(work)
            finally:
                with self._cond:
                    idle = not self._pending
                if idle:
                    _close_connections()  # before drain() callers are told the queue is empty
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()
        _close_connections()

    def _execute(self, work: _Work) -> None:
        close_old_connections()
        try:
            work.run()
        except BaseException:  # a background failure must never kill the worker
            self.stats.failed += 1
            logger.exception("Background work %s failed", work.label)
        else:
            self.stats.done += 1
        finally:
            close_old_connections()

    # --- waiting, stopping ----------------------------------------------------------------------

    def in_worker_thread(self) -> bool:
        return self._thread is not None and threading.current_thread() is self._thread

    @property
    def pending(self) -> int:
        """Items queued and not yet started."""
        with self._cond:
            return len(self._pending)

    def drain(self, timeout: float | None = None) -> bool:
        """Wait until the queue is empty and nothing is running; False when ``timeout`` seconds
        passed first. For tests, management commands and shutdown; never from the worker itself
        (it would wait for itself), which raises RuntimeError."""
        if self.in_worker_thread():
            raise RuntimeError("drain() on the background worker thread would wait for itself")
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while self._pending or self._busy:
                if not self._closed:
                    self._ensure_thread()
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self._cond.wait(remaining)
            return True

    def shutdown(self, timeout: float | None = SHUTDOWN_TIMEOUT) -> bool:
        """Stop taking work (later hand-overs run inline), finish the queue within ``timeout``;
        False (and a warning naming what is lost) when it did not finish."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
            started = self._thread is not None
        if not started:
            return True
        drained = self.drain(timeout)
        if not drained:
            with self._cond:
                lost = [work.label for work in self._pending]
            logger.warning(
                "Background queue not drained within %ss at exit; %d queued item(s) are lost: %s",
                timeout,
                len(lost),
                ", ".join(lost[:10]),
            )
        return drained

    def _at_exit(self) -> None:
        try:
            self.shutdown(SHUTDOWN_TIMEOUT)
        except Exception:  # never turn interpreter exit into a traceback
            logger.exception("Background shutdown failed")


def _label(func: Callable[..., object]) -> str:
    return getattr(func, "__qualname__", None) or repr(func)


def _close_connections() -> None:
    try:
        connections.close_all()
    except Exception:
        logger.exception("Closing the background thread's database connections failed")


executor = BackgroundExecutor()
"""The process's executor: what ``BaseTask.apply_async`` hands eager tasks to."""


def enabled() -> bool:
    """Whether eager Celery tasks go to the background executor (``CELERY_EAGER_BACKGROUND``,
    read at call time so ``override_settings`` turns it on and off in tests)."""
    from django.conf import settings

    return bool(getattr(settings, "CELERY_EAGER_BACKGROUND", False))


def submit(
    func: Callable[..., object],
    args: tuple[Any, ...] = (),
    kwargs: dict[str, Any] | None = None,
    *,
    key: Hashable | None = None,
    merge: Merge | None = None,
    label: str | None = None,
) -> Outcome:
    """:meth:`BackgroundExecutor.submit` on the process's executor."""
    return executor.submit(func, args, kwargs, key=key, merge=merge, label=label)


def drain(timeout: float | None = None) -> bool:
    """:meth:`BackgroundExecutor.drain` on the process's executor: management commands call it
    before they return, so the alarms of what they stored are evaluated when they finish."""
    return executor.drain(timeout)


__all__ = [
    "MAX_PENDING",
    "SHUTDOWN_TIMEOUT",
    "BackgroundExecutor",
    "Call",
    "Merge",
    "Outcome",
    "drain",
    "enabled",
    "executor",
    "submit",
]
