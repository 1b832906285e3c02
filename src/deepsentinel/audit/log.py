"""``AuditLog``: the read side of the audit trail, for compliance officers and for ``client.audit``.

    log = AuditLog("~/.local/share/deepsentinel/audit.sqlite3", key=audit_key)
    log.list(outcome="blocked", since=datetime(2026, 1, 1))
    log.report(since=time.time() - 30 * 86400).to_dict()
    log.verify()            # ChainVerification(ok=True, checked=..., ...)
    log.prune(older_than_days=365)
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from os import PathLike
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from deepsentinel.audit.chain import ChainVerification
from deepsentinel.audit.events import AuditEvent, Outcome
from deepsentinel.audit.export import export_jsonl
from deepsentinel.audit.paths import is_postgres_url
from deepsentinel.audit.report import ComplianceReport, build_report
from deepsentinel.audit.sqlite_store import SQLiteAuditStore
from deepsentinel.audit.store import AuditFilter, AuditStore, TimeLike, epoch


class AuditLog:
    """Query, report on, verify and prune an audit store (a path opens a ``SQLiteAuditStore``, a
    ``postgresql://`` URL a ``PostgresAuditStore``). ``other_keys``: earlier audit keys, for a trail
    written under several (key rotation); rows under a key not given are reported, not taken as tampering.

    A log opened from a path owns its store and closes it; a log given a store leaves it to its owner
    (unless ``owns_store``).
    """

    def __init__(self, store: AuditStore | str | PathLike[str], *, key: bytes | None = None,
                 other_keys: Sequence[bytes | None] = (), owns_store: bool = False) -> None:
        self.other_keys = tuple(other_keys)
        self.store: AuditStore
        if isinstance(store, str) and is_postgres_url(store):
            from deepsentinel.audit.pg_store import PostgresAuditStore  # psycopg loads only when used

            self.store = PostgresAuditStore(store, key=key)
            self._owns_store = True
        elif isinstance(store, (str, PathLike)):
            self.store = SQLiteAuditStore(Path(store).expanduser(), key=key)
            self._owns_store = True
        else:
            self.store = store
            self._owns_store = owns_store

    def __repr__(self) -> str:
        return f"AuditLog({self.store!r})"

    def list(
        self,
        since: TimeLike | None = None,
        until: TimeLike | None = None,
        outcome: Outcome | str | None = None,
        entity_type: str | None = None,
        policy: str | None = None,
        provider: str | None = None,
        limit: int | None = None,
        *,
        newest_first: bool = False,
    ) -> list[AuditEvent]:
        """Events matching every given filter, oldest first (``newest_first`` for the latest ``limit``)."""
        return self.store.query(AuditFilter.of(
            since=since, until=until, outcome=outcome, entity_type=entity_type, policy=policy,
            provider=provider, limit=limit, newest_first=newest_first,
        ))

    def report(
        self, since: TimeLike | None = None, until: TimeLike | None = None, *, verify_chain: bool = False
    ) -> ComplianceReport:
        """A compliance report for ``[since, until)``; ``verify_chain`` also checks (and reports) the chain."""
        flt = AuditFilter.of(since=since, until=until)
        chain = self.store.verify(other_keys=self.other_keys) if verify_chain else None
        return build_report(self.store.iter_events(flt), since=epoch(since), until=epoch(until), chain=chain,
                            now=time.time())

    def verify(self) -> ChainVerification:
        """Check the hash chain (under the key and ``other_keys``); a failure names the first bad row."""
        return self.store.verify(other_keys=self.other_keys)

    def prune(self, older_than_days: float) -> int:
        """Delete events older than ``older_than_days`` and record the deletion in the chain."""
        return self.store.prune(older_than_days)

    def export_jsonl(self, path_or_file: str | PathLike[str] | IO[str], **filters: Any) -> int:
        """Write matching events as JSON lines; returns the count. Filters as for ``list``."""
        return export_jsonl(self.store, path_or_file, **filters)

    def close(self) -> None:
        """Close the store if this log opened it."""
        if self._owns_store:
            self.store.close()

    def __enter__(self) -> AuditLog:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
