"""StreamGuard: release streamed text as soon as it is proven safe, and never a sensitive value. Sans-IO.

Feed it deltas; it returns what may be shown now. It holds back only the tail that could still grow into a
sensitive value (``engine.safe_boundary``), scans the newly final region together with a short window of
already-released text (for look-behinds and context words), applies the policies and the anonymizer, and
releases. Work per delta is proportional to the held tail plus the new text, and memory is bounded.

>>> guard = StreamGuard(default_engine(), [DEFAULT_POLICY])     # doctest: +SKIP
>>> guard.feed("My card is 4111 11").text                         # doctest: +SKIP
'My card is '
>>> guard.feed("11 1111 1111")                                    # doctest: +SKIP
GuardResult(text='', violations=(Violation(type='CREDIT_CARD', ...),), blocked=True)

Policy escalation (many low-risk findings adding up past ``max_risk_score``) is prospective in a stream:
findings already released stay as they were; later ones are escalated. Findings seen so far are carried into
each evaluation (up to ``MAX_PRIOR_FINDINGS``) so the outcome never depends on how the text was split.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Protocol

from deepsentinel.detection.anonymizer import Anonymizer, StrategyName
from deepsentinel.detection.findings import Finding, ScanResult
from deepsentinel.detection.vault import Vault, partial_token_start
from deepsentinel.errors import Direction
from deepsentinel.policy.actions import Action
from deepsentinel.policy.decision import Violation
from deepsentinel.policy.policy import CompliancePolicy, evaluate_policies

# Released text kept as left context for the next scan: look-behinds and context words ("SSN:", "card").
DEFAULT_CONTEXT_CHARS = 64
# Above this many held characters the boundary is re-checked only after the tail grew by a quarter.
LAZY_CHECK_FROM = 256
# Earlier findings carried into policy evaluation, for text-level risk escalation.
MAX_PRIOR_FINDINGS = 256
# Held text never exceeds max(MIN_HOLD_LIMIT, 2 * engine.max_entity_length) for long (see ``_force_cut``).
MIN_HOLD_LIMIT = 4096


AnonymizerFactory = Callable[[Sequence[Violation]], Anonymizer]


class Engine(Protocol):
    """What the guard needs from a detection engine.

    An engine whose ``scan`` also takes ``cached=`` and ``since=`` and whose ``safe_boundary`` takes ``start=``
    and ``findings=`` (as ``DetectionEngine``'s do) costs one scan per delta instead of two.
    """

    max_entity_length: int

    def scan(self, text: str) -> ScanResult: ...
    def safe_boundary(self, text: str) -> int: ...


@cache
def _one_scan(engine_type: type) -> bool:
    """Whether engines of this type take ``cached=`` and ``start=``/``findings=`` (decided once per type: a stream
    builds a guard per text it carries)."""
    return (_takes(getattr(engine_type, "scan", None), "cached", "since")
            and _takes(getattr(engine_type, "safe_boundary", None), "start", "findings"))


def _takes(method: Callable[..., object] | None, *names: str) -> bool:
    if method is None:
        return False
    try:
        params = inspect.signature(method).parameters
    except (TypeError, ValueError):
        return False
    return all(name in params for name in names)


@dataclass(frozen=True, slots=True)
class GuardResult:
    """What one ``feed``/``flush`` produced: text safe to show now, new violations, and whether it blocked."""

    text: str = ""
    violations: tuple[Violation, ...] = ()
    blocked: bool = False


_EMPTY = GuardResult()
_BLOCKED = GuardResult(blocked=True)


class StreamGuard:
    """Guards one text stream (one choice's content, refusal or one tool call's arguments).

    ``anonymizer`` replaces ANONYMIZE findings; or ``anonymizer_factory(violations)`` gives one (called once
    per policy per stream); without either, each policy's ``anonymization_strategy`` is used. Tokens the guard
    writes are not recorded in any vault (``remember=False``): hidden model output never becomes restorable.
    ``restore`` is a vault whose tokens (placeholders the model echoes back) are restored in the model's own
    text after the checks; tokens the guard itself writes are never restored.
    Offsets in violations count from the start of this stream.
    """

    def __init__(
        self,
        engine: Engine,
        policies: Sequence[CompliancePolicy],
        *,
        anonymizer: Anonymizer | None = None,
        anonymizer_factory: AnonymizerFactory | None = None,
        location: str = "choices[0].delta.content",
        direction: Direction = "response",
        restore: Vault | None = None,
        context_chars: int | None = None,
    ) -> None:
        if not policies:
            raise ValueError("StreamGuard needs at least one policy")
        self.engine = engine
        self._one_scan = _one_scan(type(engine))
        # Only the policies that check this direction; with none left, text only passes the vault restorer.
        self.policies = policies_for(direction, policies)
        self.anonymizer = anonymizer
        self.anonymizer_factory = anonymizer_factory
        self.location = location
        self.direction = direction
        self.restore = restore
        if context_chars is None:
            # Enough released text for the engine's look-behind context words, plus slack for word boundaries.
            context_chars = max(DEFAULT_CONTEXT_CHARS, int(getattr(engine, "context_window", 0)) + 16)
        self.context_chars = context_chars
        self.hold_limit = max(MIN_HOLD_LIMIT, 2 * engine.max_entity_length)
        self._anonymizers: dict[str, Anonymizer] = {}
        self._buffer = ""  # unreleased text
        self._next_check = 0  # with a long held tail: the length at which to check it again
        self._context = ""  # tail of released text, original (not anonymized)
        # Whether the released text ends at a boundary (nothing still open starts in it). A flush or a forced cut
        # releases whatever is held, so the next boundary must look back into the context for an open value.
        self._settled = True
        self._offset = 0  # stream offset of _buffer[0]
        self._prior: list[Finding] = []  # earlier findings, stream offsets
        self.blocked = False
        self.finished = False

    @property
    def held(self) -> int:
        """Characters currently held back."""
        return len(self._buffer)

    @property
    def held_text(self) -> str:
        """The text held back, as it arrived."""
        return self._buffer

    @property
    def position(self) -> int:
        """Characters released (or blocked at) so far."""
        return self._offset

    def feed(self, delta: str) -> GuardResult:
        """Add a delta; return the text that is final and safe now."""
        if self.blocked:
            return _BLOCKED
        if self.finished:
            raise ValueError("feed() after flush(): this stream has ended")
        if not delta:
            return _EMPTY
        buffer = self._buffer + delta
        self._buffer = buffer
        if not self.policies:
            return self._pass_through(buffer)
        if LAZY_CHECK_FROM < len(buffer) < self._next_check and len(buffer) <= self.hold_limit:
            # A long held tail (a base64 blob, a digit run) is re-checked only after it grew by a quarter: the
            # cost per delta stays flat instead of growing with the tail. Holding longer never releases more.
            return _EMPTY
        # One scan per delta, of released context + buffer: the boundary and the release both read it. Released
        # text is final, so no candidate that could still change starts in it (``start``). Each probe is seen
        # once, so it stays out of the engine's cache.
        probe = self._context
        text = probe + buffer
        scan: ScanResult | None = None
        if self._one_scan:
            start = len(probe) if self._settled else 0
            scan = self.engine.scan(text, cached=False, since=start)  # type: ignore[call-arg]
            cut = self.engine.safe_boundary(text, start=start, findings=scan.findings) - len(probe)  # type: ignore[call-arg]
        else:
            cut = self.engine.safe_boundary(text) - len(probe)
        forced = len(buffer) > self.hold_limit and len(buffer) - self.engine.max_entity_length > cut
        if forced:
            cut = len(buffer) - self.engine.max_entity_length
        if self.restore is not None and cut > 0:
            cut = min(cut, partial_token_start(buffer[:cut]))
        if cut <= 0:
            self._next_check = len(buffer) + len(buffer) // 4
            return _EMPTY
        self._next_check = 0
        offset = self._offset
        released = self._release(text, len(probe), cut, final=False, scan=scan)
        if self._offset != offset:
            self._settled = not forced
        return released

    def flush(self) -> GuardResult:
        """End of stream: check and release everything still held."""
        if self.blocked:
            return _BLOCKED
        self.finished = True
        if not self._buffer:
            return _EMPTY
        if not self.policies:
            buffer, self._buffer = self._buffer, ""
            self._offset += len(buffer)
            return GuardResult(self.restore.deanonymize(buffer) if self.restore is not None else buffer)
        ctx = self._context
        self._settled = False  # all of it goes, final or not: see ``resume()``
        return self._release(ctx + self._buffer, len(ctx), len(self._buffer), final=True)

    def resume(self) -> None:
        """Accept text again after ``flush()``: for a provider that sends more after it said it finished.

        The released tail stays in view as context, so a value split across the end is still caught: its later
        part is anonymized or blocked, and its earlier part was released only as far as it was no value alone.
        """
        if not self.blocked:
            self.finished = False

    def _pass_through(self, buffer: str) -> GuardResult:
        """No policy checks this direction: release at once, holding only a possible vault token."""
        if self.restore is None:
            self._buffer = ""
            self._offset += len(buffer)
            return GuardResult(buffer)
        cut = partial_token_start(buffer)
        self._buffer = buffer[cut:]
        self._offset += cut
        return GuardResult(self.restore.deanonymize(buffer[:cut]))

    def _release(self, text: str, base: int, cut: int, *, final: bool, scan: ScanResult | None = None) -> GuardResult:
        """Scan ``text`` (context + buffer) unless ``scan`` is its scan, then release ``buffer[:cut]`` anonymized,
        or block."""
        findings: list[Finding] = []
        if scan is None:
            scan = self.engine.scan(text, cached=False) if self._one_scan else self.engine.scan(text)  # type: ignore[call-arg]
        for f in scan.findings:
            if f.end <= base:
                continue  # in already-released context
            start = max(f.start, base) - base  # a match reaching back into the context is clipped, not dropped
            end = f.end - base
            if start >= cut:
                break
            if end > cut and not final:
                cut = start  # never cut inside a finding: hold all of it
                break
            findings.append(_shifted(f, start + self._offset, end + self._offset))
        if cut <= 0:
            return _EMPTY
        violations: tuple[Violation, ...] = ()
        if findings:
            violations = self._evaluate(findings)
            self._remember(findings)
        buffer = self._buffer
        block_at = next((v.start - self._offset for v in violations if v.action is Action.BLOCK), None)
        if block_at is not None:
            cut = block_at
            violations = tuple(v for v in violations if v.start - self._offset < cut or v.action is Action.BLOCK)
        region = buffer[:cut]
        out = self._render(region, [v for v in violations if v.action is Action.ANONYMIZE and v.end - self._offset <= cut])
        if block_at is not None:
            self.blocked = True
            self._buffer = self._context = ""
            self._offset += cut
            return GuardResult(out, violations, True)
        self._context = (self._context + region)[-self.context_chars :] if self.context_chars else ""
        self._buffer = buffer[cut:]
        self._offset += cut
        return GuardResult(out, violations, False)

    def _evaluate(self, findings: list[Finding]) -> tuple[Violation, ...]:
        """Policy decisions for new findings, with earlier findings in view for text-level escalation."""
        # One finding at a time, each seeing only the findings before it: how the provider split the text
        # then cannot change a decision (findings are rare, so the repeated evaluation is cheap).
        out: list[Violation] = []
        seen = list(self._prior)
        for f in findings:
            seen.append(f)
            decision = evaluate_policies(self.policies, ScanResult(tuple(seen), f.end), self.location)
            out.extend(v for v in decision.violations if v.start == f.start and v.end == f.end)
        return tuple(out)

    def _remember(self, findings: list[Finding]) -> None:
        room = MAX_PRIOR_FINDINGS - len(self._prior)
        if room > 0:
            self._prior.extend(findings[:room])

    def _render(self, region: str, to_anonymize: list[Violation]) -> str:
        """Anonymize the region (violation offsets are stream offsets) and restore echoed vault tokens."""
        if not to_anonymize and self.restore is None:
            return region
        return rewrite(region, to_anonymize, self._offset, self._replace, self.restore)

    def _replace(self, violation: Violation, value: str) -> str:
        return self._anonymizer_for(violation).replace(value, violation.type, remember=False)

    def _anonymizer_for(self, violation: Violation) -> Anonymizer:
        if self.anonymizer is not None:
            return self.anonymizer
        found = self._anonymizers.get(violation.policy)
        if found is None:
            found = anonymizer_for(violation, self.policies, self.anonymizer_factory)
            self._anonymizers[violation.policy] = found
        return found

    def __repr__(self) -> str:
        state = "blocked" if self.blocked else "finished" if self.finished else "open"
        return f"StreamGuard(location={self.location!r}, {state}, position={self._offset}, held={len(self._buffer)})"


def policies_for(direction: Direction, policies: Sequence[CompliancePolicy]) -> tuple[CompliancePolicy, ...]:
    """The policies that check ``direction`` (``check_requests`` / ``check_responses``)."""
    if direction == "request":
        return tuple(p for p in policies if p.check_requests)
    return tuple(p for p in policies if p.check_responses)


def rewrite(
    text: str,
    spans: Sequence[Violation],
    offset: int,
    replace: Callable[[Violation, str], str],
    restore: Vault | None = None,
) -> str:
    """Replace each span (offsets minus ``offset`` index ``text``); restore vault tokens only in the gaps.

    Restoring only the model's own text, never the tokens just written, keeps hidden values hidden.
    """
    parts: list[str] = []
    pos = 0
    for v in sorted(spans, key=lambda v: v.start):
        start, end = max(v.start - offset, pos), min(v.end - offset, len(text))
        if end <= start:
            continue
        gap = text[pos:start]
        parts.append(restore.deanonymize(gap) if restore is not None else gap)
        parts.append(replace(v, text[start:end]))
        pos = end
    tail = text[pos:]
    parts.append(restore.deanonymize(tail) if restore is not None else tail)
    return "".join(parts)


def anonymizer_for(
    violation: Violation, policies: Sequence[CompliancePolicy], factory: AnonymizerFactory | None
) -> Anonymizer:
    """The anonymizer for a violation: from the factory, else from its policy's ``anonymization_strategy``."""
    if factory is not None:
        return factory([violation])
    strategy: StrategyName = next(
        (p.anonymization_strategy for p in policies if p.name == violation.policy), "placeholder"
    )
    return Anonymizer(strategy)


def _shifted(f: Finding, start: int, end: int) -> Finding:
    return Finding(f.type, f.category, start, end, f.confidence, f.severity, f.detector)


__all__ = ["AnonymizerFactory", "Engine", "GuardResult", "StreamGuard", "anonymizer_for", "policies_for", "rewrite"]
