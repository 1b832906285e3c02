"""One logical call across its HTTP attempts: the SDK's retries and our fallbacks share one audit event.

The clients open a ``CallScope`` around the official SDK's ``request()`` (which holds its retry loop); the
transport, running inside it on the same thread or task, finds it through a context variable. A call that
ends with an exception is recorded here, with the exception the caller sees.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from deepsentinel.calls import CallRecord
    from deepsentinel.wire.guard import RequestCheck


@dataclass
class CallScope:
    """What the attempts of one call share: its audit record, its request check and its deadline."""

    deadline: float | None = None  # time.monotonic() by which the whole call, a stream included, must end
    started: float = field(default_factory=time.monotonic)
    call: CallRecord | None = None
    check: RequestCheck | None = field(default=None, repr=False)
    body: bytes | None = field(default=None, repr=False)  # the body ``check`` was made for


_current: ContextVar[CallScope | None] = ContextVar("deepsentinel_call_scope", default=None)


def current_scope() -> CallScope | None:
    return _current.get()


@contextmanager
def call_scope(timeout: float | None = None) -> Iterator[CallScope]:
    """Open a scope for one call; ``timeout`` (seconds) bounds the whole call."""
    scope = CallScope(deadline=time.monotonic() + timeout if timeout else None)
    token = _current.set(scope)
    try:
        yield scope
    except BaseException as exc:
        if scope.call is not None:
            scope.call.finish_with_error(exc)
        raise
    finally:
        _current.reset(token)


__all__ = ["CallScope", "call_scope", "current_scope"]
