"""CompliancePolicy: which entities matter and what happens when they are found. Pure, no I/O.

Risk: each finding carries ``risk = severity x confidence`` (see ``Finding.risk``); a text's risk combines its
findings as ``1 - prod(1 - risk_i)``. A policy turns findings into actions:

1. findings in a disabled category, or outside ``entities`` when that is set, are ignored;
2. an explicit ``entity_actions[type]`` or ``category_actions[category]`` wins;
3. otherwise a finding whose risk reaches ``block_threshold`` (default: ``max_risk_score``) is a violation,
   blocked when ``block_on_violation`` and anonymized otherwise; one reaching ``anonymize_threshold`` is
   anonymized; anything else is logged;
4. when the text's combined risk exceeds ``max_risk_score``, the logged findings are escalated to the
   violation action too (many small leaks make a big one).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

import pydantic
from pydantic import BaseModel, ConfigDict, Field

from deepsentinel.detection.findings import Category, Finding, ScanResult
from deepsentinel.errors import ConfigurationError
from deepsentinel.policy.actions import Action
from deepsentinel.policy.decision import Decision, Violation

AnonymizationStrategy = Literal["mask", "redact", "hash", "placeholder"]


class CompliancePolicy(BaseModel):
    """A named set of compliance rules.

    >>> strict = CompliancePolicy(name="strict", max_risk_score=0.6, block_on_violation=True)
    """

    model_config = ConfigDict(frozen=True, extra="forbid", use_enum_values=False)

    name: str = "default"
    description: str = ""
    enable_pii_detection: bool = True
    enable_phi_detection: bool = True
    enable_pci_detection: bool = True
    enable_secret_detection: bool = True
    max_risk_score: float = Field(default=0.8, ge=0.0, le=1.0)
    block_on_violation: bool = True
    block_threshold: float | None = Field(default=None, ge=0.0, le=1.0)
    anonymize_threshold: float | None = Field(default=None, ge=0.0, le=1.0)
    entity_actions: dict[str, Action] = Field(default_factory=dict)
    category_actions: dict[Category, Action] = Field(default_factory=dict)
    entities: frozenset[str] | None = None
    custom_patterns: dict[str, str] = Field(default_factory=dict)
    anonymization_strategy: AnonymizationStrategy = "placeholder"
    check_requests: bool = True
    check_responses: bool = True
    # An endpoint the wire guard has no codec for is checked string by string; this refuses it instead.
    block_unknown_endpoints: bool = False

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except pydantic.ValidationError as exc:
            raise ConfigurationError(f"invalid CompliancePolicy: {_summarise(exc)}") from exc

    @property
    def enabled_categories(self) -> frozenset[Category]:
        flags = {
            Category.PII: self.enable_pii_detection,
            Category.PHI: self.enable_phi_detection,
            Category.PCI: self.enable_pci_detection,
            Category.SECRET: self.enable_secret_detection,
            Category.CUSTOM: True,
        }
        return frozenset(c for c, on in flags.items() if on)

    def applies_to(self, finding: Finding) -> bool:
        if finding.category not in self.enabled_categories:
            return False
        return self.entities is None or finding.type in self.entities or finding.category is Category.CUSTOM

    def action_for(self, finding: Finding) -> Action:
        """The action for one finding, before text-level escalation."""
        if finding.type in self.entity_actions:
            return self.entity_actions[finding.type]
        if finding.category in self.category_actions:
            return self.category_actions[finding.category]
        block_at = self.max_risk_score if self.block_threshold is None else self.block_threshold
        if finding.risk >= block_at:
            return self.violation_action
        if self.anonymize_threshold is not None and finding.risk >= self.anonymize_threshold:
            return Action.ANONYMIZE
        return Action.LOG

    @property
    def violation_action(self) -> Action:
        return Action.BLOCK if self.block_on_violation else Action.ANONYMIZE

    def evaluate(self, result: ScanResult, location: str = "") -> Decision:
        """Apply this policy to one scanned text."""
        relevant = [f for f in result.findings if self.applies_to(f)]
        if not relevant:
            return Decision(policies=(self.name,))
        actions = [self.action_for(f) for f in relevant]
        risk = ScanResult(tuple(relevant), result.text_length).risk_score
        if risk > self.max_risk_score:
            explicit = {i for i, f in enumerate(relevant)
                        if f.type in self.entity_actions or f.category in self.category_actions}
            actions = [
                self.violation_action if (a is Action.LOG and i not in explicit) else a
                for i, a in enumerate(actions)
            ]
        violations = tuple(
            Violation.of(f, a, self.name, location) for f, a in zip(relevant, actions, strict=True) if a is not Action.ALLOW
        )
        return Decision(Action.strictest(actions), violations, risk, (self.name,))


def evaluate_policies(
    policies: Sequence[CompliancePolicy], result: ScanResult, location: str = ""
) -> Decision:
    """Apply several policies to one text: per finding, the strictest action of any policy wins."""
    if len(policies) == 1:
        return policies[0].evaluate(result, location)
    per_policy = [p.evaluate(result, location) for p in policies]
    strictest: dict[tuple[int, int, str], Violation] = {}
    for decision in per_policy:
        for v in decision.violations:
            key = (v.start, v.end, v.type)
            if key not in strictest or v.action.strictness > strictest[key].action.strictness:
                strictest[key] = v
    violations = tuple(sorted(strictest.values(), key=lambda v: (v.start, v.end)))
    return Decision(
        Action.strictest([d.action for d in per_policy]),
        violations,
        max(d.risk_score for d in per_policy),
        tuple(p.name for p in policies),
    )


def coerce_policies(policies: Iterable[CompliancePolicy | Mapping[str, Any]] | None) -> tuple[CompliancePolicy, ...]:
    """Accept policies or plain dicts (from a config file); fall back to the default policy."""
    if not policies:
        return (DEFAULT_POLICY,)
    out: list[CompliancePolicy] = []
    for p in policies:
        if isinstance(p, CompliancePolicy):
            out.append(p)
        elif isinstance(p, Mapping):
            out.append(CompliancePolicy(**p))
        else:
            raise ConfigurationError(f"compliance_policies items must be CompliancePolicy or dict, not {type(p).__name__}")
    return tuple(out)


def _summarise(exc: pydantic.ValidationError) -> str:
    return "; ".join(f"{'.'.join(map(str, e['loc'])) or 'policy'}: {e['msg']}" for e in exc.errors())


DEFAULT_POLICY = CompliancePolicy(
    name="default",
    description="Blocks high-risk data (government IDs, payment cards, secrets); records low-risk PII.",
)
