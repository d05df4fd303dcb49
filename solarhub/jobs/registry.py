"""Job kinds → handler functions. A handler takes ``job=`` and returns the JSON ``result``."""

from __future__ import annotations

from collections.abc import Callable

JobHandler = Callable[..., dict]
_HANDLERS: dict[str, JobHandler] = {}


def register_job(kind: str) -> Callable[[JobHandler], JobHandler]:
    def decorator(func: JobHandler) -> JobHandler:
        if kind in _HANDLERS and _HANDLERS[kind] is not func:
            raise ValueError(f"Job kind {kind!r} is already registered.")
        _HANDLERS[kind] = func
        return func

    return decorator


def job_handler_for(kind: str) -> JobHandler:
    try:
        return _HANDLERS[kind]
    except KeyError:
        raise LookupError(f"No job handler registered for kind {kind!r}.") from None


def registered_job_kinds() -> list[str]:
    return sorted(_HANDLERS)
