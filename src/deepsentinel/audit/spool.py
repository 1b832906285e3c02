"""The local spool: where a PostgreSQL audit store keeps events while the database is unreachable.

A small SQLite file on the writing node (WAL, one table), so spooled events survive the process too: a
store started later on the same node replays them. Entries are the sanitized row of an event, or a loss
(events that did not fit), in arrival order; ``take`` reads the oldest, ``remove`` deletes them once they
are committed upstream. The spool is bounded (``max_events``); an event that does not fit is counted as a
loss, which is itself spooled and later written to the chain as a gap.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from deepsentinel.audit.codec import event_row, row_event
from deepsentinel.audit.events import AuditEvent


@dataclass(frozen=True, slots=True)
class SpoolEntry:
    """One spooled item: an event, or ``lost`` events that could not be spooled (with the reason)."""

    id: int
    event: AuditEvent | None
    lost: int = 0
    reason: str = ""


def _encode(event: AuditEvent) -> str:
    # The sanitized row, not the event: always JSON-encodable (no surrogates, no deep nesting).
    return json.dumps(list(event_row(0, event, "", None)), ensure_ascii=True)


def _decode(text: str) -> AuditEvent:
    return row_event([*json.loads(text), ""])


class Spool:
    """A bounded, durable FIFO of audit events in a local SQLite file (created on first use)."""

    def __init__(self, path: Path, max_events: int = 1_000_000) -> None:
        self.path = path
        self.max_events = max_events
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=30.0, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("CREATE TABLE IF NOT EXISTS spool (id INTEGER PRIMARY KEY AUTOINCREMENT, "
                         "event TEXT, lost INTEGER NOT NULL DEFAULT 0, reason TEXT)")
            self._conn = conn
        return self._conn

    def __len__(self) -> int:
        """Entries waiting (read from the file: other processes on this node may share it)."""
        if self._conn is None and not self.path.exists():
            return 0
        with self._lock:
            return int(self._db().execute("SELECT COUNT(*) FROM spool").fetchone()[0])

    def put(self, events: list[AuditEvent]) -> int:
        """Spool ``events`` in order; returns how many did not fit (spooled as one loss entry instead)."""
        with self._lock:
            db = self._db()
            db.execute("BEGIN IMMEDIATE")
            try:
                room = max(0, self.max_events - int(db.execute("SELECT COUNT(*) FROM spool").fetchone()[0]))
                kept, over = events[:room], len(events) - min(room, len(events))
                db.executemany("INSERT INTO spool (event) VALUES (?)", [(_encode(e),) for e in kept])
                if over:
                    db.execute("INSERT INTO spool (lost, reason) VALUES (?, 'SpoolFull')", (over,))
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
            return over

    def put_losses(self, losses: list[tuple[int, str]]) -> None:
        """Spool losses not yet written to the chain, so they reach it as gap rows later."""
        with self._lock:
            self._db().executemany("INSERT INTO spool (lost, reason) VALUES (?, ?)", losses)

    def take(self, limit: int) -> list[SpoolEntry]:
        """The oldest ``limit`` entries, left in place until ``remove``."""
        if self._conn is None and not self.path.exists():
            return []
        with self._lock:
            rows = self._db().execute("SELECT id, event, lost, reason FROM spool ORDER BY id LIMIT ?", (limit,))
            return [SpoolEntry(i, None if e is None else _decode(e), lost, reason or "")
                    for i, e, lost, reason in rows.fetchall()]

    def remove(self, entries: list[SpoolEntry]) -> None:
        """Delete entries once they are committed upstream."""
        with self._lock:
            self._db().executemany("DELETE FROM spool WHERE id = ?", [(e.id,) for e in entries])

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                with closing(self._conn):
                    self._conn = None

    def forget(self) -> None:
        """After a fork: drop the parent's connection unclosed."""
        self._conn = None
