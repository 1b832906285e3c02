"""``CompositeSink``: one ``record`` call fanned out to several sinks (store, metrics, monitor).

Each sink is isolated: one that raises is logged (its exception type only, never the event's content) and
the others still receive the event, so auditing can never break the call it describes; the one exception
is ``AuditWriteError`` from a durable store, re-raised once every sink has had the event, because a caller
who asked for durability must learn that the event was not committed.

``record_later(make)`` is how a call hands over its record: when every sink may see the event off the caller's
thread (a queued store, metrics, a monitor without hooks, spans that nothing records), the store's writer
thread builds the event and fans it out; the caller pays one queue put. Without a store (``audit=False``) the
metrics get a counting thread of their own for the same reason. Otherwise (a hook, which runs on the thread
that finished the call; a recording tracer, whose span needs the caller's context; a durable store; a sink of
the application's) it is built and recorded here, as ``record`` does. ``mark()`` tells when every record
handed over so far has been counted.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable
from functools import partial

from deepsentinel.audit.batched import BatchedStore
from deepsentinel.audit.errors import AuditWriteError
from deepsentinel.audit.events import AuditEvent, AuditSink
from deepsentinel.audit.writer import BatchWriter

logger = logging.getLogger("deepsentinel.audit")


def _name(sink: object) -> str:
    return type(sink).__qualname__


class CompositeSink:
    """Forwards every event to each sink in order; ``flush`` and ``close`` reach those that have them."""

    def __init__(self, *sinks: AuditSink) -> None:
        self.sinks: tuple[AuditSink, ...] = sinks
        self._failures = 0
        # Caller threads and the store's writer thread both add to it: ``+=`` is a read and a write, which a
        # free-threaded Python may interleave. Taken only when a sink failed.
        self._failures_lock = threading.Lock()
        self._counted_failures = [0]  # the counting thread's, in a cell it shares (it must not hold this sink)
        stores = [s for s in sinks if isinstance(s, BatchedStore)]
        self._store = stores[0] if len(stores) == 1 else None
        self._others = tuple(s for s in sinks if s is not self._store)
        self._always_deferrable = tuple(s for s in self._others if getattr(type(s), "deferrable", False) is True)
        self._sometimes_deferrable = tuple(s for s in self._others if s not in self._always_deferrable)
        # Without a store, no writer thread builds a call's record: the metrics get a thread of their own (started
        # on the first call), so ``audit=False`` does not cost every call its event built and counted inline.
        self._counter: BatchWriter[Callable[[], AuditEvent]] | None = None
        if self._store is None and self._always_deferrable:
            self._counter = BatchWriter(partial(_count, self._always_deferrable, self._counted_failures),
                                        is_transient=_never, name="deepsentinel-metrics")
            weakref.finalize(self, self._counter.close)  # holds the writer, not this sink

    def __repr__(self) -> str:
        return f"CompositeSink({', '.join(_name(s) for s in self.sinks)})"

    @property
    def failures(self) -> int:
        """How many times a sink failed to record an event, on any thread."""
        return self._failures + self._counted_failures[0]

    def record(self, event: AuditEvent) -> None:
        self._record_to(self.sinks, event)

    def record_later(self, make: Callable[[], AuditEvent]) -> None:
        """Record the event ``make()`` builds: on the store's writer thread when every sink allows it."""
        store = self._store
        if (store is None and self._counter is None) or (store is not None and store.durable):
            self.record(make())
            return
        for sink in self._sometimes_deferrable:
            if not getattr(sink, "deferrable", False):
                self.record(make())
                return
        if store is not None:
            store.record_later(partial(self._fan_out, make))
            return
        assert self._counter is not None
        try:
            self._counter.submit(make)
        except RuntimeError:  # closed: counted here
            self._record_to(self._always_deferrable, make())

    def mark(self) -> threading.Event:
        """Set once every record handed over so far is built and counted (at once when none waits)."""
        if self._store is not None:
            return self._store.mark()
        if self._counter is not None:
            return self._counter.mark()
        done = threading.Event()
        done.set()
        return done

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
        failures, not_durable = _deliver(sinks, event)
        if failures:
            with self._failures_lock:
                self._failures += failures
        if not_durable is not None:
            raise not_durable

    def flush(self, timeout: float | None = None) -> bool:
        """Flush every sink that can be flushed; True if all finished within ``timeout``."""
        ok = self._counter.flush(timeout) if self._counter is not None else True
        for sink in self.sinks:
            flush = getattr(sink, "flush", None)
            if callable(flush):
                ok = bool(flush(timeout)) and ok
        return ok

    def close(self) -> None:
        """Count what was handed over, then close every sink, even if one fails."""
        if self._counter is not None:
            self._counter.close()
        for sink in self.sinks:
            try:
                sink.close()
            except Exception as exc:
                logger.error("audit sink %s failed to close (%s)", _name(sink), type(exc).__name__)


def _deliver(sinks: tuple[AuditSink, ...], event: AuditEvent) -> tuple[int, AuditWriteError | None]:
    """Give ``event`` to each sink, isolated: how many failed, and the last ``AuditWriteError`` (a durable store
    that did not commit it), which the caller must learn of."""
    failures, not_durable = 0, None
    for sink in sinks:
        try:
            sink.record(event)
        except AuditWriteError as exc:
            failures += 1
            not_durable = exc
        except Exception as exc:
            failures += 1
            logger.error("audit sink %s failed to record an event (%s)", _name(sink), type(exc).__name__)
    return failures, not_durable


def _count(sinks: tuple[AuditSink, ...], failures: list[int], batch: list[Callable[[], AuditEvent]]) -> None:
    """On the counting thread: build each record and give it to ``sinks`` (the metrics); ``failures[0]`` counts
    the sinks' failures, as ``CompositeSink.failures`` does on any other thread (a record that cannot be built is
    logged, as on the store's writer thread)."""
    for make in batch:
        try:
            event = make()
        except Exception as exc:  # a record that cannot be built is logged, without content; the rest go on
            logger.error("a call's audit record could not be built (%s)", type(exc).__name__)
            continue
        failures[0] += _deliver(sinks, event)[0]


def _never(exc: Exception) -> bool:
    return False
