"""Audit events for tests: built the way the SDK builds them, from findings and a keyed content hash only."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from deepsentinel.audit.events import AuditEvent, FindingRecord, Outcome, content_hash
from deepsentinel.audit.sqlite_store import SQLiteAuditStore

AUDIT_KEY = b"test-audit-key-" + b"k" * 17


def secret_text() -> str:
    """A call text carrying a secret; assembled at run time so secret scanners stay quiet."""
    return "deploy with token " + "ghp_" + "Q7x" * 12 + " please"


def finding(type_: str = "GITHUB_TOKEN", *, policy: str = "secrets", action: str = "block",
            category: str = "SECRET", start: int = 18, end: int = 58) -> FindingRecord:
    return FindingRecord(type_, category, "request", "messages[0].content", start, end, 0.99, 0.99, action, policy)


def make_event(outcome: Outcome = Outcome.ALLOWED, *, text: str | None = None, provider: str = "openai",
               model: str = "gpt-4o-mini", findings: tuple[FindingRecord, ...] = (),
               policies: tuple[str, ...] = ("secrets",), timestamp: float | None = None,
               **extra: object) -> AuditEvent:
    """One event; ``text`` is only ever hashed (``anonymized_text`` stays None)."""
    kwargs: dict[str, object] = {
        "outcome": outcome, "provider": provider, "model": model, "findings": findings, "policies": policies,
        "content_hash": content_hash(AUDIT_KEY, [text or "hello"]),
        "latency_ms": 12.5, "provider_latency_ms": 10.0, "prompt_tokens": 7, "completion_tokens": 3,
    }
    if timestamp is not None:
        kwargs["timestamp"] = timestamp
    kwargs.update(extra)
    return AuditEvent(**kwargs)  # type: ignore[arg-type]


def refuse_rows(path: Path, model: str, key: bytes | None = None) -> None:
    """A trail at ``path`` whose database refuses every row naming ``model``: a real failure in the writer, not a
    mocked one. It holds one ordinary event first (its schema, its key)."""
    with SQLiteAuditStore(path, key=key) as store:
        store.record(make_event())
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute(f"CREATE TRIGGER refuse BEFORE INSERT ON audit_events WHEN NEW.model = '{model}' "
                 "BEGIN SELECT RAISE(ABORT, 'refused'); END")
    conn.close()
