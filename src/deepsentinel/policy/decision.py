"""The outcome of applying policies to scanned text."""

from __future__ import annotations

from dataclasses import dataclass, field

from deepsentinel.detection.findings import Category, Finding
from deepsentinel.policy.actions import Action


@dataclass(frozen=True, slots=True)
class Violation:
    """A finding together with what a policy decided about it and where it was found.

    ``location`` names the part of the call ("messages[1].content", "choices[0].delta.content"); offsets are
    relative to that part. No raw value is kept.
    """

    type: str
    category: Category
    confidence: float
    start: int
    end: int
    risk: float
    action: Action
    policy: str
    location: str = ""

    @classmethod
    def of(cls, finding: Finding, action: Action, policy: str, location: str = "") -> Violation:
        return cls(finding.type, finding.category, finding.confidence, finding.start, finding.end,
                   finding.risk, action, policy, location)

    def describe(self) -> str:
        where = f" in {self.location}" if self.location else ""
        return f"{self.type}{where} at [{self.start}:{self.end}]"


@dataclass(frozen=True, slots=True)
class Decision:
    """The combined decision of all policies for one text (or one call)."""

    action: Action = Action.ALLOW
    violations: tuple[Violation, ...] = ()
    risk_score: float = 0.0
    policies: tuple[str, ...] = field(default=())

    @property
    def blocked(self) -> bool:
        return self.action is Action.BLOCK

    @property
    def deciding_policy(self) -> str | None:
        """The policy behind the strictest action, for error messages and audit records."""
        for v in self.violations:
            if v.action is self.action:
                return v.policy
        return self.policies[0] if self.policies else None

    def to_anonymize(self) -> list[Violation]:
        return [v for v in self.violations if v.action is Action.ANONYMIZE]

    def merged(self, other: Decision) -> Decision:
        """Combine two decisions (e.g. over several messages): strictest action, all violations."""
        # Most texts of a call decide nothing: merging a decision that adds nothing gives the other one back.
        if other.policies == self.policies:
            if not other.violations and other.action is Action.ALLOW and other.risk_score <= self.risk_score:
                return self
            if not self.violations and self.action is Action.ALLOW and self.risk_score <= other.risk_score:
                return other
        return Decision(
            Action.strictest([self.action, other.action]),
            self.violations + other.violations,
            max(self.risk_score, other.risk_score),
            tuple(dict.fromkeys(self.policies + other.policies)),
        )
