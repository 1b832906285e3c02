"""SQLite schema migrations for the audit store, applied in order and recorded in ``schema_version``.

Version 0 is an empty file. Each migration is a function run inside one write transaction; the version
table is plain SQL (no ``PRAGMA user_version``) so a PostgreSQL backend can keep the same bookkeeping.
DDL types are chosen to mean the same thing in both engines.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable

from deepsentinel.audit.codec import COLUMNS, KIND_EVENT, event_tags, row_event
from deepsentinel.errors import ConfigurationError

Migration = Callable[[sqlite3.Connection], None]


def _v1_events(conn: sqlite3.Connection) -> None:
    """The chained events table and a small key/value table for store metadata."""
    conn.execute(
        """CREATE TABLE audit_events (
            seq INTEGER PRIMARY KEY,
            kind VARCHAR(16) NOT NULL,
            request_id VARCHAR(64) NOT NULL,
            ts DOUBLE PRECISION NOT NULL,
            outcome VARCHAR(32),
            provider VARCHAR(200),
            model VARCHAR(200),
            operation VARCHAR(100),
            direction VARCHAR(16),
            policies TEXT,
            findings TEXT,
            risk_score DOUBLE PRECISION,
            streamed INTEGER,
            chunks INTEGER,
            latency_ms DOUBLE PRECISION,
            provider_latency_ms DOUBLE PRECISION,
            prompt_tokens INTEGER,
            completion_tokens INTEGER,
            target VARCHAR(200),
            error_type VARCHAR(200),
            content_hash VARCHAR(64),
            anonymized_text TEXT,
            details TEXT,
            prev_hash CHAR(64) NOT NULL,
            row_hash CHAR(64) NOT NULL
        )"""
    )
    conn.execute("CREATE TABLE audit_meta (name VARCHAR(64) PRIMARY KEY, value TEXT NOT NULL)")


def _v2_query_indexes(conn: sqlite3.Connection) -> None:
    """Indexes for the filters ``AuditLog.list`` offers; entity types and policies get a tag table."""
    conn.execute("CREATE INDEX audit_events_ts ON audit_events (ts)")
    conn.execute("CREATE INDEX audit_events_kind_outcome ON audit_events (kind, outcome)")
    conn.execute(
        "CREATE TABLE audit_tags (seq INTEGER NOT NULL, tag VARCHAR(16) NOT NULL, value VARCHAR(200) NOT NULL)"
    )
    conn.execute("CREATE INDEX audit_tags_lookup ON audit_tags (tag, value, seq)")
    conn.execute("CREATE INDEX audit_tags_seq ON audit_tags (seq)")
    # Backfill: events written under version 1 become filterable too.
    # key_id arrives in version 3: select NULL in its place.
    columns = ", ".join("NULL" if c == "key_id" else c for c in COLUMNS)
    rows = conn.execute(f"SELECT {columns} FROM audit_events WHERE kind = ?", (KIND_EVENT,))
    tags = [(row[0], tag, value) for row in rows.fetchall() for tag, value in event_tags(row_event(row))]
    conn.executemany("INSERT INTO audit_tags (seq, tag, value) VALUES (?, ?, ?)", tags)


def _v3_row_key_id(conn: sqlite3.Connection) -> None:
    """Each row names the key id it was hashed under, so a key mismatch is reported as one, not as an edit.

    Older rows keep NULL (left out of the hash, so their hashes still match) and count as written under
    the key id recorded in ``audit_meta``.
    """
    conn.execute("ALTER TABLE audit_events ADD COLUMN key_id VARCHAR(64)")


#: Ordered: ``MIGRATIONS[i]`` takes the schema from version ``i`` to ``i + 1``.
MIGRATIONS: tuple[Migration, ...] = (_v1_events, _v2_query_indexes, _v3_row_key_id)
SCHEMA_VERSION = len(MIGRATIONS)


def current_version(conn: sqlite3.Connection) -> int:
    """The schema version of an open database; 0 for an empty one."""
    exists = conn.execute(
        "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'"
    ).fetchone()[0]
    if not exists:
        return 0
    version = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()[0]
    return int(version or 0)


def _checked_version(conn: sqlite3.Connection) -> int:
    version = current_version(conn)
    if version > SCHEMA_VERSION:
        raise ConfigurationError(
            f"the audit database has schema version {version}; this library reads up to {SCHEMA_VERSION}"
        )
    return version


def migrate(conn: sqlite3.Connection, target: int = SCHEMA_VERSION) -> int:
    """Bring the schema up to ``target`` in one write transaction; returns the version reached.

    The version is re-read after taking the write lock, so two processes opening the same new file do not
    both run a migration.
    """
    version = _checked_version(conn)
    if version >= target:
        return version
    conn.execute("BEGIN IMMEDIATE")
    try:
        version = _checked_version(conn)
        if version == 0:
            conn.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at DOUBLE PRECISION)")
        for number in range(version, target):
            MIGRATIONS[number](conn)
            conn.execute("INSERT INTO schema_version (version, applied_at) VALUES (?, ?)", (number + 1, time.time()))
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return max(version, target)
