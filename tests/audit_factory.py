"""Audit events for tests: built the way the SDK builds them, from findings and a keyed content hash only."""

from __future__ import annotations

from deepsentinel.audit.events import AuditEvent, FindingRecord, Outcome, content_hash

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
