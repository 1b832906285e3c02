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

import logging
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing, suppress
from os import PathLike
from pathlib import Path
from typing import Literal

from deepsentinel.audit import chain_ops
from deepsentinel.audit.batched import BatchedStore
from deepsentinel.audit.chain import ChainVerification, key_id
from deepsentinel.audit.codec import row_event
from deepsentinel.audit.events import AuditEvent
from deepsentinel.audit.migrations import migrate
from deepsentinel.audit.paths import default_audit_path
from deepsentinel.audit.sql import QMARK
from deepsentinel.audit.store import AuditFilter

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
        self.losses: list[chain_ops.Loss] = []  # recorded as gap rows with the next batch that commits

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
            chain_ops.append(conn, SQL, events, self.losses, self.key)
            conn.execute("COMMIT")
        except BaseException:
            self._reset()
            raise
        self.losses.clear()

    def lost(self, count: int, reason: str) -> None:
        """Record a loss in the chain now, or with the next batch if the database refuses this too."""
        self.losses.append((count, reason))
        with suppress(Exception):  # kept in ``losses``: the next successful append writes it
            self.append([])

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


def _is_transient(exc: Exception) -> bool:
    # "database is locked"/"busy" (another process holds the write lock), disk I/O hiccups: worth a retry.
    # Anything else (a constraint, a value the driver cannot bind) fails the same way every time.
    return isinstance(exc, sqlite3.OperationalError)


def _claim_key(conn: sqlite3.Connection, key: bytes | None) -> None:
    """Record the key id of the store's first writer; warn (without the key) when another key appends."""
    found = conn.execute(SQL.get_key_id).fetchone()
    if found is None:
        with suppress(sqlite3.Error):  # another process may have claimed it first; either way one row results
            conn.execute(SQL.put_key_id, (key_id(key),))
    elif found[0] != key_id(key):
        logger.warning("this audit log was started under another audit key; rows are tagged with their key id, "
                       "and verify() needs both keys to check all of them")


class SQLiteAuditStore(BatchedStore):
    """Hash-chained audit events in a SQLite file (``path`` defaults to ``default_audit_path()``).

    Construction does no I/O: the directory, the file and the writer thread appear on the first
    ``record``. ``close`` (also run at interpreter exit) writes everything still queued.

    ``durable=True``: ``record`` returns only once the event is committed (a killed process then loses no
    recorded event), and raises ``AuditWriteError`` if it could not be. Concurrent callers share commits.
    ``on_lost(count)`` is called when events could not be stored (for a metric); they are also logged and
    recorded in the chain as a gap, which ``verify()`` reports.
    """

    def __init__(
        self,
        path: str | PathLike[str] | None = None,
        *,
        key: bytes | None = None,
        max_batch: int = 1000,
        max_pending: int = 10_000,
        synchronous: Synchronous = "NORMAL",
        durable: bool = False,
        durable_timeout: float = 30.0,
        on_lost: Callable[[int], None] | None = None,
    ) -> None:
        if synchronous not in ("NORMAL", "FULL"):
            raise ValueError("synchronous must be 'NORMAL' or 'FULL'")
        # Absolute now, so a later chdir() cannot split one log into two files.
        self.path = (Path(path).expanduser() if path is not None else default_audit_path()).absolute()
        self._key = key
        self._synchronous: Synchronous = synchronous
        self.durable = durable
        self._durable_timeout = durable_timeout
        self._on_lost = on_lost
        appender = _ChainAppender(self.path, key, synchronous)
        self._appender = appender
        self._start_writer(on_fork=appender.forget, is_transient=_is_transient, max_batch=max_batch,
                           max_pending=max_pending)

    def __repr__(self) -> str:
        return f"SQLiteAuditStore({str(self.path)!r}, keyed={self._key is not None}, durable={self.durable})"

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

    def verify(self, *, other_keys: Sequence[bytes | None] = ()) -> ChainVerification:
        conn = self._read()
        if conn is None:
            return ChainVerification(True, 0, reason="empty chain")
        with closing(conn):
            conn.execute("BEGIN")  # one snapshot: a concurrent prune must not move the start mid-walk
            try:
                return chain_ops.verify(
                    conn.execute(SQL.walk), conn.execute(SQL.walk_tags), (self._key, *other_keys),
                    legacy=chain_ops.legacy_key_id(conn, SQL), start=chain_ops.chain_start(conn, SQL),
                )
            finally:
                conn.execute("COMMIT")

    def prune(self, older_than_days: float) -> int:
        if older_than_days < 0:
            raise ValueError("older_than_days must be >= 0")
        now = time.time()
        cutoff = now - older_than_days * 86400.0
        self.flush()
        with self._late_lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with closing(_connect(self.path, self._synchronous)) as conn:
                _claim_key(conn, self._key)
                conn.execute("BEGIN IMMEDIATE")
                try:
                    chain_ops.require_tail_key(conn, SQL, self._key)
                    deleted = chain_ops.prune(conn, SQL, self._key, cutoff, now, older_than_days)
                    conn.execute("COMMIT")
                except BaseException:
                    with suppress(sqlite3.Error):
                        conn.execute("ROLLBACK")
                    raise
                return deleted
