"""The compliance report: what was sent, redacted and blocked over a period, by type, policy and day.

Counts come from the audit events alone, so a report can be rebuilt at any time from the store (or from a
JSONL export). Days are UTC calendar days.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from deepsentinel.audit.chain import ChainVerification
from deepsentinel.audit.events import AuditEvent, Outcome

#: Outcomes in which content was withheld from the provider or from the caller.
WITHHELD = (Outcome.BLOCKED, Outcome.STREAM_TERMINATED)


@dataclass(frozen=True, slots=True)
class DayTrend:
    """One UTC day's figures."""

    day: str  # YYYY-MM-DD
    total: int
    blocked: int  # blocked or stream terminated
    anonymized: int
    provider_errors: int
    violations: int  # findings recorded that day


@dataclass(frozen=True, slots=True)
class ComplianceReport:
    """Totals for a period. ``block_rate`` is blocked plus terminated streams over all calls (0.0 if none).

    ``violations_by_type``/``_by_policy`` count findings (one call can carry several); ``calls_with_violations``
    counts calls. ``chain`` is set when the report was built with chain verification.
    """

    since: float | None
    until: float | None
    total: int
    outcomes: Mapping[str, int]
    calls_with_violations: int
    violations_by_type: Mapping[str, int]
    violations_by_policy: Mapping[str, int]
    violations_by_category: Mapping[str, int]
    block_rate: float
    days: tuple[DayTrend, ...] = ()
    chain: ChainVerification | None = None
    generated_at: float = field(default=0.0, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data."""
        out: dict[str, Any] = {
            "since": self.since,
            "until": self.until,
            "generated_at": self.generated_at,
            "total": self.total,
            "outcomes": dict(self.outcomes),
            "calls_with_violations": self.calls_with_violations,
            "violations_by_type": dict(self.violations_by_type),
            "violations_by_policy": dict(self.violations_by_policy),
            "violations_by_category": dict(self.violations_by_category),
            "block_rate": self.block_rate,
            "days": [
                {"day": d.day, "total": d.total, "blocked": d.blocked, "anonymized": d.anonymized,
                 "provider_errors": d.provider_errors, "violations": d.violations}
                for d in self.days
            ],
            "chain": None,
        }
        if self.chain is not None:
            c = self.chain
            out["chain"] = {"ok": c.ok, "checked": c.checked, "first_bad_row": c.first_bad_row,
                            "reason": c.reason, "head_seq": c.head_seq, "head_hash": c.head_hash}
        return out


def _day(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%d")


def build_report(
    events: Iterable[AuditEvent],
    *,
    since: float | None = None,
    until: float | None = None,
    chain: ChainVerification | None = None,
    now: float = 0.0,
) -> ComplianceReport:
    """Aggregate ``events`` (already filtered to the period) into a report, in one pass."""
    outcomes: Counter[str] = Counter({o.value: 0 for o in Outcome})
    by_type: Counter[str] = Counter()
    by_policy: Counter[str] = Counter()
    by_category: Counter[str] = Counter()
    days: dict[str, Counter[str]] = {}
    total = with_violations = 0
    for event in events:
        total += 1
        outcomes[event.outcome.value] += 1
        day = days.setdefault(_day(event.timestamp), Counter())
        day["total"] += 1
        day[event.outcome.value] += 1
        if event.findings:
            with_violations += 1
            day["violations"] += len(event.findings)
        for f in event.findings:
            by_type[f.type] += 1
            by_category[f.category] += 1
            if f.policy:
                by_policy[f.policy] += 1
    withheld = sum(outcomes[o.value] for o in WITHHELD)
    trends = tuple(
        DayTrend(
            day=d,
            total=c["total"],
            blocked=sum(c[o.value] for o in WITHHELD),
            anonymized=c[Outcome.ANONYMIZED.value],
            provider_errors=c[Outcome.PROVIDER_ERROR.value],
            violations=c["violations"],
        )
        for d, c in sorted(days.items())
    )
    return ComplianceReport(
        since=since,
        until=until,
        total=total,
        outcomes=dict(outcomes),
        calls_with_violations=with_violations,
        violations_by_type=dict(by_type.most_common()),
        violations_by_policy=dict(by_policy.most_common()),
        violations_by_category=dict(by_category.most_common()),
        block_rate=round(withheld / total, 6) if total else 0.0,
        days=trends,
        chain=chain,
        generated_at=now,
    )
