"""PERSON detection: the built-in statistical detector, or a named-entity model when one is asked for.

:func:`load_name_detector` picks the backend from ``DEEPSENTINEL_NER`` (read when the engine first needs it):

* unset or ``builtin``: :class:`~deepsentinel.detection.names.StatisticalNameDetector`: capitalisation,
  titles, labels and Census name lists shipped with the package; nothing to download, microseconds per text;
* ``spacy``: an installed English spaCy pipeline (``en_core_web_sm`` ... ``_trf``), milliseconds per text;
* ``gliner``: a GLiNER model (``DEEPSENTINEL_GLINER_MODEL``, default ``urchade/gliner_small-v2.1``) that must
  already be in the local Hugging Face cache; nothing is fetched at run time;
* ``off``: no PERSON detection.

Nothing heavy is imported until the first scan; a backend that cannot be loaded falls back to the built-in one.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from deepsentinel.detection.findings import Category, Severity

__all__ = ["GlinerNameDetector", "NameDetector", "NameSpan", "load_name_detector"]

_MODELS = ("en_core_web_sm", "en_core_web_md", "en_core_web_lg", "en_core_web_trf")
_GLINER_DEFAULT = "urchade/gliner_small-v2.1"


@dataclass(frozen=True, slots=True)
class NameSpan:
    """A person name found by the model, as offsets into the scanned (normalised) text."""

    start: int
    end: int


class NameDetector:
    """Wraps a loaded spaCy pipeline (any callable returning a doc with ``ents``); produces PERSON spans."""

    entity = "PERSON"
    category = Category.PII
    severity = Severity.MEDIUM
    confidence = 0.85
    # A model reads whole sentences, so a stream holds text back to the last sentence end; a detector that
    # knows its own context sets this to False and says how far text is final with ``stable_prefix``.
    needs_sentence = True

    def __init__(self, nlp: Callable[[str], Any]) -> None:
        self._nlp = nlp

    def stable_prefix(self, text: str, start: int = 0) -> int:
        """Index up to which more text cannot change the names found (used when ``needs_sentence`` is False);
        ``text[:start]`` is already final."""
        return len(text)

    def may_find_from(self, text: str, start: int) -> bool:
        """Whether ``find(text)`` could report a name that reaches past ``start`` when ``text[:start]`` is final.
        ``False`` lets a stream skip its scan of a quiet delta; a model reads whole sentences, so: always."""
        return True

    def find(self, text: str) -> list[NameSpan]:
        doc = self._nlp(text)
        return [NameSpan(e.start_char, e.end_char) for e in doc.ents if e.label_ == "PERSON"]


class GlinerNameDetector(NameDetector):
    """Wraps a GLiNER model (``predict_entities(text, labels, threshold=...)``)."""

    def __init__(self, model: Any, threshold: float = 0.5) -> None:
        super().__init__(lambda text: None)
        self._model = model
        self._threshold = threshold

    def find(self, text: str) -> list[NameSpan]:
        found = self._model.predict_entities(text, ["person"], threshold=self._threshold)
        return [NameSpan(int(e["start"]), int(e["end"])) for e in found if e.get("label") == "person"]


def _spacy() -> NameDetector | None:
    if importlib.util.find_spec("spacy") is None:
        return None
    spacy = importlib.import_module("spacy")
    for model in _MODELS:
        if importlib.util.find_spec(model) is not None:
            return NameDetector(spacy.load(model, disable=["parser", "lemmatizer"]))
    return None


def _gliner() -> NameDetector | None:
    if importlib.util.find_spec("gliner") is None:
        return None
    gliner = importlib.import_module("gliner")
    name = os.environ.get("DEEPSENTINEL_GLINER_MODEL", _GLINER_DEFAULT)
    try:  # local_files_only: a compliance layer never downloads a model behind its user's back
        model = gliner.GLiNER.from_pretrained(name, local_files_only=True)
    except (OSError, ValueError):
        return None
    return GlinerNameDetector(model)


_LOADED: dict[str, NameDetector | None] = {}


def load_name_detector(backend: str | None = None) -> NameDetector | None:
    """The shared name detector for ``backend`` (default: ``DEEPSENTINEL_NER`` or ``builtin``), cached."""
    choice = (backend or os.environ.get("DEEPSENTINEL_NER") or "builtin").lower()
    if choice in _LOADED:
        return _LOADED[choice]
    detector: NameDetector | None = None
    if choice == "spacy":
        detector = _spacy()
    elif choice == "gliner":
        detector = _gliner()
    if detector is None and choice != "off":
        from deepsentinel.detection.names import StatisticalNameDetector  # here: names imports this module

        detector = StatisticalNameDetector()
    _LOADED[choice] = detector
    return detector
