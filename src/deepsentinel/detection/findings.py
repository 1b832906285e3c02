"""What detection returns: findings and scan results. Pure values, no raw text kept."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class Category(str, Enum):
    """The regulatory family an entity belongs to."""

    PII = "PII"
    PHI = "PHI"
    PCI = "PCI"
    SECRET = "SECRET"
    CUSTOM = "CUSTOM"


class Severity(float, Enum):
    """How harmful a leak of the entity is; its value is the weight used in risk scoring."""

    LOW = 0.3
    MEDIUM = 0.6
    HIGH = 0.85
    CRITICAL = 1.0


@dataclass(frozen=True, slots=True)
class Finding:
    """One sensitive value found in a text.

    ``start``/``end`` index the *original* text (before normalisation). The matched value itself is never
    stored, so a ``Finding`` is safe to log, print and audit.
    """

    type: str
    category: Category
    start: int
    end: int
    confidence: float
    severity: Severity
    detector: str = ""

    @property
    def risk(self) -> float:
        """Risk of this finding: severity weight times confidence, in [0, 1]."""
        return round(float(self.severity.value) * self.confidence, 4)

    def __len__(self) -> int:
        return self.end - self.start


@dataclass(frozen=True, slots=True)
class ScanResult:
    """All findings in one text, sorted by position, overlaps already resolved."""

    findings: tuple[Finding, ...] = ()
    text_length: int = 0
    elapsed_us: float = field(default=0.0, compare=False)

    @property
    def risk_score(self) -> float:
        """Combined risk: 1 - prod(1 - risk_i). One CRITICAL finding at full confidence gives 1.0."""
        remaining = 1.0
        for f in self.findings:
            remaining *= 1.0 - f.risk
        return round(1.0 - remaining, 4)

    @property
    def has_findings(self) -> bool:
        return bool(self.findings)

    def types(self) -> list[str]:
        """Entity types found, in order of first appearance, without repeats."""
        return list(dict.fromkeys(f.type for f in self.findings))

    def __bool__(self) -> bool:
        return bool(self.findings)
