"""PatternMatcher: register your own entity patterns (employee IDs, project code names...).

>>> matcher = PatternMatcher().register("employee_id", r"EMP\\d{6}", context=("employee",))
>>> engine = DetectionEngine(matcher=matcher)

The entity type of a custom pattern is its name upper-cased (``employee_id`` -> ``EMPLOYEE_ID``); its category
is ``Category.CUSTOM``. The default severity (HIGH) and confidence (0.95) give a risk of 0.81, so a custom
pattern is a violation under the default policy thresholds; pass ``severity``/``confidence`` to change that.

Custom patterns use Python ``re`` syntax. When RE2 accepts them they join the engine's prefilter set;
otherwise they are run on every text. Their matching time is bounded by how they are written: prefer bounded
quantifiers (``\\d{6}``, not ``\\d+``) on untrusted input.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from deepsentinel.detection.findings import Category, Severity
from deepsentinel.detection.recognizer import Pattern, PatternRecognizer
from deepsentinel.errors import ConfigurationError

__all__ = ["PatternMatcher", "custom_entity_name"]


def custom_entity_name(name: str) -> str:
    """The entity type a custom pattern reports: its name upper-cased, non-word characters as ``_``."""
    return re.sub(r"\W+", "_", name.strip()).upper()


class PatternMatcher:
    """A registry of custom patterns, turned into recognizers for a :class:`DetectionEngine`."""

    def __init__(self) -> None:
        self._recognizers: dict[str, PatternRecognizer] = {}

    @classmethod
    def from_mapping(cls, patterns: Mapping[str, str]) -> PatternMatcher:
        """One pattern per entry of ``{"employee_id": r"EMP\\d{6}"}`` (the policy ``custom_patterns`` shape)."""
        matcher = cls()
        for name, regex in patterns.items():
            matcher.register(name, regex)
        return matcher

    def register(
        self,
        name: str,
        pattern: str,
        *,
        validator: Callable[[str], bool] | None = None,
        context: tuple[str, ...] = (),
        requires_context: bool = False,
        severity: Severity = Severity.HIGH,
        confidence: float = 0.95,
        max_length: int = 64,
    ) -> PatternMatcher:
        """Add (or replace) a custom entity; returns ``self`` so calls chain."""
        entity = custom_entity_name(name)
        if not entity:
            raise ConfigurationError("custom pattern names must contain a letter or digit")
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ConfigurationError(f"custom pattern {entity} is not a valid regular expression: {exc}") from exc
        if requires_context and not context:
            raise ConfigurationError(f"custom pattern {entity} requires context but names no context words")
        self._recognizers[entity] = PatternRecognizer(
            entity, Category.CUSTOM, severity,
            (Pattern(name, pattern, confidence, requires_context=requires_context),),
            validator=validator, context=context, max_length=max_length, detector="custom",
            unicode=True,
        )
        return self

    def add(self, recognizer: PatternRecognizer) -> PatternMatcher:
        """Add a ready-made recognizer (any category); returns ``self``."""
        self._recognizers[recognizer.entity] = recognizer
        return self

    @property
    def recognizers(self) -> tuple[PatternRecognizer, ...]:
        return tuple(self._recognizers.values())

    def __len__(self) -> int:
        return len(self._recognizers)

    def __repr__(self) -> str:
        return f"PatternMatcher({sorted(self._recognizers)})"
