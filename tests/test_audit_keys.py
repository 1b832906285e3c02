"""Audit keys: every row names the key id it was hashed under, so a mismatch reads as one, never as tampering."""

from __future__ import annotations

from pathlib import Path

import pytest

from deepsentinel.audit import AuditLog, SQLiteAuditStore
from deepsentinel.audit.chain import BROKEN, OTHER_KEY, key_id
from tests.audit_factory import make_event
from tests.cli_runner import run_cli

K1 = b"first-audit-key-" + b"1" * 16
K2 = b"second-audit-key" + b"2" * 16


def _two_keys(path: Path) -> None:
    with SQLiteAuditStore(path, key=K1) as first:
        for _ in range(50):
            first.record(make_event())
    with SQLiteAuditStore(path, key=K2) as second:
        for _ in range(50):
            second.record(make_event())


def test_fifty_rows_under_each_key_report_a_key_mismatch_not_an_altered_row(tmp_path: Path) -> None:
    """The issue's case: verify under K1 names rows 51-100 and K2's id, and never says 'altered'."""
    path = tmp_path / "a.sqlite3"
    _two_keys(path)
    with AuditLog(path, key=K1) as log:
        result = log.verify()
    assert not result.ok and result.status == OTHER_KEY, result
    assert "altered" not in result.reason and "not evidence of tampering" in result.reason
    (other,) = result.other_keys
    assert (other.key_id, other.rows, other.first_seq, other.last_seq) == (key_id(K2), 50, 51, 100)
    assert K2.decode() not in result.reason and key_id(K2) in result.reason


def test_both_keys_verify_the_whole_trail(tmp_path: Path) -> None:
    """Given the earlier key too (rotation), every row is content-checked and the trail is intact."""
    path = tmp_path / "b.sqlite3"
    _two_keys(path)
    with AuditLog(path, key=K2, other_keys=[K1]) as log:
        result = log.verify()
    assert result.ok and result.checked == 100, result


def test_an_edit_under_another_key_is_still_tampering_once_that_key_is_given(tmp_path: Path) -> None:
    """A row edited among K2's rows is reported as altered when K2 is known."""
    import sqlite3

    path = tmp_path / "c.sqlite3"
    _two_keys(path)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("UPDATE audit_events SET model = 'edited' WHERE seq = 70")
    conn.close()
    with AuditLog(path, key=K1, other_keys=[K2]) as log:
        result = log.verify()
    assert result.status == BROKEN and result.first_bad_row == 70 and "altered" in result.reason


def test_cli_names_the_mismatch_and_accepts_old_keys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`audit verify` says 'not verified ... audit key differs'; with DEEPSENTINEL_AUDIT_OLD_KEYS it is intact."""
    path = tmp_path / "d.sqlite3"
    _two_keys(path)
    monkeypatch.setenv("DEEPSENTINEL_AUDIT_KEY", K2.decode())
    monkeypatch.delenv("DEEPSENTINEL_AUDIT_OLD_KEYS", raising=False)
    mismatch = run_cli(["audit", "verify", "--db", str(path)])
    assert mismatch.code == 1 and "audit chain not verified" in mismatch.err and "rows 1-50" in mismatch.err
    assert "broken" not in mismatch.err and K1.decode() not in mismatch.err
    monkeypatch.setenv("DEEPSENTINEL_AUDIT_OLD_KEYS", K1.decode())
    both = run_cli(["audit", "verify", "--db", str(path)])
    assert both.code == 0 and "100 row(s) checked" in both.out, both
