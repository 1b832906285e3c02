"""``CompositeSink``: one ``record`` call fanned out to several sinks (store, metrics, monitor).

Each sink is isolated: one that raises is logged (its exception type only, never the event's content) and
the others still receive the event, so auditing can never break the call it describes; the one exception
is ``AuditWriteError`` from a durable store, re-raised once every sink has had the event, because a caller
who asked for durability must learn that the event was not committed.

``record_later(make)`` is how a call hands over its record: when every sink may see the event off the caller's
thread (a queued store, metrics, a monitor without hooks, spans that nothing records), the store's writer
thread builds the event and fans it out; the caller pays one queue put. Otherwise (a hook, which runs on the
thread that finished the call; a recording tracer, whose span needs the caller's context; a durable store;
a sink of the application's) it is built and recorded here, as ``record`` does.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial

from deepsentinel.audit.batched import BatchedStore
from deepsentinel.audit.errors import AuditWriteError
from deepsentinel.audit.events import AuditEvent, AuditSink

logger = logging.getLogger("deepsentinel.audit")


def _name(sink: object) -> str:
    return type(sink).__qualname__


class CompositeSink:
    """Forwards every event to each sink in order; ``flush`` and ``close`` reach those that have them."""

    def __init__(self, *sinks: AuditSink) -> None:
        self.sinks: tuple[AuditSink, ...] = sinks
        self.failures = 0
        stores = [s for s in sinks if isinstance(s, BatchedStore)]
        self._store = stores[0] if len(stores) == 1 else None
        self._others = tuple(s for s in sinks if s is not self._store)
        self._always_deferrable = tuple(s for s in self._others if getattr(type(s), "deferrable", False) is True)
        self._sometimes_deferrable = tuple(s for s in self._others if s not in self._always_deferrable)

    def __repr__(self) -> str:
        return f"CompositeSink({', '.join(_name(s) for s in self.sinks)})"

    def record(self, event: AuditEvent) -> None:
        self._record_to(self.sinks, event)

    def record_later(self, make: Callable[[], AuditEvent]) -> None:
        """Record the event ``make()`` builds: on the store's writer thread when every sink allows it."""
        store = self._store
        if store is None or store.durable:
            self.record(make())
            return
        for sink in self._sometimes_deferrable:
            if not getattr(sink, "deferrable", False):
                self.record(make())
                return
        store.record_later(partial(self._fan_out, make))

    def _fan_out(self, make: Callable[[], AuditEvent]) -> AuditEvent:
        """On the writer thread: build the event, count it, return it for the store.

        Only the sinks that always allow this get it here (the metrics). The others allowed it because they had
        nothing to do with it (a monitor without hooks, spans nobody records); one that has something to do by
        now (a hook registered since the call ended) runs on the thread that finishes a call, and does not get
        a call that ended before it was registered.
        """
        event = make()
        self._record_to(self._always_deferrable, event)
        return event

    def _record_to(self, sinks: tuple[AuditSink, ...], event: AuditEvent) -> None:
        not_durable: AuditWriteError | None = None
        for sink in sinks:
            try:
                sink.record(event)
            except AuditWriteError as exc:
                self.failures += 1
                not_durable = exc
            except Exception as exc:
                self.failures += 1
                logger.error("audit sink %s failed to record an event (%s)", _name(sink), type(exc).__name__)
        if not_durable is not None:
            raise not_durable

    def flush(self, timeout: float | None = None) -> bool:
        """Flush every sink that can be flushed; True if all finished within ``timeout``."""
        ok = True
        for sink in self.sinks:
            flush = getattr(sink, "flush", None)
            if callable(flush):
                ok = bool(flush(timeout)) and ok
        return ok

    def close(self) -> None:
        """Close every sink, even if one fails."""
        for sink in self.sinks:
            try:
                sink.close()
            except Exception as exc:
                logger.error("audit sink %s failed to close (%s)", _name(sink), type(exc).__name__)
