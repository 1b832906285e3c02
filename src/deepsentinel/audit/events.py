"""The audit event: one per call, recording what DeepSentinel decided and why, never the raw values."""

from __future__ import annotations

import hmac
import os
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from enum import Enum
from typing import Any, Protocol

from deepsentinel.policy.decision import Violation


class Outcome(str, Enum):
    """What happened to the call, from the caller's point of view."""

    ALLOWED = "allowed"
    ANONYMIZED = "anonymized"
    BLOCKED = "blocked"  # the request never left the process, or a non-streamed response was withheld
    STREAM_TERMINATED = "stream_terminated"  # the stream was cut after its safe prefix
    PROVIDER_ERROR = "provider_error"


@dataclass(frozen=True, slots=True)
class FindingRecord:
    """A finding as stored: type, where, how sure, what was done. No value."""

    type: str
    category: str
    direction: str
    location: str
    start: int
    end: int
    confidence: float
    risk: float
    action: str
    policy: str

    @classmethod
    def of(cls, v: Violation, direction: str) -> FindingRecord:
        return cls(v.type, v.category.value, direction, v.location, v.start, v.end, v.confidence, v.risk,
                   v.action.value, v.policy)


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """One call's record. ``content_hash`` is an HMAC of the request content under the audit key."""

    outcome: Outcome
    provider: str
    model: str
    operation: str = "chat.completions"
    direction: str = "request"  # where the deciding action happened
    policies: tuple[str, ...] = ()
    findings: tuple[FindingRecord, ...] = ()
    risk_score: float = 0.0
    streamed: bool = False
    chunks: int = 0
    latency_ms: float = 0.0
    provider_latency_ms: float = 0.0
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    target: str | None = None  # the provider/model that answered, when fallback routing chose one
    error_type: str | None = None
    content_hash: str | None = None
    anonymized_text: str | None = None
    attempts: int = 1  # HTTP attempts of this one call: the SDK's retries and fallback targets
    # 128 random bits in 32 hex digits, as unique as a uuid4's hex at a quarter of its cost per call.
    request_id: str = field(default_factory=lambda: os.urandom(16).hex())
    timestamp: float = field(default_factory=time.time)

    def finding_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for f in self.findings:
            counts[f.type] = counts.get(f.type, 0) + 1
        return counts

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["outcome"] = self.outcome.value
        return d


def content_hash(key: bytes, parts: Sequence[str]) -> str:
    """Keyed hash (HMAC-SHA256) of the call's text, so two records can be matched without storing text."""
    data = "".join(f"{p}\x00" for p in parts).encode("utf-8", "surrogatepass")  # each part ends with a NUL
    return hmac.digest(key, data, "sha256").hex()


class AuditSink(Protocol):
    """Where audit events go. ``record`` must be cheap: stores do their writing off the request path."""

    def record(self, event: AuditEvent) -> None: ...

    def close(self) -> None: ...


class MemorySink:
    """Keeps events in a list; for tests and for ``audit=False`` callers who still want to look."""

    def __init__(self) -> None:
        self.events: list[AuditEvent] = []

    def record(self, event: AuditEvent) -> None:
        self.events.append(event)

    def close(self) -> None:
        pass
