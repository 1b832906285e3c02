"""The compliance report: totals, outcome counts, violations by type/policy, block rate, daily trends."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

from deepsentinel.audit import AuditLog, MemorySink, Outcome, SQLiteAuditStore
from deepsentinel.audit.report import build_report
from tests.audit_factory import AUDIT_KEY, finding, make_event

DAY1 = datetime(2026, 3, 1, 12, tzinfo=timezone.utc).timestamp()
DAY2 = datetime(2026, 3, 2, 9, tzinfo=timezone.utc).timestamp()


def _events() -> list:
    ssn = finding("US_SSN", policy="hipaa", action="anonymize", category="PII")
    token = finding("GITHUB_TOKEN", policy="secrets", action="block")
    return [
        make_event(Outcome.ALLOWED, timestamp=DAY1),
        make_event(Outcome.ANONYMIZED, findings=(ssn, ssn), timestamp=DAY1 + 60),
        make_event(Outcome.BLOCKED, findings=(token,), timestamp=DAY1 + 120),
        make_event(Outcome.STREAM_TERMINATED, findings=(token, ssn), timestamp=DAY2),
        make_event(Outcome.PROVIDER_ERROR, error_type="RateLimitError", timestamp=DAY2 + 60),
    ]


def test_report_counts_from_a_store(tmp_path: Path) -> None:
    """Totals, per-outcome counts, findings by type/policy/category, block rate and two UTC days."""
    with AuditLog(tmp_path / "r.sqlite3", key=AUDIT_KEY) as log:
        for e in _events():
            log.store.record(e)
        report = log.report(verify_chain=True)
    assert report.total == 5 and report.calls_with_violations == 3
    assert report.outcomes == {"allowed": 1, "anonymized": 1, "blocked": 1, "stream_terminated": 1,
                               "provider_error": 1}
    assert report.violations_by_type == {"US_SSN": 3, "GITHUB_TOKEN": 2}
    assert report.violations_by_policy == {"hipaa": 3, "secrets": 2}
    assert report.violations_by_category == {"PII": 3, "SECRET": 2}
    assert report.block_rate == 0.4  # blocked + terminated stream, of 5 calls
    assert [(d.day, d.total, d.blocked, d.anonymized, d.provider_errors, d.violations) for d in report.days] == [
        ("2026-03-01", 3, 1, 1, 0, 3), ("2026-03-02", 2, 1, 0, 1, 2)]
    assert report.chain is not None and report.chain.ok and report.chain.checked == 5
    data = json.loads(json.dumps(report.to_dict()))
    assert data["days"][1]["provider_errors"] == 1 and data["chain"]["ok"] is True


def test_report_period_bounds_and_empty_report(tmp_path: Path) -> None:
    """since/until restrict the report; an empty period has zero totals and a 0.0 block rate."""
    store = SQLiteAuditStore(tmp_path / "r.sqlite3")
    for e in _events():
        store.record(e)
    log = AuditLog(store)
    day2 = log.report(since=datetime(2026, 3, 2, tzinfo=timezone.utc))
    assert day2.total == 2 and day2.block_rate == 0.5 and [d.day for d in day2.days] == ["2026-03-02"]
    assert day2.since == datetime(2026, 3, 2, tzinfo=timezone.utc).timestamp()
    empty = log.report(until=DAY1 - 1)
    assert empty.total == 0 and empty.block_rate == 0.0 and empty.days == () and empty.chain is None
    store.close()


def test_report_from_any_event_iterable() -> None:
    """build_report works on plain events (e.g. a MemorySink or a re-read JSONL export)."""
    sink = MemorySink()
    for e in _events()[:3]:
        sink.record(e)
    report = build_report(sink.events)
    assert report.total == 3 and report.block_rate == round(1 / 3, 6)
