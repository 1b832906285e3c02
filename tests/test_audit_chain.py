"""The hash chain: verification, tamper detection that names the row, retention, and no raw values on disk."""

from __future__ import annotations

import hashlib
import io
import json
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from deepsentinel.audit import AuditLog, Outcome, SQLiteAuditStore, export_jsonl
from deepsentinel.audit.chain import GENESIS
from deepsentinel.audit.codec import COLUMNS, canonical
from tests.audit_factory import AUDIT_KEY, finding, make_event, secret_text

Tamper = Callable[[sqlite3.Connection], None]


def _written(path: Path, n: int = 5, key: bytes | None = AUDIT_KEY, **kw: object) -> None:
    with SQLiteAuditStore(path, key=key) as s:
        for i in range(n):
            s.record(make_event(Outcome.BLOCKED if i % 2 else Outcome.ALLOWED, findings=(finding(),), **kw))


def _tamper(path: Path, sql: str, *params: object) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute(sql, params)
    conn.close()


def _edited_value(column: str) -> object:
    """A different value of the column's type (every stored column, including the chain's own)."""
    if column == "seq":
        return 99
    if column in ("risk_score", "latency_ms", "provider_latency_ms", "ts"):
        return 0.5
    if column in ("streamed", "chunks", "prompt_tokens", "completion_tokens"):
        return 77
    if column in ("prev_hash", "row_hash"):
        return "f" * 64
    if column == "findings":
        return "[]"
    if column == "details":
        return json.dumps({"first_kept_seq": 1, "anchor_hash": GENESIS})
    return "edited"


@pytest.mark.parametrize("column", COLUMNS)
def test_editing_any_column_of_a_middle_row_names_that_row(tmp_path: Path, column: str) -> None:
    """Whatever column of row 3 is changed, verification fails at row 3."""
    path = tmp_path / "a.sqlite3"
    _written(path)
    _tamper(path, f"UPDATE audit_events SET {column} = ? WHERE seq = 3", _edited_value(column))
    result = AuditLog(path, key=AUDIT_KEY).verify()
    assert not result.ok and result.first_bad_row == 3, result


def _delete_middle(conn: sqlite3.Connection) -> None:
    conn.execute("DELETE FROM audit_events WHERE seq = 3")


def _delete_first(conn: sqlite3.Connection) -> None:
    conn.execute("DELETE FROM audit_events WHERE seq = 1")


def _swap_positions(conn: sqlite3.Connection) -> None:
    conn.execute("UPDATE audit_events SET seq = -1 WHERE seq = 2")
    conn.execute("UPDATE audit_events SET seq = 2 WHERE seq = 4")
    conn.execute("UPDATE audit_events SET seq = 4 WHERE seq = -1")


def _swap_contents(conn: sqlite3.Connection) -> None:
    cols = [c for c in COLUMNS if c != "seq"]
    two, four = (conn.execute(f"SELECT {', '.join(cols)} FROM audit_events WHERE seq = ?", (s,)).fetchone()
                 for s in (2, 4))
    assignments = ", ".join(f"{c} = ?" for c in cols)
    conn.execute(f"UPDATE audit_events SET {assignments} WHERE seq = 2", four)
    conn.execute(f"UPDATE audit_events SET {assignments} WHERE seq = 4", two)


def _renumber_after_delete(conn: sqlite3.Connection) -> None:
    conn.execute("DELETE FROM audit_events WHERE seq = 3")
    conn.execute("UPDATE audit_events SET seq = seq - 1 WHERE seq > 3")


@pytest.mark.parametrize(
    ("tamper", "bad_row"),
    [(_delete_middle, 3), (_delete_first, 1), (_swap_positions, 2), (_swap_contents, 2),
     (_renumber_after_delete, 3)],
    ids=["delete-middle", "delete-first", "reorder-seq", "reorder-content", "delete-and-renumber"],
)
def test_deleting_or_reordering_rows_names_the_row(tmp_path: Path, tamper: Tamper, bad_row: int) -> None:
    """Removal and reordering fail verification at the first affected position, with a reason."""
    path = tmp_path / "a.sqlite3"
    _written(path)
    conn = sqlite3.connect(path, isolation_level=None)
    tamper(conn)
    conn.close()
    result = AuditLog(path, key=AUDIT_KEY).verify()
    assert not result.ok and result.first_bad_row == bad_row, result
    assert f"row {bad_row}" in result.reason


def test_intact_chain_verifies_and_reports_its_head(tmp_path: Path) -> None:
    """An untouched log verifies every row and exposes the head hash for external anchoring."""
    path = tmp_path / "a.sqlite3"
    _written(path, n=7)
    result = AuditLog(path, key=AUDIT_KEY).verify()
    assert result.ok and result.checked == 7 and result.head_seq == 7
    conn = sqlite3.connect(path)
    assert result.head_hash == conn.execute("SELECT row_hash FROM audit_events WHERE seq = 7").fetchone()[0]
    conn.close()


def test_keyed_chain_cannot_be_re_forged_without_the_key(tmp_path: Path) -> None:
    """Editing a row and recomputing plain SHA-256 hashes from there on still fails under the key."""
    path = tmp_path / "a.sqlite3"
    _written(path)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("UPDATE audit_events SET outcome = 'allowed' WHERE seq = 2")
    prev = conn.execute("SELECT row_hash FROM audit_events WHERE seq = 1").fetchone()[0]
    for row in conn.execute(f"SELECT {', '.join(COLUMNS)} FROM audit_events WHERE seq >= 2 ORDER BY seq").fetchall():
        row = (*row[:-2], prev)
        new = hashlib.sha256(prev.encode() + canonical(row)).hexdigest()
        conn.execute("UPDATE audit_events SET prev_hash = ?, row_hash = ? WHERE seq = ?", (prev, new, row[0]))
        prev = new
    conn.close()
    result = AuditLog(path, key=AUDIT_KEY).verify()
    assert not result.ok and result.first_bad_row == 2


def test_verifying_with_another_key_says_so(tmp_path: Path) -> None:
    """A wrong (or missing) key is reported as such rather than as tampering."""
    path = tmp_path / "a.sqlite3"
    _written(path)
    result = AuditLog(path).verify()
    assert not result.ok and "key" in result.reason


def test_prune_deletes_old_rows_and_keeps_the_chain_verifiable(tmp_path: Path) -> None:
    """Retention removes only old events, records itself, and verify passes before and after new writes."""
    path = tmp_path / "a.sqlite3"
    now = time.time()
    with AuditLog(path, key=AUDIT_KEY) as log:
        for age_days in (40, 35, 31, 2, 1):
            log.store.record(make_event(timestamp=now - age_days * 86400))
        assert log.prune(older_than_days=30) == 3
        assert [round((now - e.timestamp) / 86400) for e in log.list()] == [2, 1]
        assert log.verify().ok
        log.store.record(make_event(Outcome.BLOCKED))
        assert log.prune(older_than_days=30) == 0  # a second retention run, nothing old left
        result = log.verify()
        assert result.ok and result.checked == 5  # 3 events + 2 prune records
        assert log.report().total == 3  # prune records are not calls


def test_prune_everything_then_continue(tmp_path: Path) -> None:
    """Deleting every event leaves only the prune record as the chain's anchor; new events link to it."""
    path = tmp_path / "a.sqlite3"
    with AuditLog(path, key=AUDIT_KEY) as log:
        for _ in range(3):
            log.store.record(make_event(timestamp=time.time() - 10))
        assert log.prune(older_than_days=0) == 3
        assert log.list() == [] and log.verify().ok
        log.store.record(make_event())
        assert log.verify().ok and log.verify().checked == 2


def test_deleting_the_prune_record_or_faking_retention_is_detected(tmp_path: Path) -> None:
    """Dropping old rows without a chained prune record, or removing that record, fails at row 1."""
    path = tmp_path / "a.sqlite3"
    now = time.time()
    with AuditLog(path, key=AUDIT_KEY) as log:
        for age in (9, 8, 1):
            log.store.record(make_event(timestamp=now - age * 86400))
        log.prune(older_than_days=5)
        log.store.record(make_event())
        log.store.flush()
    _tamper(path, "DELETE FROM audit_events WHERE kind = 'prune'")
    result = AuditLog(path, key=AUDIT_KEY).verify()
    assert not result.ok and result.first_bad_row == 1

    other = tmp_path / "b.sqlite3"
    _written(other)
    _tamper(other, "DELETE FROM audit_events WHERE seq <= 2")
    result = AuditLog(other, key=AUDIT_KEY).verify()
    assert not result.ok and result.first_bad_row == 1


def test_no_raw_value_reaches_the_database_or_the_export(tmp_path: Path) -> None:
    """The secret in the call's text appears nowhere: not in the DB, its WAL, nor the JSONL export."""
    path = tmp_path / "a.sqlite3"
    text = secret_text()
    secret = text.split()[3]
    with SQLiteAuditStore(path, key=AUDIT_KEY) as s:
        for o in Outcome:
            s.record(make_event(o, text=text, findings=(finding(),)))
        s.flush()
        out = io.StringIO()
        assert export_jsonl(s, out) == len(Outcome)
        on_disk = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("a.sqlite3"))
        assert secret.encode() not in on_disk and secret[4:20].encode() not in on_disk
        assert secret not in out.getvalue()
        assert s.query()[0].content_hash is not None  # the call is still matchable by its keyed hash


def test_jsonl_export_lines_carry_the_chain_and_respect_filters(tmp_path: Path) -> None:
    """Each line is one event with seq and hashes linking to the previous line; filters apply."""
    path = tmp_path / "a.sqlite3"
    _written(path, n=4)
    target = tmp_path / "out.jsonl"
    with AuditLog(path, key=AUDIT_KEY) as log:
        assert log.export_jsonl(target) == 4
        lines = [json.loads(line) for line in target.read_text().splitlines()]
        assert [line["seq"] for line in lines] == [1, 2, 3, 4]
        assert all(b["prev_hash"] == a["row_hash"] for a, b in zip(lines, lines[1:], strict=False))
        assert lines[0]["outcome"] == "allowed" and lines[0]["findings"][0]["type"] == "GITHUB_TOKEN"
        assert log.export_jsonl(tmp_path / "blocked.jsonl", outcome="blocked") == 2


def test_the_canonical_form_and_hashes_are_stable() -> None:
    """Golden values: changing the canonical encoding would make every existing log fail verification."""
    from deepsentinel.audit import AuditEvent, FindingRecord
    from deepsentinel.audit.chain import row_hash
    from deepsentinel.audit.codec import event_row

    f = FindingRecord("EMAIL_ADDRESS", "PII", "request", "messages[0].content", 3, 20, 0.9, 0.54, "anonymize", "gdpr")
    e = AuditEvent(Outcome.ANONYMIZED, "openai", "gpt-4o-mini", policies=("gdpr",), findings=(f,), risk_score=0.54,
                   latency_ms=12.5, provider_latency_ms=10, prompt_tokens=7, request_id="r-1", timestamp=1767225600.25)
    row = event_row(1, e, GENESIS)
    assert canonical(row).startswith(b'{"chunks":0,"direction":"request","findings":"[{\\"action\\":\\"anonymize\\"')
    assert row_hash(GENESIS, row, None) == "96e947bde3100e48f5cd99c3844ff3cea5e13a688e54ce49ea928c0ba87fa7bf"
    assert row_hash(GENESIS, row, b"k") == "400f4b7e6c46cfcbb2bd274477681b30f4663176ffb8b9f9c8576eeb6afffbab"
