"""One logical call across its HTTP attempts: the SDK's retries and our fallbacks share one audit event.

The clients open a ``CallScope`` around the official SDK's ``request()`` (which holds its retry loop); the
transport, running inside it on the same thread or task, finds it through a context variable. A call that
ends with an exception is recorded here, with the exception the caller sees.
"""

from __future__ import annotations

import time
from contextvars import ContextVar, Token
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from deepsentinel.calls import CallRecord
    from deepsentinel.wire.guard import RequestCheck


@dataclass
class CallScope:
    """What the attempts of one call share: its audit record, its request check and its deadline.

    A context manager: inside ``with``, the transport finds it (``current_scope()``); a call that ends with an
    exception is recorded with it on the way out.
    """

    deadline: float | None = None  # time.monotonic() by which the whole call, a stream included, must end
    call: CallRecord | None = None
    check: RequestCheck | None = field(default=None, repr=False)
    body: bytes | None = field(default=None, repr=False)  # the body ``check`` was made for
    max_retries: int | None = None  # the SDK call's own retry budget (its client's, or the call's ``max_retries``)
    _token: Token[CallScope | None] | None = field(default=None, repr=False)

    def __enter__(self) -> CallScope:
        self._token = _current.set(self)
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: object) -> None:
        try:
            if error is not None and self.call is not None:
                self.call.finish_with_error(error)
        finally:
            if self._token is not None:
                _current.reset(self._token)
                self._token = None


_current: ContextVar[CallScope | None] = ContextVar("deepsentinel_call_scope", default=None)


def current_scope() -> CallScope | None:
    return _current.get()


def call_scope(timeout: float | None = None) -> CallScope:
    """A scope for one call (``with call_scope(): ...``); ``timeout`` (seconds) bounds the whole call."""
    return CallScope(deadline=time.monotonic() + timeout if timeout else None)


__all__ = ["CallScope", "call_scope", "current_scope"]
