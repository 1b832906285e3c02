"""The SQLite audit store: round trips, filters, lazy creation, shutdown, concurrency, migrations."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from deepsentinel.audit import (
    AuditFilter,
    AuditLog,
    MemorySink,
    Outcome,
    SQLiteAuditStore,
    default_audit_path,
    resolve_audit_sink,
)
from deepsentinel.audit.chain import row_hash
from deepsentinel.audit.codec import COLUMNS, event_row
from deepsentinel.audit.migrations import SCHEMA_VERSION, current_version, migrate
from deepsentinel.audit.writer import BatchWriter
from deepsentinel.errors import ConfigurationError
from tests.audit_factory import AUDIT_KEY, finding, make_event

SRC = str(Path(__file__).resolve().parents[1] / "src")


@pytest.fixture
def store(tmp_path: Path):
    s = SQLiteAuditStore(tmp_path / "audit.sqlite3", key=AUDIT_KEY)
    yield s
    s.close()


def test_every_outcome_round_trips_and_is_queryable_by_outcome(store: SQLiteAuditStore) -> None:
    """Each outcome is stored as recorded and comes back equal, one per outcome filter."""
    events = [make_event(o, findings=(finding(),) if o is not Outcome.ALLOWED else ()) for o in Outcome]
    for e in events:
        store.record(e)
    log = AuditLog(store)
    assert log.list() == events
    for e in events:
        assert log.list(outcome=e.outcome.value) == [e]


def test_filters_by_provider_entity_policy_time_and_limit(store: SQLiteAuditStore) -> None:
    """Every filter narrows the result; combined filters intersect; limit and newest_first pick the tail."""
    now = time.time()
    a = make_event(Outcome.BLOCKED, provider="openai", findings=(finding("GITHUB_TOKEN", policy="secrets"),),
                   policies=("secrets",), timestamp=now - 300)
    b = make_event(Outcome.ANONYMIZED, provider="anthropic", timestamp=now - 200, policies=("hipaa",),
                   findings=(finding("US_SSN", policy="hipaa", action="anonymize", category="PII"),))
    c = make_event(Outcome.ALLOWED, provider="anthropic", policies=("hipaa", "gdpr"), timestamp=now - 100)
    for e in (a, b, c):
        store.record(e)
    log = AuditLog(store)
    assert log.list(provider="anthropic") == [b, c]
    assert log.list(entity_type="US_SSN") == [b]
    assert log.list(entity_type="EMAIL") == []
    assert log.list(policy="hipaa") == [b, c]
    assert log.list(policy="gdpr", provider="anthropic") == [c]
    assert log.list(since=now - 250) == [b, c]
    assert log.list(until=now - 200) == [a]  # until is exclusive
    assert log.list(limit=2) == [a, b]
    assert log.list(limit=1, newest_first=True) == [c]
    with pytest.raises(ValueError):
        log.list(outcome="exploded")


def test_construction_and_reads_create_nothing_until_the_first_write(tmp_path: Path) -> None:
    """No directory or file appears before a record; reads of a missing log are empty, not errors."""
    path = tmp_path / "deep" / "er" / "audit.sqlite3"
    with SQLiteAuditStore(path) as s:
        assert s.query() == [] and s.verify().ok and s.verify().checked == 0
        assert not path.parent.exists()
        s.record(make_event())
        s.flush()
        assert path.exists()


def test_default_path_honours_env_then_platform_dirs(tmp_path: Path) -> None:
    """$DEEPSENTINEL_AUDIT_PATH wins; then XDG_DATA_HOME; LOCALAPPDATA on Windows."""
    explicit = str(tmp_path / "a.db")
    assert default_audit_path({"DEEPSENTINEL_AUDIT_PATH": explicit}, "linux") == Path(explicit)
    assert default_audit_path({"XDG_DATA_HOME": "/xdg"}, "linux") == Path("/xdg/deepsentinel/audit.sqlite3")
    assert default_audit_path({"LOCALAPPDATA": "C:/L"}, "win32") == Path("C:/L/deepsentinel/audit.sqlite3")
    assert default_audit_path({}, "linux").parts[-3:] == ("share", "deepsentinel", "audit.sqlite3")


def test_resolve_audit_sink_options(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """True opens the default store, a path a store there, False nothing, a sink itself, junk an error."""
    monkeypatch.setenv("DEEPSENTINEL_AUDIT_PATH", str(tmp_path / "env.sqlite3"))
    default = resolve_audit_sink(True)
    at_path = resolve_audit_sink(str(tmp_path / "p.sqlite3"))
    assert isinstance(default, SQLiteAuditStore) and default.path == tmp_path / "env.sqlite3"
    assert isinstance(at_path, SQLiteAuditStore) and at_path.path == tmp_path / "p.sqlite3"
    mem = MemorySink()
    assert resolve_audit_sink(False) is None and resolve_audit_sink(mem) is mem
    with pytest.raises(ConfigurationError):
        resolve_audit_sink(42)  # type: ignore[arg-type]
    default.close()
    at_path.close()


def test_interpreter_exit_without_close_loses_nothing(tmp_path: Path) -> None:
    """A process that records and simply exits still has every event on disk (atexit finalizer)."""
    path = tmp_path / "exit.sqlite3"
    code = (
        "import sys; from deepsentinel.audit import SQLiteAuditStore, AuditEvent, Outcome\n"
        f"s = SQLiteAuditStore({str(path)!r})\n"
        "for i in range(3000): s.record(AuditEvent(Outcome.ALLOWED, 'openai', 'm', request_id=str(i)))\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=30, env={**os.environ, "PYTHONPATH": SRC})
    with SQLiteAuditStore(path) as s:
        assert len(s.query()) == 3000
        assert s.verify().ok


def test_record_after_close_is_still_written(store: SQLiteAuditStore) -> None:
    """Late events (a stream finishing during shutdown) are written synchronously, chained like the rest."""
    store.record(make_event())
    store.close()
    store.record(make_event(Outcome.BLOCKED))
    assert [e.outcome for e in store.query()] == [Outcome.ALLOWED, Outcome.BLOCKED]
    assert store.verify().ok


def test_concurrent_threads_and_two_stores_on_one_file_keep_one_chain(tmp_path: Path) -> None:
    """Writers in several threads and two store objects (as two processes would) interleave safely."""
    path = tmp_path / "shared.sqlite3"
    first, second = SQLiteAuditStore(path, key=AUDIT_KEY), SQLiteAuditStore(path, key=AUDIT_KEY)

    def work(s: SQLiteAuditStore) -> None:
        for _ in range(250):
            s.record(make_event())

    threads = [threading.Thread(target=work, args=(s,)) for s in (first, second, first, second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    first.close()
    second.close()
    result = first.verify()
    assert result.ok and result.checked == 1000, result


def test_writer_retries_then_drops_and_counts(caplog: pytest.LogCaptureFixture) -> None:
    """A handler that keeps failing costs one batch, logged by type and count; the writer keeps going."""
    calls: list[int] = []

    def handler(batch: list[str]) -> None:
        calls.append(len(batch))
        if batch[0] == "bad":
            raise sqlite3.OperationalError("database is locked near value " + "4111" * 4)

    writer: BatchWriter[str] = BatchWriter(handler, retry_delays=(0.0, 0.0))
    writer.submit("bad")
    writer.flush()
    writer.submit("good")
    writer.close()
    assert writer.dropped == 1 and writer.written == 1
    assert calls == [1, 1, 1, 1]
    assert "OperationalError" in caplog.text and "4111" not in caplog.text


def test_schema_is_migrated_from_version_zero(tmp_path: Path) -> None:
    """An empty file walks every migration in order and records each version."""
    conn = sqlite3.connect(tmp_path / "m.sqlite3", isolation_level=None)
    assert current_version(conn) == 0
    assert migrate(conn) == SCHEMA_VERSION
    versions = [v for (v,) in conn.execute("SELECT version FROM schema_version ORDER BY version")]
    assert versions == list(range(1, SCHEMA_VERSION + 1))
    assert migrate(conn) == SCHEMA_VERSION  # idempotent
    conn.close()


def test_migration_from_version_one_backfills_the_filter_index(tmp_path: Path) -> None:
    """Rows written under schema 1 stay verifiable and become filterable by entity type after upgrade."""
    path = tmp_path / "v1.sqlite3"
    conn = sqlite3.connect(path, isolation_level=None)
    migrate(conn, target=1)
    events = [make_event(Outcome.BLOCKED, findings=(finding("US_SSN", policy="hipaa"),)), make_event()]
    prev = "0" * 64
    for seq, e in enumerate(events, start=1):
        row = event_row(seq, e, prev)
        prev = row_hash(prev, row, AUDIT_KEY)
        # Schema 1 has no key_id column (a NULL key_id is left out of the hash, so the row hashes the same).
        v1 = [(c, v) for c, v in zip(COLUMNS, (*row, prev), strict=True) if c != "key_id"]
        conn.execute(f"INSERT INTO audit_events ({', '.join(c for c, _ in v1)}) VALUES ({', '.join('?' * len(v1))})",
                     [v for _, v in v1])
    conn.close()
    with SQLiteAuditStore(path, key=AUDIT_KEY) as s:
        assert s.query(AuditFilter(entity_type="US_SSN")) == [events[0]]
        assert s.verify().ok
        s.record(make_event())
        s.flush()
        assert s.verify().checked == 3


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    """A file written by a future version is not silently misread."""
    path = tmp_path / "future.sqlite3"
    conn = sqlite3.connect(path, isolation_level=None)
    migrate(conn)
    conn.execute("INSERT INTO schema_version (version, applied_at) VALUES (?, 0)", (SCHEMA_VERSION + 1,))
    conn.close()
    with SQLiteAuditStore(path) as s, pytest.raises(ConfigurationError, match="schema version"):
        s.query()


def test_store_files_use_wal(store: SQLiteAuditStore) -> None:
    """The database runs in WAL mode so readers never block the writer."""
    store.record(make_event())
    store.flush()
    conn = sqlite3.connect(store.path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_a_forked_child_gets_its_own_writer(tmp_path: Path) -> None:
    """A store used before fork (gunicorn --preload) keeps working in the child: no lost or doubled events."""
    store = SQLiteAuditStore(tmp_path / "fork.sqlite3", key=AUDIT_KEY)
    store.record(make_event(request_id="parent-1"))
    store.flush()
    pid = os.fork()
    if pid == 0:  # the child: record, close, leave without running the parent's test machinery
        code = 1
        try:
            store.record(make_event(request_id="child"))
            store.close()
            code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    store.record(make_event(request_id="parent-2"))
    store.close()
    assert sorted(e.request_id for e in store.query()) == ["child", "parent-1", "parent-2"]
    assert store.verify().ok
