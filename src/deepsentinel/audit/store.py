"""The audit store interface: what every backend (SQLite, PostgreSQL) provides.

A store is an ``AuditSink`` (``record`` is called on the request path and must only enqueue) plus the
read side used by ``AuditLog``: filtered queries, chain verification and retention.
"""

from __future__ import annotations

import abc
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType

from deepsentinel.audit.chain import ChainVerification
from deepsentinel.audit.events import AuditEvent, Outcome

#: A point in time: epoch seconds, or a ``datetime`` (naive ones are taken as UTC).
TimeLike = float | int | datetime


def epoch(value: TimeLike | None) -> float | None:
    """Epoch seconds for a ``TimeLike``; naive datetimes are UTC, as audit timestamps are."""
    if value is None or isinstance(value, (int, float)):
        return None if value is None else float(value)
    if value.tzinfo is None:
        from datetime import timezone

        value = value.replace(tzinfo=timezone.utc)
    return value.timestamp()


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """Which events to read. ``since`` is inclusive, ``until`` exclusive; ``None`` means no bound."""

    since: float | None = None
    until: float | None = None
    outcome: Outcome | None = None
    entity_type: str | None = None
    policy: str | None = None
    provider: str | None = None
    limit: int | None = None
    newest_first: bool = False

    @classmethod
    def of(
        cls,
        *,
        since: TimeLike | None = None,
        until: TimeLike | None = None,
        outcome: Outcome | str | None = None,
        entity_type: str | None = None,
        policy: str | None = None,
        provider: str | None = None,
        limit: int | None = None,
        newest_first: bool = False,
    ) -> AuditFilter:
        """Build a filter from the loose types callers pass (datetimes, outcome strings)."""
        if limit is not None and limit < 0:
            raise ValueError("limit must be >= 0")
        return cls(epoch(since), epoch(until), None if outcome is None else Outcome(outcome), entity_type,
                   policy, provider, limit, newest_first)


class AuditStore(abc.ABC):
    """A durable, hash-chained audit store. Implementations must keep ``record`` off the disk path."""

    @abc.abstractmethod
    def record(self, event: AuditEvent) -> None:
        """Queue one event for writing; returns without waiting for the disk."""

    @abc.abstractmethod
    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every event recorded so far is committed; False if ``timeout`` expired first."""

    @abc.abstractmethod
    def close(self) -> None:
        """Flush, then release the writer and connections. Idempotent."""

    @abc.abstractmethod
    def iter_events(self, flt: AuditFilter | None = None) -> Iterator[AuditEvent]:
        """Stream matching events in chain order (or newest first), without loading them all."""

    def query(self, flt: AuditFilter | None = None) -> list[AuditEvent]:
        """Matching events as a list."""
        return list(self.iter_events(flt))

    @abc.abstractmethod
    def iter_chain(self, flt: AuditFilter | None = None) -> Iterator[tuple[int, str, str, AuditEvent]]:
        """Matching events with their chain data: ``(seq, prev_hash, row_hash, event)``; for exporters."""

    @abc.abstractmethod
    def verify(self, *, other_keys: Sequence[bytes | None] = ()) -> ChainVerification:
        """Check the whole chain under the store's key and ``other_keys``; the result names the first bad row."""

    @abc.abstractmethod
    def prune(self, older_than_days: float) -> int:
        """Delete events older than the cutoff, record the deletion in the chain, return how many went."""

    def __enter__(self) -> AuditStore:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
