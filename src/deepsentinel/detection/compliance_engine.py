"""ComplianceEngine: detection plus policies in one object, for callers outside the SDK client.

>>> from deepsentinel.policy.presets import hipaa
>>> engine = ComplianceEngine([hipaa()])
>>> engine.check("MRN: 12345678").action  # deepsentinel: allow
<Action.ANONYMIZE: 'anonymize'>

It builds one :class:`DetectionEngine` from the union of the policies' ``custom_patterns`` (the shared default
engine when there are none) and applies the policies with ``evaluate_policies`` (strictest action wins).
Not imported by ``deepsentinel.detection`` itself, because ``deepsentinel.policy`` imports detection.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from deepsentinel.detection.engine import DetectionEngine, default_engine
from deepsentinel.detection.findings import ScanResult
from deepsentinel.policy.decision import Decision
from deepsentinel.policy.policy import CompliancePolicy, coerce_policies, evaluate_policies

__all__ = ["ComplianceEngine"]


class ComplianceEngine:
    """Scan text and decide what the policies say about it."""

    def __init__(
        self,
        policies: Iterable[CompliancePolicy | Mapping[str, Any]] | None = None,
        *,
        engine: DetectionEngine | None = None,
    ) -> None:
        self.policies = coerce_policies(policies)
        custom: dict[str, str] = {}
        for policy in self.policies:
            custom.update(policy.custom_patterns)
        self.engine = (engine or default_engine()).with_custom_patterns(custom)

    def scan(self, text: str) -> ScanResult:
        return self.engine.scan(text)

    def check(self, text: str, location: str = "") -> Decision:
        """Scan ``text`` and apply every policy to it."""
        return evaluate_policies(self.policies, self.engine.scan(text), location)
