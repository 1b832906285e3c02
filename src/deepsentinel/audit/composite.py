"""``CompositeSink``: one ``record`` call fanned out to several sinks (store, metrics, monitor).

Each sink is isolated: one that raises is logged (its exception type only, never the event's content) and
the others still receive the event, so auditing can never break the call it describes; the one exception
is ``AuditWriteError`` from a durable store, re-raised once every sink has had the event, because a caller
who asked for durability must learn that the event was not committed.
"""

from __future__ import annotations

import logging

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

    def __repr__(self) -> str:
        return f"CompositeSink({', '.join(_name(s) for s in self.sinks)})"

    def record(self, event: AuditEvent) -> None:
        not_durable: AuditWriteError | None = None
        for sink in self.sinks:
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
