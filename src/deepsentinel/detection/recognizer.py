"""Recognizers: what an entity looks like (patterns), how to confirm it (validator) and which words around it
matter (context). Declarative, Presidio-style; the engine compiles and runs them.

Confidence of a candidate:

1. the matching ``Pattern.score``;
2. rejected if the recognizer's ``validator`` says no (checksums, issuer ranges, area rules...);
3. a pattern with ``requires_context`` is kept only if a context word occurs in the ``context_window``
   characters *before* the candidate, with no digit in between (a label names the next value only: in
   ``MRN 1234567 DEA AB1234563`` "MRN" does not label the DEA number); the nearer the word, the higher the  (deepsentinel: allow)
   confidence. Other patterns get ``context_boost`` added when a context word is there;
4. a ``negative_context`` word in the ``negative_window`` characters before the candidate (``order``,
   ``ISBN``, ``version``...) of the same sentence drops it unless a positive context word is nearer to it, or
   another number stands between the word and the candidate (the word labels that number).

Context is looked for **before** the candidate only, never after: a decision then never depends on text that
has not arrived yet, which keeps the stream guard's ``safe_boundary`` contract simple and tight.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field

from deepsentinel.detection.findings import Category, Severity
from deepsentinel.detection.normalizer import normalize

__all__ = ["Pattern", "PatternRecognizer", "context_regex"]

_DIGIT = re.compile(r"[0-9]")
# "part no. 617-464-6083": the dot of an abbreviation ends no sentence.
_SENTENCE_BREAK = re.compile(r"(?<![Nn]o)(?<![Nn]r)(?<!#)(?<![Cc]at)(?<![Rr]ef)[.!?;]\s")


@dataclass(frozen=True)
class Pattern:
    """One regular expression for an entity.

    ``body`` must be valid for both Python ``re`` and RE2 (no look-arounds, no back-references): it doubles as
    the prefilter in the engine's RE2 set. ``before``/``after`` are Python look-arounds applied on extraction.
    ``gate`` replaces ``body`` in the prefilter when the body cannot be expressed in RE2 (very long repeats) or
    costs the prefilter more than a part of it that every match holds (a leading or trailing run of a class).
    ``group`` selects the capture group that holds the value (0: the whole match).
    """

    name: str
    body: str
    score: float
    before: str = ""
    after: str = ""
    group: int = 0
    requires_context: bool = False
    gate: str | None = None

    @property
    def regex(self) -> str:
        # A bare body is used as is, so a custom pattern may start with inline flags such as ``(?i)``.
        return f"{self.before}(?:{self.body}){self.after}" if self.before or self.after else self.body

    @property
    def prefilter(self) -> str:
        return self.gate if self.gate is not None else self.body


@dataclass(frozen=True)
class PatternRecognizer:
    """Recognizes one entity type with patterns, an optional validator and context words."""

    entity: str
    category: Category
    severity: Severity
    patterns: tuple[Pattern, ...]
    validator: Callable[[str], bool] | None = None
    context: tuple[str, ...] = ()
    negative_context: tuple[str, ...] = ()
    context_window: int = 48
    negative_window: int = 20
    context_boost: float = 0.1
    max_length: int = 64
    detector: str = "pattern"
    unicode: bool = False  # built-in patterns use ASCII classes, matching RE2's semantics in the prefilter
    compiled: tuple[re.Pattern[str], ...] = field(init=False, repr=False, compare=False)
    context_rx: re.Pattern[str] | None = field(init=False, repr=False, compare=False)
    negative_rx: re.Pattern[str] | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Compiled once per recognizer; frozen dataclass, so set through object.__setattr__.
        object.__setattr__(self, "compiled", tuple(
            re.compile(p.regex, 0 if self.unicode else re.ASCII) for p in self.patterns))
        object.__setattr__(self, "context_rx", _compile_words(self.context))
        object.__setattr__(self, "negative_rx", _compile_words(self.negative_context))

    def context_distance(self, text: str, start: int) -> int | None:
        """Characters between the nearest context word before ``start`` and ``start`` (None: no word)."""
        if self.context_rx is None:
            return None
        nearest = -1
        for m in self.context_rx.finditer(text, max(0, start - self.context_window), start):
            nearest = m.end()
        return None if nearest < 0 else start - nearest

    def confidence(self, pattern: Pattern, text: str, start: int, value: str) -> float:
        """Confidence for a candidate starting at ``start`` in ``text``; 0.0 means rejected."""
        if self.validator is not None and not self.validator(value):
            return 0.0
        lo = max(0, start - self.context_window)
        nearest = -1
        if self.context_rx is not None:
            for m in self.context_rx.finditer(text, lo, start):
                nearest = m.end()
        if self.negative_rx is not None:
            negative = -1
            for m in self.negative_rx.finditer(text, max(0, start - self.negative_window), start):
                negative = m.end()
            # "charged ... order #4532015112830366": the nearer word wins. But a negative word labels the next
            # number only, like a positive one: in "Ticket 7 536-22-1234" it names the 7, not the SSN.  deepsentinel: allow
            if negative > nearest and not _SENTENCE_BREAK.search(text, negative, start) \
                    and not _DIGIT.search(text, negative, start):
                return 0.0
        if nearest < 0:
            return 0.0 if pattern.requires_context else pattern.score
        if pattern.requires_context:
            if _DIGIT.search(text, nearest, start):
                return 0.0  # "MRN 1234567 DEA AB1234563": a context word labels the next value only  deepsentinel: allow
            # The nearer the context word, the surer: when two entities claim the same digits
            # ("MRN ... member ID 12345678"), the one named right before them wins the overlap.  deepsentinel: allow
            return pattern.score - 0.05 * (start - nearest) / self.context_window
        return min(1.0, pattern.score + self.context_boost)


def context_regex(words: tuple[str, ...]) -> str:
    r"""The prefilter's gate for context words: a case-insensitive alternation, RE2- and Hyperscan-compatible.

    The prefilter sees each non-ASCII character as one byte 0x80 (``prefilter.one_byte_per_char``) or, with
    RE2, as one code point: either way ``[^\x00-\x7f]`` matches it, so a word in another script ("carta
    d'identità", a Thai or Korean label) gates its pattern by its length and its ASCII letters. A superset of
    :func:`_exact_regex`, which decides.
    """
    alternatives = "|".join(_alternative(w, gate=True) for w in _variants(words))
    return f"(?i:{alternatives})"


def _variants(words: tuple[str, ...]) -> list[str]:
    """The words as the engine sees text (normalised: Thai vowel signs are combining marks it drops), each
    accented Latin word also without its accents ("identità" and "identita"), longest first so the alternation
    prefers the longest label."""
    out = {normalize(w).text for w in words}
    for w in words:
        folded = "".join(c for c in unicodedata.normalize("NFKD", w) if not unicodedata.combining(c))
        if folded != w and folded.isascii():
            out.add(folded)
    return sorted(out, key=lambda w: (-len(w), w))


def _alternative(word: str, *, gate: bool) -> str:
    r"""One word as a regex. An ASCII end gets ``\b``. A non-ASCII end gets none in the gate (a superset) and,
    in the exact regex, a Unicode word boundary when it is a Latin letter ("identità" is not "identitàx");
    Thai and CJK labels stand against the next word with no space ("ผู้ถือเลขประจำตัวประชาชน"), and Korean ones
    take a particle ("주민등록번호는"), so theirs are left open."""
    body = "".join(
        r"[\s_\-]?" if c == " " else re.escape(c) if c.isascii() else r"[^\x00-\x7f]" if gate else re.escape(c)
        for c in word)
    return _bounded(word[0], before=True, gate=gate) + body + _bounded(word[-1], before=False, gate=gate)


def _bounded(char: str, *, before: bool, gate: bool) -> str:
    if char.isascii():
        return r"\b"
    if gate or not _latin_letter(char):
        return ""
    return r"(?<![^\W\d_])" if before else r"(?![^\W\d_])"


def _latin_letter(char: str) -> bool:
    return unicodedata.name(char, "").startswith("LATIN")


def _exact_regex(words: tuple[str, ...]) -> str:
    """The context words as the Python regex that decides (see :func:`_alternative`)."""
    return "(?i:" + "|".join(_alternative(w, gate=False) for w in _variants(words)) + ")"


def _compile_words(words: tuple[str, ...]) -> re.Pattern[str] | None:
    # Unicode semantics (``\b`` and ``\W`` see "à" as a letter); an ASCII word's ``\b`` then also sees one, so
    # "idnr" in "idnrà" is not a word: never looser than RE2's ASCII ``\b`` in the gate.
    return re.compile(_exact_regex(words)) if words else None
