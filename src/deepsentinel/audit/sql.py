"""The audit store's SQL, written once for every backend: plain SQL-92 plus ``LIMIT``.

Only the parameter placeholder differs between drivers (``?`` for sqlite3, ``%s`` for psycopg), so the
statements are built for a given placeholder. Transaction control (taking the write lock) is the backend's
business and is not here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from deepsentinel.audit import sanitize as clean
from deepsentinel.audit.codec import COLUMNS, KIND_EVENT, KIND_PRUNE
from deepsentinel.audit.store import AuditFilter

_COLS = ", ".join(COLUMNS)


@dataclass(frozen=True)
class Statements:
    """Every statement the store runs, for one placeholder style."""

    p: str = "?"
    insert_event: str = field(init=False)
    insert_tag: str = field(init=False)
    tail: str = field(init=False)
    tail_key: str = field(init=False)
    walk: str = field(init=False)
    walk_tags: str = field(init=False)
    latest_prune: str = field(init=False)
    get_key_id: str = field(init=False)
    put_key_id: str = field(init=False)
    first_at_or_after: str = field(init=False)
    prev_hash_of: str = field(init=False)
    count_events_before: str = field(init=False)
    delete_tags_before: str = field(init=False)
    delete_rows_before: str = field(init=False)

    def __post_init__(self) -> None:
        p = self.p
        put = object.__setattr__
        put(self, "insert_event", f"INSERT INTO audit_events ({_COLS}) VALUES ({', '.join([p] * len(COLUMNS))})")
        put(self, "insert_tag", f"INSERT INTO audit_tags (seq, tag, value) VALUES ({p}, {p}, {p})")
        put(self, "tail", "SELECT seq, row_hash FROM audit_events ORDER BY seq DESC LIMIT 1")
        put(self, "tail_key", "SELECT key_id FROM audit_events ORDER BY seq DESC LIMIT 1")
        put(self, "walk", f"SELECT {_COLS} FROM audit_events ORDER BY seq")
        put(self, "walk_tags", "SELECT seq, tag, value FROM audit_tags ORDER BY seq")
        put(self, "latest_prune",
            f"SELECT details FROM audit_events WHERE kind = '{KIND_PRUNE}' ORDER BY seq DESC LIMIT 1")
        put(self, "get_key_id", "SELECT value FROM audit_meta WHERE name = 'key_id'")
        put(self, "put_key_id", f"INSERT INTO audit_meta (name, value) VALUES ('key_id', {p})")
        put(self, "first_at_or_after", f"SELECT MIN(seq) FROM audit_events WHERE ts >= {p}")
        put(self, "prev_hash_of", f"SELECT prev_hash FROM audit_events WHERE seq = {p}")
        put(self, "count_events_before",
            f"SELECT COUNT(*) FROM audit_events WHERE seq < {p} AND kind = '{KIND_EVENT}'")
        put(self, "delete_tags_before", f"DELETE FROM audit_tags WHERE seq < {p}")
        put(self, "delete_rows_before", f"DELETE FROM audit_events WHERE seq < {p}")

    def select(self, flt: AuditFilter) -> tuple[str, list[Any]]:
        """The query for a filter and its parameters."""
        p = self.p
        where: list[str] = [f"kind = {p}"]
        params: list[Any] = [KIND_EVENT]
        if flt.since is not None:
            where.append(f"ts >= {p}")
            params.append(flt.since)
        if flt.until is not None:
            where.append(f"ts < {p}")
            params.append(flt.until)
        if flt.outcome is not None:
            where.append(f"outcome = {p}")
            params.append(flt.outcome.value)
        # Filter values are sanitized as stored values were, so "hi \ud800" finds what it was stored as.
        if flt.provider is not None:
            where.append(f"provider = {p}")
            params.append(clean.text(flt.provider, clean.MAX_SHORT))
        for tag, value in (("entity", flt.entity_type), ("policy", flt.policy)):
            if value is not None:
                where.append(f"seq IN (SELECT seq FROM audit_tags WHERE tag = {p} AND value = {p})")
                params.extend((tag, clean.text(value, clean.MAX_SHORT)))
        order = "DESC" if flt.newest_first else "ASC"
        sql = f"SELECT {_COLS} FROM audit_events WHERE {' AND '.join(where)} ORDER BY seq {order}"
        if flt.limit is not None:
            sql += f" LIMIT {p}"
            params.append(flt.limit)
        return sql, params


#: The sqlite3 flavour.
QMARK = Statements("?")
