"""The detection engine: scans text for sensitive entities. Pure and I/O-free.

This is the first, deliberately small engine (SSN, payment cards, email, phone, common secrets). It fixes the
contract the rest of DeepSentinel relies on:

* ``scan(text) -> ScanResult``: findings with offsets into ``text``, overlaps resolved, sorted by start.
* ``safe_boundary(text) -> int``: an index ``k`` such that, for any continuation ``more``, the findings of
  ``scan(text + more)`` that start before ``k`` are exactly the findings of ``scan(text)`` that start before
  ``k``. The stream guard releases ``text[:k]`` and holds back the rest.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from deepsentinel.detection.findings import Category, Finding, ScanResult, Severity


def luhn_valid(digits: str) -> bool:
    """The Luhn (mod 10) check used by payment card numbers."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def _digits(s: str) -> str:
    return "".join(ch for ch in s if ch.isdigit())


def _valid_ssn(value: str) -> bool:
    d = _digits(value)
    area, group, serial = d[:3], d[3:5], d[5:]
    return not (area in ("000", "666") or area[0] == "9" or group == "00" or serial == "0000")


def _valid_card(value: str) -> bool:
    d = _digits(value)
    return 13 <= len(d) <= 19 and luhn_valid(d) and len(set(d)) > 1


@dataclass(frozen=True)
class PatternEntity:
    """An entity recognised by a regular expression and an optional validator."""

    type: str
    category: Category
    severity: Severity
    pattern: re.Pattern[str]
    confidence: float
    validator: Callable[[str], bool] | None = None
    max_length: int = 64


_SEP = r"[ \-.]?"
FIRST_ENTITIES: tuple[PatternEntity, ...] = (
    PatternEntity(
        "US_SSN", Category.PII, Severity.CRITICAL,
        re.compile(r"(?<![\d-])\d{3}([- ])\d{2}\1\d{4}(?![\d-])"), 0.95, _valid_ssn, 11,
    ),
    PatternEntity(
        "CREDIT_CARD", Category.PCI, Severity.CRITICAL,
        re.compile(r"(?<![\d-])\d(?:[ \-]?\d){12,18}(?![\d-])"), 0.95, _valid_card, 40,
    ),
    PatternEntity(
        "EMAIL_ADDRESS", Category.PII, Severity.LOW,
        re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}"), 0.9, None, 254,
    ),
    PatternEntity(
        "PHONE_NUMBER", Category.PII, Severity.LOW,
        re.compile(r"(?<![\w-])(?:\+?1[ .\-]?)?\(?\d{3}\)?[ .\-]?\d{3}[ .\-]\d{4}(?![\w-])"), 0.7, None, 20,
    ),
    PatternEntity(
        "AWS_ACCESS_KEY", Category.SECRET, Severity.CRITICAL,
        re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"), 0.95, None, 20,
    ),
    PatternEntity(
        "GITHUB_TOKEN", Category.SECRET, Severity.CRITICAL,
        re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36,255}\b"), 0.95, None, 260,
    ),
    PatternEntity(
        "OPENAI_API_KEY", Category.SECRET, Severity.CRITICAL,
        re.compile(r"\bsk-(?:proj-|ant-)?[A-Za-z0-9_\-]{20,200}"), 0.9, None, 210,
    ),
    PatternEntity(
        "PRIVATE_KEY", Category.SECRET, Severity.CRITICAL,
        re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]{0,8000}?-----END [A-Z ]*PRIVATE KEY-----"),
        0.99, None, 8100,
    ),
)

# Characters that can continue a sensitive value; a stream tail made of these may still grow into one.
_ENTITY_CHARS = re.compile(r"[A-Za-z0-9._%+@\-()/=:]")
_PEM_OPEN = "-----BEGIN"


class DetectionEngine:
    """Scans text with a catalogue of entities and resolves overlapping findings."""

    def __init__(self, entities: Iterable[PatternEntity] = FIRST_ENTITIES) -> None:
        self.entities = tuple(entities)
        self.max_entity_length = max((e.max_length for e in self.entities), default=0)

    def scan(self, text: str) -> ScanResult:
        """Find every sensitive value in ``text``."""
        found: list[Finding] = []
        for entity in self.entities:
            for m in entity.pattern.finditer(text):
                value = m.group(0)
                if entity.validator is not None and not entity.validator(value):
                    continue
                found.append(
                    Finding(entity.type, entity.category, m.start(), m.end(), entity.confidence,
                            entity.severity, "pattern")
                )
        return ScanResult(tuple(resolve_overlaps(found)), len(text))

    def safe_boundary(self, text: str) -> int:
        """Index up to which ``text`` is final: no later text can change findings that start before it."""
        pem = text.rfind(_PEM_OPEN)
        if pem != -1 and "PRIVATE KEY-----" not in text[pem + 10 :].split("-----END", 1)[-1]:
            return pem
        limit = max(0, len(text) - self.max_entity_length)
        i = len(text)
        # Walk back over the trailing run that could still be part of an entity. Single spaces between
        # entity characters are kept in the run because cards and phone numbers use them as separators.
        while i > limit:
            ch = text[i - 1]
            if _ENTITY_CHARS.match(ch) or (ch == " " and i >= 2 and text[i - 2].isdigit()):
                i -= 1
                continue
            break
        return i


def resolve_overlaps(findings: list[Finding]) -> list[Finding]:
    """Keep the strongest of overlapping findings: higher risk, then longer span, then earlier start."""
    ranked = sorted(findings, key=lambda f: (-f.risk, -(f.end - f.start), f.start))
    kept: list[Finding] = []
    for f in ranked:
        if all(f.end <= k.start or f.start >= k.end for k in kept):
            kept.append(f)
    return sorted(kept, key=lambda f: (f.start, f.end))


_DEFAULT: DetectionEngine | None = None


def default_engine() -> DetectionEngine:
    """The shared engine with the built-in catalogue (built once, lazily; it is immutable)."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = DetectionEngine()
    return _DEFAULT


def scan(text: str) -> ScanResult:
    """Scan ``text`` with the default engine."""
    return default_engine().scan(text)
