"""``deepsentinel audit``: list, report, verify, export and prune on a trail written by real client calls."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timezone
from pathlib import Path

import pytest

from deepsentinel import ComplianceViolationError, SentinelClient
from deepsentinel.audit import SQLiteAuditStore
from deepsentinel.testing import FakeLLMServer, Reply
from tests.cli_runner import run_cli

SSN = "123-45-" + "6789"


@pytest.fixture
def audit_db(tmp_path: Path, fake_server: FakeLLMServer) -> Path:
    """Three calls through the SDK: allowed, blocked (SSN in the prompt), and a stream cut by a card."""
    path = tmp_path / "trail.sqlite3"
    fake_server.enqueue(Reply(text="Hello there."), Reply(chunks=["Card: ", "4111 1111", " 1111 1111", " ok"]))
    with SentinelClient(openai_api_key="test-key", base_url=fake_server.openai_base_url,
                        audit=SQLiteAuditStore(path)) as client:
        client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
        with pytest.raises(ComplianceViolationError):
            client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": f"ssn {SSN}"}])
        with pytest.raises(ComplianceViolationError):
            for _ in client.chat.completions.create(
                model="gpt-4o-mini", messages=[{"role": "user", "content": "card?"}], stream=True
            ):
                pass
    return path


def test_list_table_and_filters(audit_db: Path) -> None:
    """The table lists every call with its outcome; --outcome and --type narrow it down."""
    everything = run_cli(["audit", "list", "--db", str(audit_db)])
    assert everything.code == 0
    assert "allowed" in everything.out and "blocked" in everything.out and "stream_terminated" in everything.out
    assert "3 event(s)" in everything.out
    blocked = run_cli(["audit", "list", "--db", str(audit_db), "--outcome", "blocked", "-f", "json"])
    (event,) = json.loads(blocked.out)
    assert event["seq"] == 2 and [f["type"] for f in event["findings"]] == ["US_SSN"]
    by_type = run_cli(["audit", "list", "--db", str(audit_db), "--type", "CREDIT_CARD", "-f", "jsonl"])
    assert [json.loads(line)["outcome"] for line in by_type.out.splitlines()] == ["stream_terminated"]
    none = run_cli(["audit", "list", "--db", str(audit_db), "--provider", "anthropic"])
    assert "no audit events match" in none.out
    assert SSN not in everything.out + blocked.out


def test_list_since_and_limit(audit_db: Path) -> None:
    """--since in the future matches nothing; --limit keeps the newest N, still oldest first."""
    assert json.loads(run_cli(["audit", "list", "--db", str(audit_db), "--since", "2999-01-01", "-f", "json"]).out) == []
    newest = json.loads(run_cli(["audit", "list", "--db", str(audit_db), "--limit", "2", "-f", "json"]).out)
    assert [e["seq"] for e in newest] == [2, 3]


def test_report_json_numbers(audit_db: Path) -> None:
    """The JSON report counts outcomes and findings from the trail."""
    result = run_cli(["audit", "report", "--db", str(audit_db), "--format", "json", "--verify"])
    report = json.loads(result.out)
    assert report["total"] == 3
    assert report["outcomes"]["allowed"] == 1 and report["outcomes"]["blocked"] == 1
    assert report["outcomes"]["stream_terminated"] == 1
    assert report["block_rate"] == pytest.approx(2 / 3, abs=1e-4)
    assert report["violations_by_type"]["US_SSN"] == 1 and "CREDIT_CARD" in report["violations_by_type"]
    assert report["chain"]["ok"] is True and report["chain"]["checked"] == 3


def test_report_table_and_html(audit_db: Path, tmp_path: Path) -> None:
    """The table report prints totals; --html writes a self-contained page with an inline SVG chart."""
    html_path = tmp_path / "report.html"
    result = run_cli(["audit", "report", "--db", str(audit_db), "--html", str(html_path)])
    assert result.code == 0 and "3 call(s)" in result.out and "block rate 66.7%" in result.out
    page = html_path.read_text(encoding="utf-8")
    assert page.startswith("<!doctype html>") and "<svg" in page and "<rect" in page
    assert "<script" not in page and "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "US_SSN" in page and SSN not in page


def test_html_report_names_its_period_in_words(audit_db: Path, tmp_path: Path) -> None:
    """The page header says which events it covers; an empty trail says so; never "Period - to -"."""
    today = datetime.now(timezone.utc).strftime("%Y-%m-%d")

    def header(*args: str) -> str:
        page = tmp_path / "report.html"
        assert run_cli(["audit", "report", "--html", str(page), *args]).code == 0
        html = page.read_text(encoding="utf-8")
        assert "Period -" not in html and "to -" not in html
        return html.split("<p class=muted>", 1)[1].split(". Generated", 1)[0]

    assert header("--db", str(audit_db)) == f"All events: {today} (UTC)"
    assert header("--db", str(audit_db), "--since", "2026-01-01").startswith("Events from 2026-01-01 00:00 UTC until")
    assert header("--db", str(audit_db), "--since", "2999-01-01", "--until", "2999-02-01") == (
        "Events from 2999-01-01 00:00 UTC to 2999-02-01 00:00 UTC: none recorded in this period"
    )
    assert run_cli(["audit", "prune", "--db", str(audit_db), "--older-than", "0", "--yes"]).code == 0
    assert header("--db", str(audit_db)) == "No events in the audit trail"


def test_verify_ok_then_tampered_row_is_named(audit_db: Path) -> None:
    """verify exits 0 on an intact chain, and 1 naming the row after an edit made behind its back."""
    ok = run_cli(["audit", "verify", "--db", str(audit_db)])
    assert ok.code == 0 and "intact" in ok.out and "3 row(s)" in ok.out
    with sqlite3.connect(audit_db) as conn:
        conn.execute("UPDATE audit_events SET outcome = 'allowed' WHERE seq = 2")
    bad = run_cli(["audit", "verify", "--db", str(audit_db)])
    assert bad.code == 1
    assert bad.err.strip() == "deepsentinel: error: audit chain broken at row 2: row 2 was altered: its content does not match its row_hash"


def test_export_to_stdout_and_file(audit_db: Path, tmp_path: Path) -> None:
    """export writes one JSON object per event with its chain hashes, to stdout or a file."""
    out = run_cli(["audit", "export", "--db", str(audit_db)])
    lines = [json.loads(line) for line in out.out.splitlines()]
    assert [e["seq"] for e in lines] == [1, 2, 3] and all(len(e["row_hash"]) == 64 for e in lines)
    assert "exported 3 event(s)" in out.err
    target = tmp_path / "blocked.jsonl"
    run_cli(["audit", "export", "--db", str(audit_db), "--outcome", "blocked", "--output", str(target)])
    assert [json.loads(line)["outcome"] for line in target.read_text().splitlines()] == ["blocked"]


def test_prune_keeps_the_chain_verifiable(audit_db: Path) -> None:
    """prune --older-than 0 deletes every event and the chain still verifies."""
    pruned = run_cli(["audit", "prune", "--db", str(audit_db), "--older-than", "0"])
    assert pruned.code == 0 and "pruned 3 event(s)" in pruned.out
    assert json.loads(run_cli(["audit", "list", "--db", str(audit_db), "-f", "json"]).out) == []
    assert run_cli(["audit", "verify", "--db", str(audit_db)]).code == 0


def test_default_db_comes_from_the_environment(audit_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without --db, DEEPSENTINEL_AUDIT_PATH names the database."""
    monkeypatch.setenv("DEEPSENTINEL_AUDIT_PATH", str(audit_db))
    assert "3 event(s)" in run_cli(["audit", "list"]).out


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["audit", "list", "--db", "missing.sqlite3"], 1, "no audit database at missing.sqlite3"),
        (["audit", "list", "--since", "last tuesday"], 2, "--since: expected a date"),
        (["audit", "list", "--outcome", "maybe"], 2, "'maybe' is not one of"),
        (["audit", "prune"], 2, "Missing option '--older-than'"),
        (["audit", "nope"], 2, "No such command 'nope'"),
    ],
)
def test_audit_errors_are_one_line(audit_db: Path, args: list[str], code: int, message: str,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Missing databases, bad times and bad flags give one line on stderr and the right exit code."""
    monkeypatch.setenv("DEEPSENTINEL_AUDIT_PATH", str(audit_db))
    result = run_cli(args)
    assert result.code == code and result.err.count("\n") == 1
    assert message in result.err


def test_a_file_that_is_not_a_database_is_one_line(tmp_path: Path) -> None:
    """Pointing --db at some other file fails with a one-line database error."""
    bogus = tmp_path / "notes.txt"
    bogus.write_text("not sqlite " * 200, encoding="utf-8")
    result = run_cli(["audit", "verify", "--db", str(bogus)])
    assert result.code == 1 and result.err.count("\n") == 1
    assert result.err.startswith("deepsentinel: error: audit database error:")
