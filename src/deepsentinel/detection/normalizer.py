r"""Normalisation before matching, with an offset map back to the original text.

Evasion tricks change how a value *looks* without changing what it *is*: full-width digits (``４１１１``), zero-width
or other invisible characters or combining marks (underlines, accents) inside a number, Cyrillic look-alikes in an
e-mail address, non-breaking spaces or en dashes as separators. Detectors match the normalised text; every finding is mapped back through
:meth:`Normalized.original_span` so redaction replaces exactly the original characters.

Normalisation is **per character** (each original character becomes zero or more normalised characters), never
across characters. That keeps it local: normalising ``text + more`` starts with normalising ``text``, which the
stream guard's ``safe_boundary`` contract relies on. Pure ASCII text (the common case) is returned as is, with no
offset map at all.

JSON string escapes (``\u0040``, ``\/``) are decoded too, each escape as one unit: a model writing tool-call
arguments (or a prompt carrying JSON) may spell ``jane\u0040example.com`` or ``https:\/\/user:pw@host``. The
offset map then keeps where each normalised character starts *and* ends in the original, so a finding that
ends in an escape redacts the whole escape.

Separated digits (``4 1 1 1``, ``4111.1111``, digits across line breaks) and ``name at domain dot com`` are
handled by the patterns themselves, not here: rewriting them would make the offset map non-local.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

__all__ = ["Normalized", "normalize"]

# Characters that render as nothing (or next to nothing) and are used to split a value so a regex misses it.
_INVISIBLE = frozenset(
    [0x00AD, 0x034F, 0x061C, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x180E, 0x3164, 0xFEFF, 0xFFA0]
    + list(range(0x180B, 0x180F))
    + list(range(0x200B, 0x2010))  # zero-width space/joiners, LRM/RLM
    + list(range(0x202A, 0x202F))  # bidi embeddings and overrides
    + list(range(0x2060, 0x2070))  # word joiner, invisible operators, bidi isolates
    + list(range(0xFE00, 0xFE10))  # variation selectors
    + list(range(0x1BCA0, 0x1BCA4))
    + list(range(0xE0000, 0xE0080))  # tag characters
)

# Look-alikes NFKC leaves alone (Cyrillic and Greek letters, odd dots and dashes). Folding them everywhere is
# harmless for detection: the normalised text is only ever matched, never shown.
_HOMOGLYPHS = {
    "а": "a", "в": "b", "е": "e", "о": "o", "р": "p", "с": "c", "у": "y", "х": "x", "і": "i", "ј": "j",
    "ѕ": "s", "ԁ": "d", "һ": "h", "ӏ": "l", "ԛ": "q", "ԝ": "w", "к": "k", "м": "m", "н": "h", "т": "t",
    "А": "A", "В": "B", "Е": "E", "К": "K", "М": "M", "Н": "H", "О": "O", "Р": "P", "С": "C", "Т": "T",
    "Х": "X", "І": "I", "Ј": "J", "Ѕ": "S",
    "α": "a", "ο": "o", "ν": "v", "ρ": "p", "ι": "i", "κ": "k", "ε": "e", "υ": "u",
    "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M", "Ν": "N", "Ο": "O",
    "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X",
    "ɡ": "g", "ı": "i", "ℓ": "l",
    "\u3002": ".", "\uff61": ".", "\u2024": ".", "\u00b7": ".",
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2015": "-", "\u2212": "-",
    "\u2043": "-", "\ufe63": "-", "\uff0d": "-",
}

# Runs of non-ASCII characters, and single JSON escapes of one character.
_SPECIAL = re.compile(r"[^\x00-\x7f]+|\\u[0-9a-fA-F]{4}|\\/")


@lru_cache(maxsize=4096)
def _fold(ch: str) -> str:
    """The normalised form of one non-ASCII character (possibly empty or several characters)."""
    if ord(ch) in _INVISIBLE or 0xD800 <= ord(ch) <= 0xDFFF:
        # A lone surrogate (from a JSON "\ud83d" escape) is no character: RE2 cannot even encode it, and
        # dropping it like an invisible one keeps a card number with one inside it a card number.
        return ""
    if unicodedata.category(ch) in ("Mn", "Me"):
        # Combining marks draw on the character before them: "4\u0332" is a readable, underlined 4.
        return ""
    if ch in _HOMOGLYPHS:
        return _HOMOGLYPHS[ch]
    if ch.isdecimal():  # Arabic-Indic, Devanagari... digits; NFKC only folds the full-width ones
        return str(unicodedata.decimal(ch))
    out = unicodedata.normalize("NFKC", ch)
    if out.isascii():
        return out
    if unicodedata.category(ch) == "Zs":  # any Unicode space separator is a space
        return " "
    return "".join(_HOMOGLYPHS.get(c, c) for c in out)


@dataclass(frozen=True, slots=True)
class Normalized:
    """A normalised text and, when it differs from the original, where each of its characters came from.

    ``sources[i]`` is the index in the original text of the character that produced normalised character ``i``;
    ``None`` means the texts are identical.
    """

    text: str
    original_length: int
    sources: tuple[int, ...] | None = None
    ends: tuple[int, ...] | None = None  # original end (exclusive) of each normalised character

    def original_index(self, i: int) -> int:
        """Original index of the normalised position ``i`` (``len(text)`` maps to the original's length)."""
        if self.sources is None:
            return i
        return self.sources[i] if i < len(self.sources) else self.original_length

    def original_end(self, end: int) -> int:
        """Original end (exclusive) of a span of the normalised text ending at ``end``."""
        if self.sources is None or end == 0:
            return end
        if self.ends is not None:
            return self.ends[end - 1]
        return self.sources[end - 1] + 1

    def original_start(self, start: int) -> int:
        """Original start of a span of the normalised text starting at ``start``."""
        return self.original_index(start)


def normalize(text: str) -> Normalized:
    """Normalise ``text`` for matching (NFKC per character, invisibles removed, homoglyphs folded, JSON escapes
    decoded)."""
    if text.isascii() and "\\" not in text:
        return Normalized(text, len(text))
    pieces: list[str] = []
    sources: list[int] = []
    ends: list[int] = []
    escapes = False
    pos = 0
    for m in _SPECIAL.finditer(text):
        start, end = m.span()
        if start > pos:
            pieces.append(text[pos:start])
            sources.extend(range(pos, start))
            ends.extend(range(pos + 1, start + 1))
        if text[start] == "\\":
            escapes = True
            out = "/" if text[start + 1] == "/" else _fold_any(chr(int(text[start + 2 : end], 16)))
            pieces.append(out)
            sources.extend([start] * len(out))
            ends.extend([end] * len(out))
        else:
            for i in range(start, end):
                out = _fold(text[i])
                if out:
                    pieces.append(out)
                    sources.extend([i] * len(out))
                    ends.extend([i + 1] * len(out))
        pos = end
    if not escapes and not sources and pos == 0:
        return Normalized(text, len(text))  # backslashes, but no escape to decode
    if pos < len(text):
        pieces.append(text[pos:])
        sources.extend(range(pos, len(text)))
        ends.extend(range(pos + 1, len(text) + 1))
    return Normalized("".join(pieces), len(text), tuple(sources), tuple(ends) if escapes else None)


def _fold_any(ch: str) -> str:
    """An escaped character, normalised like a literal one (an escaped ASCII character stays itself)."""
    return ch if ch.isascii() else _fold(ch)
