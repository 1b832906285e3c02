"""The PostgreSQL audit store: several processes append to one chain; an outage is spooled locally and
replayed; the CLI reads the trail from a postgresql:// URL."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from deepsentinel.audit import AuditLog, Outcome
from deepsentinel.audit.pg_store import PostgresAuditStore
from tests import audit_pg
from tests.audit_factory import AUDIT_KEY, finding, make_event
from tests.audit_pg import TcpProxy, url_for
from tests.cli_runner import run_cli

pg_db, pg_url = audit_pg.pg_db, audit_pg.pg_url  # fixtures: a fresh database per test

SRC = str(Path(__file__).resolve().parents[1] / "src")

WRITER = """
import sys
from deepsentinel.audit import AuditEvent, Outcome
from deepsentinel.audit.pg_store import PostgresAuditStore
url, spool, key, name, n = sys.argv[1], sys.argv[2], sys.argv[3].encode(), sys.argv[4], int(sys.argv[5])
store = PostgresAuditStore(url, key=key, spool_path=spool, max_batch=int(sys.argv[6]))
for i in range(n):
    store.record(AuditEvent(Outcome.ALLOWED, "openai", "gpt-4o-mini", request_id=f"{name}-{i}"))
store.close()
"""


def test_four_processes_writing_at_once_build_one_verifying_chain(pg_url: str, tmp_path: Path) -> None:
    """4 processes x 150 events, small batches so appends interleave: 600 rows, one chain, no gaps."""
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, pg_url, str(tmp_path / f"spool{p}"), AUDIT_KEY.decode(),
                          f"p{p}", "150", "5"], env={**os.environ, "PYTHONPATH": SRC})
        for p in range(4)
    ]
    for proc in procs:
        assert proc.wait(timeout=120) == 0
    with AuditLog(pg_url, key=AUDIT_KEY) as log:
        result = log.verify()
        ids = [e.request_id for e in log.list()]
    assert result.ok and result.checked == 600, result
    assert sorted(ids) == sorted(f"p{p}-{i}" for p in range(4) for i in range(150))
    firsts = [ids.index(f"p{p}-0") for p in range(4)]
    lasts = [ids.index(f"p{p}-149") for p in range(4)]
    assert max(firsts) < min(lasts), "the writers should have interleaved; the test did not exercise concurrency"


def test_an_outage_is_spooled_locally_and_replayed_in_order(pg_db: str, tmp_path: Path) -> None:
    """With the database unreachable (proxy stopped), events go to the spool; when it returns all are written."""
    proxy = TcpProxy()
    proxy.start()
    url = url_for(pg_db, port=proxy.port)
    store = PostgresAuditStore(url, key=AUDIT_KEY, spool_path=tmp_path / "spool.sqlite3", connect_timeout=1)
    try:
        first = [make_event(request_id=f"a{i}") for i in range(20)]
        for e in first:
            store.record(e)
        store.flush()
        proxy.stop()
        during = [make_event(Outcome.BLOCKED, findings=(finding(),), request_id=f"b{i}") for i in range(30)]
        for e in during:
            store.record(e)
        store.flush()
        assert len(store.spool) == 30  # kept on this node, not lost
        proxy.start()
        deadline = time.monotonic() + 20
        while len(store.spool) and time.monotonic() < deadline:
            time.sleep(0.1)  # the writer replays when idle, without a new event to carry it
        assert len(store.spool) == 0
        after = make_event(request_id="c0")
        store.record(after)
        store.flush()
    finally:
        store.close()
        proxy.stop()
    with AuditLog(url_for(pg_db), key=AUDIT_KEY) as log:
        ids = [e.request_id for e in log.list()]
        result = log.verify()
    assert ids == [e.request_id for e in [*first, *during, after]]
    assert result.ok and result.checked == 51, result


def test_terminated_backends_cost_no_event(pg_url: str, tmp_path: Path) -> None:
    """pg_terminate_backend on the writer's connection mid-traffic: every event still arrives once."""
    store = PostgresAuditStore(pg_url, key=AUDIT_KEY, spool_path=tmp_path / "spool.sqlite3")
    dbname = pg_url.rsplit("/", 1)[1]
    try:
        for round_ in range(5):
            for i in range(40):
                store.record(make_event(request_id=f"r{round_}-{i}"))
            with psycopg.connect(url_for("postgres"), autocommit=True) as admin:
                admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                              "WHERE datname = %s AND pid <> pg_backend_pid()", (dbname,))
        store.flush()
        deadline = time.monotonic() + 20
        while len(store.spool) and time.monotonic() < deadline:
            time.sleep(0.1)
        ids = [e.request_id for e in store.query()]
        result = store.verify()
    finally:
        store.close()
    assert sorted(ids) == sorted(f"r{r}-{i}" for r in range(5) for i in range(40))
    assert result.ok and result.checked == 200, result


def test_a_durable_record_survives_an_outage_in_the_spool(pg_db: str, tmp_path: Path) -> None:
    """durable=True with the database down: record() returns once the event is in the local spool."""
    proxy = TcpProxy()
    store = PostgresAuditStore(url_for(pg_db, port=proxy.port), key=AUDIT_KEY, durable=True,
                               spool_path=tmp_path / "spool.sqlite3", connect_timeout=1)
    try:
        store.record(make_event(request_id="down"))
        assert len(store.spool) == 1
    finally:
        store.close()
    # A later store on this node (a restarted process) replays what the first one spooled.
    with PostgresAuditStore(url_for(pg_db), key=AUDIT_KEY, spool_path=tmp_path / "spool.sqlite3") as again:
        again.record(make_event(request_id="up"))
        again.flush()
        assert [e.request_id for e in again.query()] == ["down", "up"]


def test_cli_reads_the_trail_from_a_url(pg_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """`audit verify|list|report` work with --db postgresql://... and with DEEPSENTINEL_AUDIT_URL."""
    with PostgresAuditStore(pg_url, key=AUDIT_KEY, spool_path=tmp_path / "s") as store:
        for i in range(3):
            store.record(make_event(Outcome.BLOCKED if i else Outcome.ALLOWED, findings=(finding("US_SSN"),)))
    monkeypatch.setenv("DEEPSENTINEL_AUDIT_KEY", AUDIT_KEY.decode())
    verify = run_cli(["audit", "verify", "--db", pg_url])
    assert verify.code == 0 and "intact" in verify.out and "3 row(s)" in verify.out, verify
    monkeypatch.setenv("DEEPSENTINEL_AUDIT_URL", pg_url)
    listed = run_cli(["audit", "list", "--outcome", "blocked", "--type", "US_SSN", "--format", "jsonl"])
    assert listed.code == 0 and listed.out.count("\n") == 2, listed
    report = run_cli(["audit", "report", "--format", "json", "--verify"])
    assert report.code == 0 and '"total": 3' in report.out, report


def test_cli_refuses_a_database_without_a_trail_and_hides_the_password(pg_url: str) -> None:
    """A database with no audit tables is an error (nothing created); the message carries no password."""
    secret_url = pg_url.replace("postgres@", "postgres:" + "pw" + "x" * 6 + "@")
    result = run_cli(["audit", "verify", "--db", secret_url])
    assert result.code != 0 and "holds no DeepSentinel audit trail" in result.err, result
    assert "pwxxxxxx" not in result.err
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT to_regclass('audit_events')").fetchone() == (None,)


def test_a_spooled_event_the_database_refuses_costs_only_itself(pg_db: str, tmp_path: Path) -> None:
    """On replay, one refused entry becomes a gap; the rest of the backlog and new events are written."""
    proxy = TcpProxy()
    lost: list[int] = []
    store = PostgresAuditStore(url_for(pg_db, port=proxy.port), key=AUDIT_KEY, connect_timeout=1,
                               spool_path=tmp_path / "spool.sqlite3", on_lost=lost.append)
    try:
        for i in range(10):
            store.record(make_event(model="poison" if i == 4 else "gpt-4o-mini", request_id=f"s{i}"))
        store.flush()
        assert len(store.spool) == 10
        # The schema exists once a writer connected; make it refuse one kind of row, then bring it back.
        with PostgresAuditStore(url_for(pg_db), key=AUDIT_KEY, spool_path=tmp_path / "other") as other:
            other.record(make_event(request_id="first"))
        with psycopg.connect(url_for(pg_db)) as conn:
            conn.execute("CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN "
                         "IF NEW.model = 'poison' THEN RAISE EXCEPTION 'refused'; END IF; RETURN NEW; END $$ "
                         "LANGUAGE plpgsql")
            conn.execute("CREATE TRIGGER refuse BEFORE INSERT ON audit_events FOR EACH ROW EXECUTE FUNCTION refuse()")
        proxy.start()
        store.record(make_event(request_id="after"))
        store.flush()
    finally:
        store.close()
        proxy.stop()
    with AuditLog(url_for(pg_db), key=AUDIT_KEY) as log:
        ids = [e.request_id for e in log.list()]
        result = log.verify()
    assert ids == ["first", *(f"s{i}" for i in range(10) if i != 4), "after"]
    assert lost == [1] and result.status == "gap" and result.lost_events == 1, result
