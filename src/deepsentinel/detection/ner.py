"""Optional PERSON detection with a named-entity model (spaCy), used only when it is installed.

Nothing here is imported at start-up: :func:`load_name_detector` checks for ``spacy`` and an English pipeline
and returns ``None`` when either is missing, so the pattern catalog works without them. Install with
``pip install spacy && python -m spacy download en_core_web_sm``.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from deepsentinel.detection.findings import Category, Severity

__all__ = ["NameDetector", "NameSpan", "load_name_detector"]

_MODELS = ("en_core_web_sm", "en_core_web_md", "en_core_web_lg", "en_core_web_trf")


@dataclass(frozen=True, slots=True)
class NameSpan:
    """A person name found by the model, as offsets into the scanned (normalised) text."""

    start: int
    end: int


class NameDetector:
    """Wraps a loaded spaCy pipeline; produces PERSON spans."""

    entity = "PERSON"
    category = Category.PII
    severity = Severity.MEDIUM
    confidence = 0.85

    def __init__(self, nlp: Callable[[str], Any]) -> None:
        self._nlp = nlp

    def find(self, text: str) -> list[NameSpan]:
        doc = self._nlp(text)
        return [NameSpan(e.start_char, e.end_char) for e in doc.ents if e.label_ == "PERSON"]


_LOADED: dict[str, NameDetector | None] = {}


def load_name_detector() -> NameDetector | None:
    """The shared name detector, or ``None`` if spaCy or an English model is not installed (cached)."""
    if "default" in _LOADED:
        return _LOADED["default"]
    detector: NameDetector | None = None
    if importlib.util.find_spec("spacy") is not None:
        spacy = importlib.import_module("spacy")
        for model in _MODELS:
            if importlib.util.find_spec(model) is not None:
                detector = NameDetector(spacy.load(model, disable=["parser", "lemmatizer"]))
                break
    _LOADED["default"] = detector
    return detector
