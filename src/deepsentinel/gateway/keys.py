"""Client keys of the gateway: what a key may do, and where keys are kept (hashed, never in clear).

Two sources, used together: ``DEEPSENTINEL_GATEWAY_KEYS="name=key,..."`` (the simplest setup) and a key
database managed with ``deepsentinel keys create|list|revoke``: SQLite by default, PostgreSQL for a
``postgresql://`` URL, so every gateway node sees the same keys. A key is stored as its SHA-256 digest:
keys are 256-bit random tokens, so a fast digest is enough (no password stretching needed) and lookups
stay one indexed read.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import sqlite3
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deepsentinel.audit.paths import default_audit_path, is_postgres_url
from deepsentinel.errors import ConfigurationError

KEY_PREFIX = "dsk-"
ENV_KEYS = "DEEPSENTINEL_GATEWAY_KEYS"
ENV_KEYS_URL = "DEEPSENTINEL_GATEWAY_KEYS_URL"


@dataclass(frozen=True)
class ClientKey:
    """One client of the gateway. ``models`` empty: any model; ``policies`` empty: the gateway's own;
    ``rate_limit``: requests per minute (``None``: the gateway's default)."""

    name: str
    digest: str = field(repr=False)
    policies: tuple[str, ...] = ()
    models: tuple[str, ...] = ()
    rate_limit: int | None = None
    created_at: float = 0.0
    revoked: bool = False

    def allows_model(self, model: str) -> bool:
        return not self.models or model in self.models


def digest(key: str) -> str:
    """The stored form of a key."""
    return hashlib.sha256(key.encode()).hexdigest()


def new_key() -> str:
    """A fresh random client key (``dsk-`` + 43 URL-safe characters)."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


def parse_env_keys(raw: str | None) -> dict[str, ClientKey]:
    """``name=key,name2=key2`` as digest -> key. Raises ``ConfigurationError`` naming the bad entry's position."""
    out: dict[str, ClientKey] = {}
    for i, item in enumerate((raw or "").split(","), 1):
        item = item.strip()
        if not item:
            continue
        name, sep, key = item.partition("=")
        if not sep or not name.strip() or len(key.strip()) < 8:
            raise ConfigurationError(f"{ENV_KEYS}: entry {i} must be name=key with a key of 8+ characters")
        out[digest(key.strip())] = ClientKey(name.strip(), digest(key.strip()))
    return out


def default_keys_location(environ: Mapping[str, str]) -> str:
    """Where keys live: ``DEEPSENTINEL_GATEWAY_KEYS_URL``, else a PostgreSQL ``DEEPSENTINEL_AUDIT_URL``,
    else ``gateway-keys.sqlite3`` beside the default audit database."""
    explicit = environ.get(ENV_KEYS_URL)
    if explicit:
        return explicit
    audit_url = environ.get("DEEPSENTINEL_AUDIT_URL", "")
    if is_postgres_url(audit_url):
        return audit_url
    return str(default_audit_path(environ).with_name("gateway-keys.sqlite3"))


_COLUMNS = "name, digest, policies, models, rate_limit, created_at, revoked_at"


class KeyStore:
    """Keys in SQLite (a path) or PostgreSQL (a ``postgresql://`` URL). Thread-safe: one connection per call."""

    def __init__(self, location: str) -> None:
        self.location = location
        self.postgres = is_postgres_url(location)
        self._ready = False

    def __repr__(self) -> str:
        return f"KeyStore({'postgresql' if self.postgres else 'sqlite'})"  # a URL may carry a password

    @contextmanager
    def _connect(self) -> Iterator[Any]:
        if self.postgres:
            import psycopg  # loads only when used

            with psycopg.connect(self.location, autocommit=True) as pg:
                yield pg
            return
        path = Path(self.location).expanduser()
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, timeout=10)
        try:
            with conn:
                yield conn
        finally:
            conn.close()

    def _sql(self, text: str) -> str:
        return text.replace("?", "%s") if self.postgres else text

    def _ensure(self, conn: Any) -> None:
        if self._ready:
            return
        conn.execute(
            "CREATE TABLE IF NOT EXISTS deepsentinel_gateway_keys (name TEXT PRIMARY KEY, digest TEXT NOT NULL UNIQUE, "
            "policies TEXT NOT NULL, models TEXT NOT NULL, rate_limit INTEGER, created_at DOUBLE PRECISION NOT NULL, "
            "revoked_at DOUBLE PRECISION)"
        )
        self._ready = True

    def create(self, name: str, *, policies: tuple[str, ...] = (), models: tuple[str, ...] = (),
               rate_limit: int | None = None) -> str:
        """Store a new key under ``name`` and return it: the only time it is shown."""
        if not name or len(name) > 100:
            raise ConfigurationError("a key name must have 1 to 100 characters")
        key = new_key()
        with self._connect() as conn:
            self._ensure(conn)
            row = conn.execute(self._sql("SELECT revoked_at FROM deepsentinel_gateway_keys WHERE name = ?"), (name,)).fetchone()
            if row is not None and row[0] is None:
                raise ConfigurationError(f"a key named {name!r} exists; revoke it first")
            if row is not None:
                conn.execute(self._sql("DELETE FROM deepsentinel_gateway_keys WHERE name = ?"), (name,))
            conn.execute(
                self._sql(f"INSERT INTO deepsentinel_gateway_keys ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, NULL)"),
                (name, digest(key), json.dumps(list(policies)), json.dumps(list(models)), rate_limit, time.time()),
            )
        return key

    def revoke(self, name: str) -> bool:
        """Revoke the key named ``name``; False when there is no live key of that name."""
        with self._connect() as conn:
            self._ensure(conn)
            cur = conn.execute(self._sql("UPDATE deepsentinel_gateway_keys SET revoked_at = ? WHERE name = ? "
                                         "AND revoked_at IS NULL"), (time.time(), name))
            return bool(cur.rowcount)

    def list(self) -> list[ClientKey]:
        """Every key, revoked ones included, oldest first."""
        with self._connect() as conn:
            self._ensure(conn)
            rows = conn.execute(f"SELECT {_COLUMNS} FROM deepsentinel_gateway_keys ORDER BY created_at").fetchall()
        return [_row(r) for r in rows]

    def find(self, key_digest: str) -> ClientKey | None:
        """The live key with this digest, if any."""
        with self._connect() as conn:
            self._ensure(conn)
            row = conn.execute(self._sql(f"SELECT {_COLUMNS} FROM deepsentinel_gateway_keys WHERE digest = ? "
                                         "AND revoked_at IS NULL"), (key_digest,)).fetchone()
        return _row(row) if row is not None else None


def _row(r: Any) -> ClientKey:
    return ClientKey(r[0], r[1], tuple(json.loads(r[2])), tuple(json.loads(r[3])), r[4], float(r[5]), r[6] is not None)


__all__ = ["ENV_KEYS", "ENV_KEYS_URL", "ClientKey", "KeyStore", "default_keys_location", "digest", "new_key",
           "parse_env_keys"]
