"""How the client's settings reach the audit store: durable mode, a PostgreSQL URL, the loss metric."""

from __future__ import annotations

from pathlib import Path

from deepsentinel.audit import SQLiteAuditStore, resolve_audit_sink
from deepsentinel.audit.pg_store import PostgresAuditStore
from deepsentinel.config import SentinelConfig
from deepsentinel.metrics.collector import MetricsCollector
from tests import audit_pg
from tests.audit_factory import AUDIT_KEY, make_event, refuse_rows

pg_db, pg_url = audit_pg.pg_db, audit_pg.pg_url  # fixtures: a fresh database per test


def test_environment_names_the_url_and_durability_and_hides_the_password() -> None:
    """DEEPSENTINEL_AUDIT_URL and DEEPSENTINEL_AUDIT_DURABLE land in the config; the URL's password never shows."""
    secret = "pw" + "z" * 8
    config = SentinelConfig.from_env({"DEEPSENTINEL_AUDIT_URL": f"postgresql://u:{secret}@db/audit",
                                      "DEEPSENTINEL_AUDIT_DURABLE": "1"})
    assert config.audit_durable is True and config.audit_url is not None
    assert secret not in repr(config) and secret not in str(config)


def test_a_url_opens_the_postgres_store_durably(pg_url: str, tmp_path: Path) -> None:
    """resolve_audit_sink(True, url=..., durable=True) writes to PostgreSQL before record() returns."""
    sink = resolve_audit_sink(True, key=AUDIT_KEY, url=pg_url, durable=True)
    assert isinstance(sink, PostgresAuditStore) and sink.durable
    try:
        sink.record(make_event(request_id="now"))
        assert [e.request_id for e in sink.query()] == ["now"]
        assert "@127.0.0.1" in repr(sink)
    finally:
        sink.close()


def test_a_path_opens_a_durable_sqlite_store(tmp_path: Path) -> None:
    """A path with durable=True gives a SQLite store whose record() has committed when it returns."""
    sink = resolve_audit_sink(tmp_path / "a.sqlite3", key=AUDIT_KEY, durable=True)
    assert isinstance(sink, SQLiteAuditStore) and sink.durable
    sink.record(make_event())
    assert len(sink.query()) == 1
    sink.close()


def test_lost_events_reach_the_metrics_collector(tmp_path: Path) -> None:
    """on_lost=collector.audit_lost: a refused row shows as deepsentinel_audit_events_lost_total 1."""
    path = tmp_path / "m.sqlite3"
    refuse_rows(path, "x")
    metrics = MetricsCollector()
    with resolve_audit_sink(path, on_lost=metrics.audit_lost) as store:  # type: ignore[union-attr]
        store.record(make_event(model="x"))
        store.flush()
    assert metrics.snapshot()["audit_events_lost"] == 1
    assert b"deepsentinel_audit_events_lost_total 1.0" in metrics.to_prometheus()
