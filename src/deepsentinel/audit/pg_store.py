"""The shared audit store: one hash chain in PostgreSQL, appended to by many processes and nodes.

    store = PostgresAuditStore("postgresql://audit@db/deepsentinel", key=audit_key)
    store.record(event)          # enqueues; a background thread commits in batches (never blocks a loop)

Concurrent writers keep one chain because each batch is appended inside a transaction that first takes a
transaction-level advisory lock (``pg_advisory_xact_lock``): the database serializes the appends, each
reads the tail the previous one committed, and the lock goes with the commit (a killed writer's lock goes
with its connection). ``seq`` is the primary key, so two writers can never both claim a position.

When the database cannot be reached, batches go to a local ``Spool`` (a SQLite file on this node) and are
replayed in order when it returns, ahead of newer events; events already in the database (a replay cut
short between commit and spool cleanup) are recognized by request id and not written twice.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import suppress
from pathlib import Path
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict

from deepsentinel.audit import chain_ops
from deepsentinel.audit.batched import BatchedStore
from deepsentinel.audit.chain import ChainVerification
from deepsentinel.audit.codec import row_event
from deepsentinel.audit.events import AuditEvent
from deepsentinel.audit.paths import default_audit_path
from deepsentinel.audit.pg_schema import LOCK_ID, ensure_schema, require_schema
from deepsentinel.audit.spool import Spool, SpoolEntry
from deepsentinel.audit.sql import Statements
from deepsentinel.audit.store import AuditFilter

logger = logging.getLogger("deepsentinel.audit")

SQL = Statements("%s")
_LOCK = "SELECT pg_advisory_xact_lock(%s)"
_KNOWN_IDS = "SELECT request_id FROM audit_events WHERE request_id = ANY(%s)"


def safe_url(url: str) -> str:
    """``url`` without its password, for reprs and messages."""
    try:
        params = conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "postgresql://<unparsable URL>"
    return f"postgresql://{params.get('user', '')}@{params.get('host', '')}:{params.get('port', 5432)}/{params.get('dbname', '')}"


def _unreachable(exc: Exception) -> bool:
    # The database is down, restarting, or the connection was cut (pg_terminate_backend, a network drop).
    return isinstance(exc, psycopg.OperationalError)


class _PgAppender:
    """The writer thread's side: one connection, reopened after a failure; the spool when it is down."""

    def __init__(self, url: str, key: bytes | None, spool: Spool, connect_timeout: float, max_batch: int) -> None:
        self.url, self.key, self.spool = url, key, spool
        self.connect_timeout = connect_timeout
        self.max_batch = max_batch
        self._conn: psycopg.Connection[Any] | None = None
        self.losses: list[chain_ops.Loss] = []
        self.on_lost: Callable[[int], None] | None = None  # the metric hook, for losses found on replay

    def _connection(self) -> psycopg.Connection[Any]:
        if self._conn is None or self._conn.closed:
            conn = psycopg.connect(self.url, connect_timeout=max(1, int(self.connect_timeout)))
            try:
                ensure_schema(conn, self.key)
            except BaseException:
                conn.close()
                raise
            self._conn = conn
        return self._conn

    def _commit(self, events: Sequence[AuditEvent], losses: Sequence[chain_ops.Loss], *, dedupe: bool) -> None:
        conn = self._connection()
        try:
            with conn.transaction():
                conn.execute(_LOCK, (LOCK_ID,))
                if dedupe:  # a replay cut short may have committed some of these already
                    known = {r[0] for r in conn.execute(_KNOWN_IDS, ([e.request_id for e in events],))}
                    events = [e for e in events if e.request_id not in known]
                chain_ops.append(conn, SQL, events, losses, self.key)
        except BaseException:
            self.reset()
            raise

    def append(self, events: list[AuditEvent]) -> None:
        """Commit ``events`` (after any spooled backlog); spool them if the database is unreachable."""
        try:
            self.replay()
            self._commit(events, self.losses, dedupe=False)
            self.losses.clear()
        except Exception as exc:
            if not _unreachable(exc):
                raise  # the writer retries, then isolates the event the database refuses
            logger.warning("audit database unreachable (%s): %d event(s) kept in the local spool",
                           type(exc).__name__, len(events))
            if self.losses:
                self.spool.put_losses(self.losses)
                self.losses.clear()
            over = self.spool.put(events)
            if over:
                logger.error("audit spool full: %d event(s) lost; a gap is recorded", over)

    def replay(self) -> None:
        """Write the spooled backlog, oldest first; raises if the database is still unreachable."""
        while entries := self.spool.take(self.max_batch):
            try:
                self._commit_entries(entries)
            except Exception as exc:
                if _unreachable(exc):
                    raise
                # One entry the database refuses must not hold the backlog (and every new event) hostage.
                for entry in entries:
                    self._replay_one(entry)
            self.spool.remove(entries)
            logger.info("audit spool: %d entr(ies) replayed to the database", len(entries))

    def _commit_entries(self, entries: list[SpoolEntry]) -> None:
        events = [e.event for e in entries if e.event is not None]
        losses = [(e.lost, e.reason) for e in entries if e.event is None]
        self._commit(events, losses, dedupe=True)

    def _replay_one(self, entry: SpoolEntry) -> None:
        try:
            self._commit_entries([entry])
        except Exception as exc:
            if _unreachable(exc):
                raise
            logger.error("audit spool: 1 event the database refuses was lost (%s); a gap is recorded",
                         type(exc).__name__)
            self.losses.append((1, type(exc).__name__))
            if self.on_lost is not None:
                self.on_lost(1)

    def idle(self) -> None:
        if len(self.spool):
            with suppress(psycopg.OperationalError):
                self.replay()

    def lost(self, count: int, reason: str) -> None:
        self.losses.append((count, reason))
        with suppress(Exception):  # kept in ``losses``: the next successful append writes it
            self.append([])

    def reset(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with suppress(Exception):
                conn.close()

    def close(self) -> None:
        self.reset()
        self.spool.close()

    def forget(self) -> None:
        self._conn = None
        self.spool.forget()


def default_spool_path(url: str) -> Path:
    """Per database, next to the default SQLite trail; named by a hash so the URL (and password) stay out."""
    digest = hashlib.sha256(url.encode("utf-8")).hexdigest()[:16]
    return default_audit_path().parent / f"pg-spool-{digest}.sqlite3"


class PostgresAuditStore(BatchedStore):
    """Hash-chained audit events in PostgreSQL, shared by every process and node that writes there.

    Construction does no I/O. ``durable=True``: ``record`` returns once the event is committed to the
    database or to the local spool. ``create=False`` (the CLI) never creates tables: reading a database
    that holds no audit trail is an error.
    """

    def __init__(self, url: str, *, key: bytes | None = None, durable: bool = False, durable_timeout: float = 30.0,
                 spool_path: str | Path | None = None, max_spool: int = 1_000_000, max_batch: int = 1000,
                 max_pending: int = 10_000, connect_timeout: float = 5.0,
                 on_lost: Callable[[int], None] | None = None, create: bool = True) -> None:
        self._url = url
        self._key = key
        self.durable = durable
        self._durable_timeout = durable_timeout
        self._create = create
        self._on_lost = on_lost
        self._connect_timeout = connect_timeout
        self.spool = Spool(Path(spool_path) if spool_path is not None else default_spool_path(url), max_spool)
        appender = _PgAppender(url, key, self.spool, connect_timeout, max_batch)
        appender.on_lost = on_lost
        self._appender = appender
        self._start_writer(on_fork=appender.forget, on_idle=appender.idle, max_batch=max_batch,
                           max_pending=max_pending)

    def __repr__(self) -> str:
        return f"PostgresAuditStore({safe_url(self._url)!r}, keyed={self._key is not None}, durable={self.durable})"

    # -- reading -------------------------------------------------------------------------------------------

    def _read(self) -> psycopg.Connection[Any]:
        self.flush()
        conn = psycopg.connect(self._url, connect_timeout=max(1, int(self._connect_timeout)))
        try:
            if self._create:
                ensure_schema(conn, None, claim=False)
            else:
                require_schema(conn, safe_url(self._url))
        except BaseException:
            conn.close()
            raise
        return conn

    def check_schema(self) -> None:
        """Raise ``ConfigurationError`` unless the database holds an audit trail (a read; changes nothing)."""
        self._read().close()

    def iter_events(self, flt: AuditFilter | None = None) -> Iterator[AuditEvent]:
        for _seq, _prev, _hash, event in self.iter_chain(flt):
            yield event

    def iter_chain(self, flt: AuditFilter | None = None) -> Iterator[tuple[int, str, str, AuditEvent]]:
        sql, params = SQL.select(flt or AuditFilter())
        with self._read() as conn, conn.transaction(), conn.cursor(name="audit_rows") as cursor:
            cursor.execute(sql, params)
            for row in cursor:
                yield row[0], row[-2], row[-1], row_event(row)

    def verify(self, *, other_keys: Sequence[bytes | None] = ()) -> ChainVerification:
        with self._read() as conn:
            conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ  # one snapshot for the whole walk
            with conn.transaction(), conn.cursor(name="rows") as rows, conn.cursor(name="tags") as tags:
                rows.itersize = tags.itersize = 2000
                start, legacy = chain_ops.chain_start(conn, SQL), chain_ops.legacy_key_id(conn, SQL)
                rows.execute(SQL.walk)
                tags.execute(SQL.walk_tags)
                return chain_ops.verify(rows, tags, (self._key, *other_keys), legacy=legacy, start=start)

    def prune(self, older_than_days: float) -> int:
        if older_than_days < 0:
            raise ValueError("older_than_days must be >= 0")
        now = time.time()
        with self._read() as conn, conn.transaction():
            conn.execute(_LOCK, (LOCK_ID,))
            chain_ops.require_tail_key(conn, SQL, self._key)
            return chain_ops.prune(conn, SQL, self._key, now - older_than_days * 86400.0, now, older_than_days)
