"""The embedded audit store: one SQLite file in WAL mode, hash-chained, written off the request path.

    store = SQLiteAuditStore("audit.sqlite3", key=audit_key)
    store.record(event)          # enqueues; a background thread commits in batches
    store.flush()                # wait for the disk (tests, reports)
    store.verify().ok            # the chain is intact

Durability: WAL with ``synchronous=NORMAL`` survives a killed process (every committed batch is in the WAL);
a power cut may lose the last commits but never corrupts the file. Pass ``synchronous="FULL"`` to make each
batch durable against power loss too. What a hard kill can lose is described in ``audit/writer.py``.

Several processes may share one file: each batch takes the write lock and re-reads the chain's tail first.
Statements come from ``audit/sql.py`` (portable SQL) so a PostgreSQL store can reuse them.
"""

from __future__ import annotations

import itertools
import json
import logging
import operator
import sqlite3
import threading
import time
import uuid
import weakref
from collections.abc import Iterator
from contextlib import closing, suppress
from os import PathLike
from pathlib import Path
from typing import Any, Literal

from deepsentinel.audit.chain import GENESIS, ChainVerification, ChainVerifier, key_id, row_hash
from deepsentinel.audit.codec import (
    KIND_EVENT,
    event_row,
    event_tags,
    prune_row,
    row_event,
)
from deepsentinel.audit.events import AuditEvent
from deepsentinel.audit.migrations import migrate
from deepsentinel.audit.paths import default_audit_path
from deepsentinel.audit.sql import QMARK
from deepsentinel.audit.store import AuditFilter, AuditStore
from deepsentinel.audit.writer import BatchWriter
from deepsentinel.errors import ConfigurationError

logger = logging.getLogger("deepsentinel.audit")

SQL = QMARK

Synchronous = Literal["NORMAL", "FULL"]


def _connect(path: Path, synchronous: Synchronous) -> sqlite3.Connection:
    """A connection in autocommit mode (we issue BEGIN/COMMIT ourselves), migrated to the current schema."""
    conn = sqlite3.connect(path, timeout=10.0, isolation_level=None, check_same_thread=False)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(f"PRAGMA synchronous={synchronous}")
        migrate(conn)
    except BaseException:
        conn.close()
        raise
    return conn


class _ChainAppender:
    """Appends batches to the chain. Owned by the writer thread; holds no reference to the store."""

    def __init__(self, path: Path, key: bytes | None, synchronous: Synchronous) -> None:
        self.path = path
        self.key = key
        self.synchronous = synchronous
        self._conn: sqlite3.Connection | None = None

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)  # lazily: the first write, never at import
            conn = _connect(self.path, self.synchronous)
            _claim_key(conn, self.key)
            self._conn = conn
        return self._conn

    def append(self, events: list[AuditEvent]) -> None:
        conn = self._connection()
        try:
            conn.execute("BEGIN IMMEDIATE")  # the write lock first: another process may be appending too
            tail = conn.execute(SQL.tail).fetchone()
            seq, prev = (tail[0], tail[1]) if tail else (0, GENESIS)
            rows: list[tuple[Any, ...]] = []
            tags: list[tuple[int, str, str]] = []
            for event in events:
                seq += 1
                row = event_row(seq, event, prev)
                prev = row_hash(prev, row, self.key)
                rows.append((*row, prev))
                tags.extend((seq, tag, value) for tag, value in event_tags(event))
            conn.executemany(SQL.insert_event, rows)
            conn.executemany(SQL.insert_tag, tags)
            conn.execute("COMMIT")
        except BaseException:
            self._reset()
            raise

    def _reset(self) -> None:
        # A failed batch may leave the connection mid-transaction or broken: start afresh next time.
        conn, self._conn = self._conn, None
        if conn is not None:
            with suppress(sqlite3.Error):  # cleanup: the original failure is the one worth reporting
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
            conn.close()

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def forget(self) -> None:
        """After a fork: drop the parent's connection unclosed (SQLite must not use it in the child)."""
        self._conn = None


def _claim_key(conn: sqlite3.Connection, key: bytes | None) -> bool:
    """Record which key the chain is written with; warn (without the key) and return False if it differs."""
    found = conn.execute(SQL.get_key_id).fetchone()
    if found is None:
        with suppress(sqlite3.Error):  # another process may have claimed it first; either way one row results
            conn.execute(SQL.put_key_id, (key_id(key),))
    elif found[0] != key_id(key):
        logger.error("the audit key differs from the one this audit log was written with; verify() will fail")
        return False
    return True


class SQLiteAuditStore(AuditStore):
    """Hash-chained audit events in a SQLite file (``path`` defaults to ``default_audit_path()``).

    Construction does no I/O: the directory, the file and the writer thread appear on the first
    ``record``. ``close`` (also run at interpreter exit) writes everything still queued.
    """

    def __init__(
        self,
        path: str | PathLike[str] | None = None,
        *,
        key: bytes | None = None,
        max_batch: int = 1000,
        max_pending: int = 10_000,
        synchronous: Synchronous = "NORMAL",
    ) -> None:
        if synchronous not in ("NORMAL", "FULL"):
            raise ValueError("synchronous must be 'NORMAL' or 'FULL'")
        # Absolute now, so a later chdir() cannot split one log into two files.
        self.path = (Path(path).expanduser() if path is not None else default_audit_path()).absolute()
        self._key = key
        self._synchronous: Synchronous = synchronous
        self._appender = _ChainAppender(self.path, key, synchronous)
        self._writer: BatchWriter[AuditEvent] = BatchWriter(
            self._appender.append, on_stop=self._appender.close, on_fork=self._appender.forget,
            max_batch=max_batch, max_pending=max_pending,
        )
        self._late_lock = threading.Lock()
        # Runs on garbage collection or at interpreter exit, whichever comes first; holds no reference to self.
        self._finalizer = weakref.finalize(self, self._writer.close)

    def __repr__(self) -> str:
        return f"SQLiteAuditStore({str(self.path)!r}, keyed={self._key is not None})"

    @property
    def dropped(self) -> int:
        """Events the writer gave up on after retries (each failure is logged)."""
        return self._writer.dropped

    def record(self, event: AuditEvent) -> None:
        if not self._writer.closed:
            try:
                self._writer.submit(event)
                return
            except RuntimeError:  # closed between the check and the put
                pass
        # After close (e.g. a stream finishing during interpreter shutdown): write synchronously.
        with self._late_lock:
            try:
                self._appender.append([event])
            finally:
                self._appender.close()

    def flush(self, timeout: float | None = None) -> bool:
        return self._writer.flush(timeout)

    def close(self) -> None:
        self._finalizer()

    # -- reading -------------------------------------------------------------------------------------------

    def _read(self) -> sqlite3.Connection | None:
        """A reading connection, or None when nothing was ever written (reads never create the file)."""
        self.flush()
        if not self.path.exists():
            return None
        return _connect(self.path, self._synchronous)

    def iter_events(self, flt: AuditFilter | None = None) -> Iterator[AuditEvent]:
        for _seq, _prev, _hash, event in self.iter_chain(flt):
            yield event

    def iter_chain(self, flt: AuditFilter | None = None) -> Iterator[tuple[int, str, str, AuditEvent]]:
        conn = self._read()
        if conn is None:
            return
        sql, params = SQL.select(flt or AuditFilter())
        with closing(conn):
            cursor = conn.execute(sql, params)
            while rows := cursor.fetchmany(500):
                for row in rows:
                    yield row[0], row[-2], row[-1], row_event(row)

    def verify(self) -> ChainVerification:
        conn = self._read()
        if conn is None:
            return ChainVerification(True, 0, reason="empty chain")
        with closing(conn):
            stored = conn.execute(SQL.get_key_id).fetchone()
            if stored is not None and stored[0] != key_id(self._key):
                return ChainVerification(False, 0, None, "the audit key differs from the one this log was written with")
            conn.execute("BEGIN")  # one snapshot: a concurrent prune must not move the start mid-walk
            try:
                start_seq, start_hash = _chain_start(conn)
                verifier = ChainVerifier(self._key, start_seq=start_seq, start_hash=start_hash)
                index = _IndexCheck(conn)
                cursor = conn.execute(SQL.walk)
                bad: int | None = None
                while bad is None and (rows := cursor.fetchmany(1000)):
                    for row in rows:
                        if not verifier.feed(row):
                            return verifier.result()
                        if (bad := index.feed(row)) is not None:
                            break
                bad = bad if bad is not None else index.leftover()
            finally:
                conn.execute("COMMIT")
            if bad is not None:
                return ChainVerification(False, verifier.checked, bad, f"row {bad}'s filter index (audit_tags) does "
                                         "not match its findings and policies")
            return verifier.result()

    def prune(self, older_than_days: float) -> int:
        if older_than_days < 0:
            raise ValueError("older_than_days must be >= 0")
        now = time.time()
        cutoff = now - older_than_days * 86400.0
        self.flush()
        with self._late_lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with closing(_connect(self.path, self._synchronous)) as conn:
                if not _claim_key(conn, self._key):
                    # Deleting rows and chaining the record under another key would leave a log that no
                    # key verifies: refuse, and keep everything.
                    raise ConfigurationError(
                        "the audit key differs from the one this log was written with; nothing was pruned"
                    )
                return _prune(conn, self._key, cutoff, now, older_than_days)


class _IndexCheck:
    """Checks the filter index (``audit_tags``) against the chained rows it was derived from.

    The index lives outside the chain; without this check, deleting an event's index entries would hide it
    from ``list(entity_type=...)`` and ``audit list --type`` while ``verify()`` still passed.
    """

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._groups = itertools.groupby(conn.execute(SQL.walk_tags), key=operator.itemgetter(0))
        self._next = next(self._groups, None)

    def feed(self, row: tuple[Any, ...]) -> int | None:
        """The ``seq`` whose index entries are wrong (this row's, or an earlier orphan's), else None."""
        seq = row[0]
        if self._next is not None and self._next[0] < seq:
            return int(self._next[0])  # entries for a row that is not in the chain
        stored: list[tuple[str, str]] = []
        if self._next is not None and self._next[0] == seq:
            stored = sorted((tag, value) for _seq, tag, value in self._next[1])
            self._next = next(self._groups, None)
        expected = sorted(event_tags(row_event(row))) if row[1] == KIND_EVENT else []
        return None if stored == expected else int(seq)

    def leftover(self) -> int | None:
        """After the last row: the ``seq`` of index entries beyond the chain, if any."""
        return None if self._next is None else int(self._next[0])


def _prune(conn: sqlite3.Connection, key: bytes | None, cutoff: float, now: float, days: float) -> int:
    """Delete the oldest run of rows older than ``cutoff`` and append a chained record of the deletion.

    Only a prefix of the chain is removed (rows before the first row at or after the cutoff), so the rest
    stays verifiable from the anchor the prune row records: the ``prev_hash`` the first kept row links to.
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        tail = conn.execute(SQL.tail).fetchone()
        tail_seq, tail_hash = (tail[0], tail[1]) if tail else (0, GENESIS)
        new_seq = tail_seq + 1
        first_fresh = conn.execute(SQL.first_at_or_after, (cutoff,)).fetchone()[0]
        first_kept = new_seq if first_fresh is None else first_fresh
        anchor = tail_hash
        if first_fresh is not None:
            anchor = conn.execute(SQL.prev_hash_of, (first_kept,)).fetchone()[0]
        deleted = conn.execute(SQL.count_events_before, (first_kept,)).fetchone()[0]
        conn.execute(SQL.delete_tags_before, (first_kept,))
        conn.execute(SQL.delete_rows_before, (first_kept,))
        details = {"deleted_events": deleted, "cutoff": cutoff, "older_than_days": float(days),
                   "first_kept_seq": first_kept, "anchor_hash": anchor}
        row = prune_row(new_seq, uuid.uuid4().hex, now, details, tail_hash)
        conn.execute(SQL.insert_event, (*row, row_hash(tail_hash, row, key)))
        conn.execute("COMMIT")
    except BaseException:
        with suppress(sqlite3.Error):
            conn.execute("ROLLBACK")
        raise
    return int(deleted)


def _chain_start(conn: sqlite3.Connection) -> tuple[int, str]:
    """Where the chain must begin: genesis, or the anchor recorded by the latest retention prune."""
    found = conn.execute(SQL.latest_prune).fetchone()
    if found is None:
        return 1, GENESIS
    try:
        details = json.loads(found[0])
        return int(details["first_kept_seq"]), str(details["anchor_hash"])
    except (TypeError, ValueError, KeyError):
        return 1, GENESIS  # a mangled prune row: the walk will report it when it fails to hash
