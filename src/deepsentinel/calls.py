"""Per-call bookkeeping shared by both clients: timing, decisions, outcome, and the one audit event."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any

from deepsentinel.audit.events import AuditEvent, AuditSink, FindingRecord, Outcome, content_hash
from deepsentinel.errors import ComplianceViolationError
from deepsentinel.policy.actions import Action
from deepsentinel.policy.decision import Decision, Violation

log = logging.getLogger("deepsentinel")
_NO_DECISION = Decision()  # immutable: one shared default instead of a new one per call


def _event(key: bytes, texts: tuple[str, ...], request: Decision, response: tuple[Violation, ...],
           fields: dict[str, Any], unshown: tuple[Violation, ...] = ()) -> AuditEvent:
    """One call's audit event, from the facts ``CallRecord.finish`` took. ``unshown``: findings in an attempt that
    was dropped unseen: each recorded once (not again when the shown answer repeats it), with the action ``log``
    (nothing was done to what the caller got), and no part of the outcome, direction or risk."""
    dropped: list[Violation] = []
    for v in unshown:
        if v not in response and v not in dropped:
            dropped.append(v)
    findings = tuple(FindingRecord.of(v, "request") for v in request.violations) + tuple(
        FindingRecord.of(v, "response") for v in response
    ) + tuple(FindingRecord.of(replace(v, action=Action.LOG), "response") for v in dropped)
    # The direction is where the strictest action was taken (a masked answer is a response decision).
    request_action = Action.strictest([v.action for v in request.violations])
    response_action = Action.strictest([v.action for v in response])
    return AuditEvent(
        direction="response" if response_action.strictness > request_action.strictness else "request",
        findings=findings,
        risk_score=max([request.risk_score] + [v.risk for v in response]),
        content_hash=content_hash(key, texts) if texts else None,
        **fields,
    )


@dataclass
class CallRecord:
    """Everything one call leaves in the audit trail. ``finish`` records it exactly once."""

    sink: AuditSink | None
    key: bytes = field(repr=False)  # the audit HMAC key
    operation: str
    provider: str
    model: str
    streamed: bool = False
    policies: tuple[str, ...] = ()
    texts: Sequence[str] = field(default=(), repr=False)  # the original prompt texts, anonymized values included
    started: float = field(default_factory=time.perf_counter)
    provider_seconds: float = 0.0  # measured by the transport for a whole (non-streamed) reply
    sent_at: float | None = None  # when the request checks were done and the call went to the provider
    own_seconds: float = 0.0  # DeepSentinel's work after sending (the stream guard), when it is interleaved
    request_decision: Decision = _NO_DECISION
    response_violations: list[Violation] = field(default_factory=list)
    # Found in a streamed attempt that broke before any of it was shown and was sent again: the provider sent it,
    # the caller never saw it.
    unshown_violations: list[Violation] = field(default_factory=list)
    chunks: int = 0
    usage: tuple[int | None, int | None] | None = None  # prompt and completion tokens, when reported
    attempts: int = 0  # HTTP attempts this call made (the SDK's retries, fallback targets)
    target: str | None = None
    stored_text: str | None = None  # the prompt with every finding redacted, only when the config asks
    _done: bool = False

    def finish(self, outcome: Outcome, error: BaseException | None = None) -> None:
        if self._done:
            return
        self._done = True
        if self.sink is None:
            return
        latency = time.perf_counter() - self.started
        provider = self.provider_seconds
        if not provider and self.sent_at is not None:
            # A stream or a failed call: the transport timed no single reply, so the provider's share is what
            # is left once our own work (the request checks, the guard) is taken out. Metrics report
            # latency - provider as DeepSentinel's own time; it must not absorb generation time or backoff.
            provider = max(0.0, latency - (self.sent_at - self.started) - self.own_seconds)
        # Every field is read now (a retry may reuse this record); only the costly part of the event (findings,
        # the content HMAC, the event object) may be built later, off the caller's thread.
        fields = {
            "outcome": outcome, "provider": self.provider, "model": self.model, "operation": self.operation,
            "policies": self.policies, "streamed": self.streamed, "chunks": self.chunks,
            "latency_ms": latency * 1000.0, "provider_latency_ms": provider * 1000.0,
            "prompt_tokens": self.usage[0] if self.usage else None,
            "completion_tokens": self.usage[1] if self.usage else None, "target": self.target,
            "error_type": type(error).__name__ if error is not None else None, "anonymized_text": self.stored_text,
            "attempts": max(1, self.attempts), "timestamp": time.time(),
        }
        make = partial(_event, self.key, tuple(self.texts), self.request_decision, tuple(self.response_violations),
                       fields, tuple(self.unshown_violations))
        try:
            later = getattr(self.sink, "record_later", None)
            if later is not None:
                later(make)
            else:
                self.sink.record(make())
        except Exception:  # the audit trail must never break the caller's request; it logs, without content
            log.exception("audit sink failed to record a %s call", self.operation)

    def discard(self) -> None:
        """End without a record: the call was invalid and nothing was sent (like any argument error)."""
        self._done = True

    def outcome_for_success(self, response_decision: Decision | None = None) -> Outcome:
        if response_decision is None and not self.response_violations and self.request_decision.action is Action.ALLOW:
            return Outcome.ALLOWED  # the common case, without the lists below
        actions = [self.request_decision.action] + ([response_decision.action] if response_decision else [])
        actions += [v.action for v in self.response_violations]
        return Outcome.ANONYMIZED if Action.strictest(actions) is Action.ANONYMIZE else Outcome.ALLOWED

    def finish_with_error(self, error: BaseException) -> None:
        if self._done:  # the call already ended (a block recorded before the error reached the caller)
            return
        if not isinstance(error, Exception):
            # Interrupted while waiting (Ctrl-C, task cancellation): the request had passed its checks, as a
            # stream the caller stops reading is; the interruption is kept as the error type.
            self.finish(self.outcome_for_success(), error)
        elif isinstance(error, ComplianceViolationError):
            if error.direction == "response":
                # A stream's guard may already have reported these; each finding is recorded once.
                self.response_violations.extend(v for v in error.violations if v not in self.response_violations)
                self.finish(Outcome.STREAM_TERMINATED if self.streamed else Outcome.BLOCKED, error)
            else:
                risk = max((v.risk for v in error.violations), default=0.0)
                self.request_decision = Decision(Action.BLOCK, tuple(error.violations), risk, self.policies)
                self.finish(Outcome.BLOCKED, error)
        else:  # provider errors, and anything unexpected, end the call as a provider-side failure
            self.finish(Outcome.PROVIDER_ERROR, error)
