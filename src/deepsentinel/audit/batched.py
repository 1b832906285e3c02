"""``BatchedStore``: what the SQLite and PostgreSQL stores share: a background ``BatchWriter`` in front of an
appender that writes chained rows, an opt-in durable mode, and loss accounting.

``record_later(make)`` queues a call's record unbuilt: the writer thread builds it (``make()``), then writes
it, so a caller pays one queue put for its audit event.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from typing import Any, Protocol

from deepsentinel.audit.errors import AuditWriteError
from deepsentinel.audit.events import AuditEvent
from deepsentinel.audit.store import AuditStore
from deepsentinel.audit.writer import BatchWriter


class Appender(Protocol):
    """Writes batches of events as chained rows (on the writer thread), and records losses as gaps."""

    def append(self, events: list[AuditEvent]) -> None: ...
    def close(self) -> None: ...
    def lost(self, count: int, reason: str) -> None: ...


class BatchedStore(AuditStore):
    """``record()`` queues (or, durable, waits for the commit); a writer thread appends in batches."""

    durable: bool = False
    _durable_timeout: float
    _on_lost: Callable[[int], None] | None
    _appender: Appender
    _writer: BatchWriter[AuditEvent]

    def _start_writer(self, **writer_options: Any) -> None:
        self._writer = BatchWriter(self._appender.append, on_stop=self._appender.close, on_lost=self._lost,
                                   prepare=_built, **writer_options)
        self._late_lock = threading.Lock()
        # Runs on garbage collection or at interpreter exit, whichever comes first; holds no reference to self.
        self._finalizer = weakref.finalize(self, self._writer.close)

    @property
    def dropped(self) -> int:
        """Events the writer could not store (each loss is logged and recorded in the chain as a gap)."""
        return self._writer.dropped

    def _lost(self, count: int, reason: str) -> None:
        self._appender.lost(count, reason)
        if self._on_lost is not None:
            self._on_lost(count)

    def record(self, event: AuditEvent) -> None:
        if not self._writer.closed:
            try:
                if not self.durable:
                    self._writer.submit(event)
                    return
                if not self._writer.submit_and_wait(event, self._durable_timeout):
                    raise AuditWriteError("the audit event could not be committed (see the deepsentinel.audit log)")
                return
            except RuntimeError:  # closed between the check and the put
                pass
        # After close (e.g. a stream finishing during interpreter shutdown): write synchronously.
        with self._late_lock:
            try:
                self._appender.append([event])
            finally:
                self._appender.close()

    def record_later(self, make: Callable[[], AuditEvent]) -> None:
        """Queue an event the writer thread builds with ``make()`` (which must not need the caller's thread)."""
        if self.durable or self._writer.closed:
            self.record(make())
            return
        try:
            self._writer.submit(make)
        except RuntimeError:  # closed between the check and the put
            self.record(make())

    def flush(self, timeout: float | None = None) -> bool:
        return self._writer.flush(timeout)

    def mark(self) -> threading.Event:
        """Set once every event recorded so far is handled (``flush`` without the wait)."""
        return self._writer.mark()

    def close(self) -> None:
        self._finalizer()


def _built(item: AuditEvent | Callable[[], AuditEvent]) -> AuditEvent:
    return item if isinstance(item, AuditEvent) else item()


__all__ = ["Appender", "BatchedStore"]
