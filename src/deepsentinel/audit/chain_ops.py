"""The chain's read and write operations, written once over a DB-API connection (sqlite3 or psycopg).

Each backend opens the transaction and takes its write lock (SQLite ``BEGIN IMMEDIATE``, PostgreSQL an
advisory lock); what happens inside is here: read the tail, chain the new rows, insert rows and index
entries; walk the chain to verify it; delete a prefix and chain a record of the deletion.
"""

from __future__ import annotations

import itertools
import json
import operator
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from deepsentinel.audit.chain import BROKEN, GENESIS, ChainVerification, ChainVerifier, key_id, row_hash
from deepsentinel.audit.codec import event_row, gap_row, prune_row, row_tags, stored_tags
from deepsentinel.audit.events import AuditEvent
from deepsentinel.audit.sql import Statements
from deepsentinel.errors import ConfigurationError

#: A loss waiting to be recorded in the chain: how many events, and the error type that cost them.
Loss = tuple[int, str]


def append(conn: Any, sql: Statements, events: Sequence[AuditEvent], losses: Sequence[Loss],
           key: bytes | None) -> int:
    """Chain ``losses`` (as gap rows) then ``events`` after the current tail; the caller holds the lock.

    Returns the ``seq`` of the last row written.
    """
    tail = conn.execute(sql.tail).fetchone()
    seq, prev = (int(tail[0]), str(tail[1])) if tail else (0, GENESIS)
    kid = key_id(key)
    rows: list[tuple[Any, ...]] = []
    tags: list[tuple[int, str, str]] = []
    now = time.time()
    for lost, reason in losses:
        seq += 1
        row = gap_row(seq, uuid.uuid4().hex, now, lost, reason, prev, kid)
        prev = row_hash(prev, row, key)
        rows.append((*row, prev))
    for event in events:
        seq += 1
        row = event_row(seq, event, prev, kid)
        prev = row_hash(prev, row, key)
        rows.append((*row, prev))
        # Sanitized values, as stored: the index must match what verify() re-derives from the row.
        tags.extend((seq, tag, value) for tag, value in stored_tags(event))
    cursor = conn.cursor()
    try:
        if rows:
            cursor.executemany(sql.insert_event, rows)
        if tags:
            cursor.executemany(sql.insert_tag, tags)
    finally:
        cursor.close()
    return seq


def chain_start(conn: Any, sql: Statements) -> tuple[int, str]:
    """Where the chain must begin: genesis, or the anchor recorded by the latest retention prune."""
    found = conn.execute(sql.latest_prune).fetchone()
    if found is None:
        return 1, GENESIS
    try:
        details = json.loads(found[0])
        return int(details["first_kept_seq"]), str(details["anchor_hash"])
    except (TypeError, ValueError, KeyError):
        return 1, GENESIS  # a mangled prune row: the walk will report it when it fails to hash


def legacy_key_id(conn: Any, sql: Statements) -> str | None:
    """The key id the store recorded when it was created (rows from before per-row key ids used it)."""
    found = conn.execute(sql.get_key_id).fetchone()
    return None if found is None else str(found[0])


def verify(rows: Iterable[Sequence[Any]], tags: Iterable[Sequence[Any]], keys: Sequence[bytes | None], *,
           legacy: str | None, start: tuple[int, str]) -> ChainVerification:
    """Walk ``rows`` (chain order) and the index entries ``tags`` (``seq`` order) and give the verdict."""
    verifier = ChainVerifier(keys, legacy_key_id=legacy, start_seq=start[0], start_hash=start[1])
    index = IndexCheck(iter(tags))
    bad: int | None = None
    for row in rows:
        if not verifier.feed(row):
            return verifier.result()
        if (bad := index.feed(row)) is not None:
            break
    bad = bad if bad is not None else index.leftover()
    if bad is not None:
        return ChainVerification(False, verifier.checked, bad, f"row {bad}'s filter index (audit_tags) does not "
                                 "match its findings and policies", status=BROKEN)
    return verifier.result()


class IndexCheck:
    """Checks the filter index (``audit_tags``) against the chained rows it was derived from.

    The index lives outside the chain; without this check, deleting an event's index entries would hide it
    from ``list(entity_type=...)`` and ``audit list --type`` while ``verify()`` still passed.
    """

    def __init__(self, tags: Iterator[Sequence[Any]]) -> None:
        self._groups = itertools.groupby(tags, key=operator.itemgetter(0))
        self._next = next(self._groups, None)

    def feed(self, row: Sequence[Any]) -> int | None:
        """The ``seq`` whose index entries are wrong (this row's, or an earlier orphan's), else None."""
        seq = row[0]
        if self._next is not None and self._next[0] < seq:
            return int(self._next[0])  # entries for a row that is not in the chain
        stored: list[tuple[str, str]] = []
        if self._next is not None and self._next[0] == seq:
            stored = sorted((tag, value) for _seq, tag, value in self._next[1])
            self._next = next(self._groups, None)
        return None if stored == sorted(row_tags(row)) else int(seq)

    def leftover(self) -> int | None:
        """After the last row: the ``seq`` of index entries beyond the chain, if any."""
        return None if self._next is None else int(self._next[0])


def require_tail_key(conn: Any, sql: Statements, key: bytes | None) -> None:
    """Refuse (``ConfigurationError``) unless the newest row was written under ``key``.

    A prune under another key would delete rows and chain its record under a key the trail's writer does
    not hold: keep everything instead, and say which key is needed.
    """
    tail = conn.execute(sql.tail_key).fetchone()
    if tail is None:
        return
    found = tail[0] or legacy_key_id(conn, sql) or key_id(key)
    if found != key_id(key):
        raise ConfigurationError(
            f"the audit key differs from the one this log is written with (key id {found}); nothing was pruned"
        )


def prune(conn: Any, sql: Statements, key: bytes | None, cutoff: float, now: float, days: float) -> int:
    """Delete the oldest run of rows older than ``cutoff`` and chain a record of the deletion.

    The caller holds the write lock. Only a prefix of the chain is removed (rows before the first row at or
    after the cutoff), so the rest stays verifiable from the anchor the prune row records: the
    ``prev_hash`` the first kept row links to.
    """
    tail = conn.execute(sql.tail).fetchone()
    tail_seq, tail_hash = (int(tail[0]), str(tail[1])) if tail else (0, GENESIS)
    new_seq = tail_seq + 1
    first_fresh = conn.execute(sql.first_at_or_after, (cutoff,)).fetchone()[0]
    first_kept = new_seq if first_fresh is None else int(first_fresh)
    anchor = tail_hash
    if first_fresh is not None:
        anchor = conn.execute(sql.prev_hash_of, (first_kept,)).fetchone()[0]
    deleted = conn.execute(sql.count_events_before, (first_kept,)).fetchone()[0]
    conn.execute(sql.delete_tags_before, (first_kept,))
    conn.execute(sql.delete_rows_before, (first_kept,))
    details = {"deleted_events": deleted, "cutoff": cutoff, "older_than_days": float(days),
               "first_kept_seq": first_kept, "anchor_hash": anchor}
    row = prune_row(new_seq, uuid.uuid4().hex, now, details, tail_hash, key_id(key))
    conn.execute(sql.insert_event, (*row, row_hash(tail_hash, row, key)))
    return int(deleted)
