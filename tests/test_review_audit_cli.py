"""Review: the audit command line on keyed trails and foreign files, and the stored prompt text."""

from __future__ import annotations

import os
import signal
import sqlite3
import sys
import threading
import time
from pathlib import Path
from unittest import mock

import pytest

from deepsentinel import CompliancePolicy, SentinelClient, SentinelConfig
from deepsentinel.audit import AuditLog, MemorySink, SQLiteAuditStore
from deepsentinel.errors import ConfigurationError
from deepsentinel.testing import FakeLLMServer, Reply
from tests.audit_factory import AUDIT_KEY, finding, make_event
from tests.cli_runner import run_cli


def _keyed_db(path: Path, n: int = 3) -> Path:
    now = time.time()
    with SQLiteAuditStore(path, key=AUDIT_KEY) as store:
        for i in range(n):
            store.record(make_event(timestamp=now - (n - i) * 86400))
    return path


def test_audit_commands_read_the_key_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A trail written under DEEPSENTINEL_AUDIT_KEY verifies from the CLI when that variable is set."""
    db = _keyed_db(tmp_path / "keyed.sqlite3")
    monkeypatch.setenv("DEEPSENTINEL_AUDIT_KEY", AUDIT_KEY.decode())
    result = run_cli(["audit", "verify", "--db", str(db)])
    assert result.code == 0 and "3 row(s) checked" in result.out, result
    pruned = run_cli(["audit", "prune", "--db", str(db), "--older-than", "1.5", "--yes"])
    assert pruned.code == 0, pruned
    with AuditLog(db, key=AUDIT_KEY) as log:
        assert log.verify().ok


def test_a_wrong_key_is_named_and_prune_refuses_to_break_the_chain(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the trail's key, verify says the key differs and prune deletes nothing."""
    db = _keyed_db(tmp_path / "keyed.sqlite3")
    monkeypatch.delenv("DEEPSENTINEL_AUDIT_KEY", raising=False)
    verify = run_cli(["audit", "verify", "--db", str(db)])
    assert verify.code == 1 and verify.err.count("\n") == 1
    assert "audit key differs" in verify.err and "not evidence of tampering" in verify.err
    assert "broken" not in verify.err and "altered" not in verify.err
    prune = run_cli(["audit", "prune", "--db", str(db), "--older-than", "0", "--yes"])
    assert prune.code == 1 and prune.err.count("\n") == 1 and "audit key" in prune.err, prune
    with AuditLog(db, key=AUDIT_KEY) as log:
        result = log.verify()
        assert result.ok and result.checked == 3, result


def test_prune_with_another_key_raises_and_keeps_every_row(tmp_path: Path) -> None:
    """AuditLog.prune under the wrong key refuses rather than append a row no key can verify."""
    db = _keyed_db(tmp_path / "keyed.sqlite3")
    with AuditLog(db, key=b"another-key") as wrong, pytest.raises(ConfigurationError, match="audit key"):
        wrong.prune(0)
    with AuditLog(db, key=AUDIT_KEY) as log:
        assert log.verify().checked == 3


def test_a_sqlite_file_that_is_not_an_audit_trail_is_refused_and_left_alone(tmp_path: Path) -> None:
    """verify on another application's database is an error, and the file is not converted or extended."""
    other = tmp_path / "app.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE notes (x)")
    conn.commit()
    conn.close()
    empty = tmp_path / "empty.db"
    empty.touch()
    for path in (other, empty):
        for args in (["audit", "verify"], ["audit", "list"], ["audit", "report"], ["audit", "prune", "--older-than", "1", "--yes"]):
            result = run_cli([*args, "--db", str(path)])
            assert result.code == 1 and result.err.count("\n") == 1, (args, result)
            assert "not a DeepSentinel audit database" in result.err
    conn = sqlite3.connect(other)
    assert [n for (n,) in conn.execute("SELECT name FROM sqlite_master")] == ["notes"]
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal"
    conn.close()
    assert empty.stat().st_size == 0


@pytest.mark.parametrize(
    "policy",
    [
        CompliancePolicy(name="allow-mail", entity_actions={"EMAIL_ADDRESS": "allow"}),
        CompliancePolicy(name="no-pii", enable_pii_detection=False),
    ],
    ids=["allowed-entity", "category-off"],
)
def test_stored_prompt_text_redacts_findings_the_policy_lets_through(fake_server: FakeLLMServer,
                                                                     policy: CompliancePolicy) -> None:
    """With store_anonymized_text, a value the policy allows (or does not check) is still not stored raw."""
    email = "jane@" + "example.com"
    sink = MemorySink()
    with SentinelClient(openai_api_key="test-key", base_url=fake_server.openai_base_url, audit=sink,
                        config=SentinelConfig(store_anonymized_text=True), compliance_policies=[policy]) as client:
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": f"Write to {email} today"}])
    (event,) = sink.events
    assert event.anonymized_text == "Write to [EMAIL_ADDRESS] today"
    assert email in str(fake_server.last_request.json)  # the policy's choice on the wire is unchanged


def test_chat_db_is_written_under_the_audit_key(fake_server: FakeLLMServer, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """chat --db uses the SDK's audit key like the default path does, so the trail verifies with that key."""
    db = tmp_path / "chat.sqlite3"
    monkeypatch.setenv("DEEPSENTINEL_AUDIT_KEY", AUDIT_KEY.decode())
    result = run_cli(["chat", "--base-url", fake_server.openai_base_url, "--api-key", "test-key", "--db", str(db)],
                     stdin="hello\n/exit\n")
    assert result.code == 0, result
    with AuditLog(db, key=AUDIT_KEY) as log:
        verdict = log.verify()
        assert verdict.ok and verdict.checked == 1, verdict


@pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX only")
def test_ctrl_c_cancels_an_answer_even_when_sigint_was_inherited_ignored(fake_server: FakeLLMServer) -> None:
    """Launched with SIGINT ignored (a background job of a script), Ctrl-C still cancels the answer."""
    from tests.test_cli_chat_tty import Terminal

    fake_server.enqueue(Reply(chunks=["Once ", "upon ", "a ", "time ", "there ", "was ", "a ", "story."],
                              delay_between=0.3))
    chat = [sys.executable, "-m", "deepsentinel", "chat", "--base-url", fake_server.openai_base_url,
            "--api-key", "test-key", "--no-audit"]
    # exec keeps an ignored signal ignored: the chat starts the way a script's background job would.
    launcher = f"import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_IGN); os.execv(sys.executable, {chat!r})"
    term = Terminal([sys.executable, "-c", launcher])
    try:
        term.expect("you>")
        term.send("tell me a story")
        term.expect("assistant> Once")
        term.proc.send_signal(signal.SIGINT)
        term.expect("answer cancelled")
        term.send("/exit")
    finally:
        code = term.close()
    assert code == 0 and "story." not in term.seen



@pytest.mark.parametrize(
    ("sql", "bad_row"),
    [
        ("DELETE FROM audit_tags WHERE seq = 2", 2),
        ("UPDATE audit_tags SET value = 'EMAIL_ADDRESS' WHERE seq = 3 AND tag = 'entity'", 3),
        ("INSERT INTO audit_tags (seq, tag, value) VALUES (1, 'entity', 'US_SSN')", 1),
        ("INSERT INTO audit_tags (seq, tag, value) VALUES (99, 'entity', 'US_SSN')", 99),
    ],
    ids=["entries-deleted", "entry-edited", "entry-added", "orphan-entry"],
)
def test_editing_the_filter_index_fails_verification(tmp_path: Path, sql: str, bad_row: int) -> None:
    """Hiding an event from --type/--policy filters by editing audit_tags is caught and the row named."""
    db = tmp_path / "a.sqlite3"
    with SQLiteAuditStore(db, key=AUDIT_KEY) as store:
        for _ in range(4):
            store.record(make_event(findings=(finding(),)))
    with AuditLog(db, key=AUDIT_KEY) as log:
        assert log.verify().ok
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute(sql)
    conn.close()
    with AuditLog(db, key=AUDIT_KEY) as log:
        result = log.verify()
    assert not result.ok and result.first_bad_row == bad_row and "audit_tags" in result.reason, result


def test_scan_table_shows_bracketed_paths_as_they_are(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """app/[id]/page.tsx (a Next.js route) is printed verbatim, and a path with '[/' does not crash the table."""
    monkeypatch.chdir(tmp_path)
    ssn = "123-45-" + "6789"
    for rel in ("app/[id]/page.tsx", "odd[/x].txt"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(f"ssn {ssn}\n", encoding="utf-8")
    result = run_cli(["scan", "."])
    assert result.code == 1 and "error" not in result.err, result
    assert "app/[id]/page.tsx:1:5" in result.out and "odd[/x].txt:1:5" in result.out


def test_audit_list_and_chat_print_names_verbatim(fake_server: FakeLLMServer, tmp_path: Path) -> None:
    """Model names, policy names and a server's error text are data: brackets in them are shown, never parsed."""
    db = tmp_path / "a.sqlite3"
    with SQLiteAuditStore(db) as store:
        store.record(make_event(model="llama[/x]", policies=("team[red]",)))
    listed = run_cli(["audit", "list", "--db", str(db)])
    assert listed.code == 0 and "llama[/x]" in listed.out and "team[red]" in listed.out, listed
    base = ["chat", "--base-url", fake_server.openai_base_url, "--api-key", "test-key", "--no-audit"]
    unknown = run_cli([*base, "--model", "m[bold]"], stdin="hello\n")  # the fake server names the model in a 404
    assert unknown.code == 1 and "m[bold] via openai" in unknown.out and "model `m[bold]`" in unknown.out, unknown
    fake_server.enqueue(Reply(status=403, error_message="bad value [/x] in request"))
    failed = run_cli(base, stdin="hello\n")
    assert failed.code == 1 and "bad value [/x] in request" in failed.out and "unexpected" not in failed.err, failed


@pytest.mark.parametrize(
    "args",
    [["audit", "list", "--since", "99999999d"], ["scan", "-", "--max-size", "1e309"]],
    ids=["since-overflow", "max-size-infinite"],
)
def test_out_of_range_numbers_are_usage_errors(args: list[str], monkeypatch: pytest.MonkeyPatch,
                                               tmp_path: Path) -> None:
    """Numbers too large for a date or a size are a one-line usage error, not an 'unexpected' failure."""
    monkeypatch.setenv("DEEPSENTINEL_AUDIT_PATH", str(_keyed_db(tmp_path / "a.sqlite3", n=1)))
    result = run_cli(args, stdin="hello\n")
    assert result.code == 2 and result.err.count("\n") == 1 and "unexpected" not in result.err, result


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_scan_skips_a_fifo_in_a_tree_and_reads_one_named_on_purpose(tmp_path: Path) -> None:
    """A FIFO found in a walk is skipped (reading it would hang CI); a pipe named on the command line is read."""
    tree = tmp_path / "tree"
    tree.mkdir()
    os.mkfifo(tree / "pipe")
    (tree / "a.txt").write_text("hello\n", encoding="utf-8")
    outcome: dict[str, object] = {}
    worker = threading.Thread(target=lambda: outcome.update(result=run_cli(["scan", str(tree)])), daemon=True)
    worker.start()
    worker.join(10)
    if worker.is_alive():  # unblock the reader so the thread can end, then fail
        with open(tree / "pipe", "wb"):
            pass
        pytest.fail("scan blocked on a FIFO in the tree")
    assert "1 input(s)" in outcome["result"].out  # type: ignore[attr-defined]

    read_fd, write_fd = os.pipe()
    os.write(write_fd, ("ssn 123-45-" + "6789\n").encode())
    os.close(write_fd)
    try:
        named = run_cli(["scan", f"/dev/fd/{read_fd}"])
    finally:
        os.close(read_fd)
    assert named.code == 1 and "US_SSN" in named.out, named


def test_report_verify_exits_1_on_a_broken_chain_after_writing_the_report(tmp_path: Path) -> None:
    """report --verify still prints (and writes --html), then fails with one line so CI notices the tampering."""
    db = _keyed_db(tmp_path / "a.sqlite3", n=3)
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("UPDATE audit_events SET model = 'edited' WHERE seq = 2")
    conn.close()
    page = tmp_path / "r.html"
    env = {"DEEPSENTINEL_AUDIT_KEY": AUDIT_KEY.decode()}
    with mock.patch.dict(os.environ, env):
        result = run_cli(["audit", "report", "--db", str(db), "--verify", "--html", str(page)])
        intact = run_cli(["audit", "report", "--db", str(_keyed_db(tmp_path / "b.sqlite3")), "--verify"])
    assert result.code == 1 and "BROKEN" in result.out and page.exists(), result
    assert result.err.endswith("deepsentinel: error: audit chain broken at row 2: row 2 was altered: its content "
                               "does not match its row_hash\n")
    assert intact.code == 0 and "intact" in intact.out


def test_demo_trail_verifies_under_the_environment_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With DEEPSENTINEL_AUDIT_KEY set, demo --db writes under it, so audit verify (which reads it) agrees."""
    monkeypatch.setenv("DEEPSENTINEL_AUDIT_KEY", AUDIT_KEY.decode())
    db = tmp_path / "demo.sqlite3"
    assert run_cli(["demo", "--delay", "0", "--db", str(db)]).code == 0
    assert run_cli(["audit", "verify", "--db", str(db)]).code == 0


def test_chat_refuses_a_db_that_is_not_an_audit_trail(fake_server: FakeLLMServer, tmp_path: Path) -> None:
    """chat --db on some other file fails at start with one line, instead of dropping every event unseen."""
    notes = tmp_path / "notes.md"
    notes.write_text("# notes\n" * 50, encoding="utf-8")
    result = run_cli(["chat", "--base-url", fake_server.openai_base_url, "--api-key", "test-key", "--db", str(notes)],
                     stdin="hello\n")
    assert result.code == 1 and result.err == f"deepsentinel: error: {notes} is not a DeepSentinel audit database\n"
    assert fake_server.request_count() == 0 and notes.read_text(encoding="utf-8") == "# notes\n" * 50
    empty = tmp_path / "new.sqlite3"
    empty.touch()  # an empty file is a new database: fine
    ok = run_cli(["chat", "--base-url", fake_server.openai_base_url, "--api-key", "test-key", "--db", str(empty)],
                 stdin="hello\n")
    assert ok.code == 0 and run_cli(["audit", "verify", "--db", str(empty)]).code == 0


def test_html_report_of_a_trail_under_another_key_names_no_row(tmp_path: Path) -> None:
    """A trail under another key reads 'not verified (another audit key)', never 'broken' (tampering)."""
    db = _keyed_db(tmp_path / "a.sqlite3", n=1)
    page = tmp_path / "r.html"
    result = run_cli(["audit", "report", "--db", str(db), "--verify", "--html", str(page)])
    assert result.code == 1
    html = page.read_text(encoding="utf-8")
    assert "<span class=bad>not verified (another audit key)</span>" in html
    assert "broken" not in html and "row None" not in html
