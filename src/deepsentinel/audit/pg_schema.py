"""The PostgreSQL audit schema: the SQLite layout with PostgreSQL types, created once under a lock.

The bookkeeping matches the SQLite store (``schema_version``, ``audit_meta``), so ``sql.py`` serves both.
Text columns are ``TEXT`` (no length limits to trip over) and integers ``BIGINT`` (the codec clamps to 64
bits). Creation runs under a session advisory lock, so several processes starting at once create it once.
"""

from __future__ import annotations

import time
from typing import Any

import psycopg

from deepsentinel.audit.chain import key_id
from deepsentinel.errors import ConfigurationError

#: The advisory lock id every writer takes before appending ("dsaudit" in ASCII).
LOCK_ID = 0x64736175646974
_SCHEMA_LOCK = LOCK_ID + 1
SCHEMA_VERSION = 1

_DDL = (
    """CREATE TABLE IF NOT EXISTS audit_events (
        seq BIGINT PRIMARY KEY, kind TEXT NOT NULL, request_id TEXT NOT NULL, ts DOUBLE PRECISION NOT NULL,
        outcome TEXT, provider TEXT, model TEXT, operation TEXT, direction TEXT, policies TEXT, findings TEXT,
        risk_score DOUBLE PRECISION, streamed BIGINT, chunks BIGINT, latency_ms DOUBLE PRECISION,
        provider_latency_ms DOUBLE PRECISION, prompt_tokens BIGINT, completion_tokens BIGINT, target TEXT,
        error_type TEXT, content_hash TEXT, anonymized_text TEXT, details TEXT, key_id TEXT,
        prev_hash TEXT NOT NULL, row_hash TEXT NOT NULL)""",
    "CREATE TABLE IF NOT EXISTS audit_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS audit_tags (seq BIGINT NOT NULL, tag TEXT NOT NULL, value TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS audit_events_ts ON audit_events (ts)",
    "CREATE INDEX IF NOT EXISTS audit_events_kind_outcome ON audit_events (kind, outcome)",
    "CREATE INDEX IF NOT EXISTS audit_events_request_id ON audit_events (request_id)",
    "CREATE INDEX IF NOT EXISTS audit_tags_lookup ON audit_tags (tag, value, seq)",
    "CREATE INDEX IF NOT EXISTS audit_tags_seq ON audit_tags (seq)",
    "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at DOUBLE PRECISION)",
)


def _version(conn: psycopg.Connection[Any]) -> int:
    exists = conn.execute("SELECT to_regclass('schema_version') IS NOT NULL").fetchone()
    if not exists or not exists[0]:
        return 0
    found = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
    return int(found[0] or 0) if found else 0


def ensure_schema(conn: psycopg.Connection[Any], key: bytes | None, *, claim: bool = True) -> None:
    """Create the tables if missing and (``claim``) record the first writer's key id; commits."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
        version = _version(conn)
        if version > SCHEMA_VERSION:
            raise ConfigurationError(
                f"the audit database has schema version {version}; this library reads up to {SCHEMA_VERSION}"
            )
        if version < SCHEMA_VERSION:
            for statement in _DDL:
                conn.execute(statement)
            conn.execute("INSERT INTO schema_version (version, applied_at) VALUES (%s, %s) ON CONFLICT DO NOTHING",
                         (SCHEMA_VERSION, time.time()))
        if claim:
            conn.execute("INSERT INTO audit_meta (name, value) VALUES ('key_id', %s) ON CONFLICT DO NOTHING",
                         (key_id(key),))


def require_schema(conn: psycopg.Connection[Any], where: str) -> None:
    """Raise ``ConfigurationError`` unless the database holds an audit trail this library can read."""
    with conn.transaction():
        version = _version(conn)
    if version == 0:
        raise ConfigurationError(f"{where} holds no DeepSentinel audit trail")
    if version > SCHEMA_VERSION:
        raise ConfigurationError(f"the audit database has schema version {version}; this library reads up to {SCHEMA_VERSION}")
