r"""Normalisation before matching, with an offset map back to the original text.

Evasion tricks change how a value *looks* without changing what it *is*: full-width digits (``４１１１``), zero-width
or other invisible characters or combining marks (underlines, accents) inside a number, Cyrillic look-alikes in an
e-mail address, non-breaking spaces or en dashes as separators. Detectors match the normalised text; every finding is mapped back through
:meth:`Normalized.original_span` so redaction replaces exactly the original characters.

Normalisation is **per character** (each original character becomes zero or more normalised characters), never
across characters. That keeps it local: normalising ``text + more`` starts with normalising ``text``, which the
stream guard's ``safe_boundary`` contract relies on. Pure ASCII text (the common case) is returned as is, with no
offset map at all; otherwise the map records only the units whose length changed (see :class:`Normalized`).

JSON string escapes (``\u0040``, ``\/``) are decoded too, each escape as one unit: a model writing tool-call
arguments (or a prompt carrying JSON) may spell ``jane\u0040example.com`` or ``https:\/\/user:pw@host``. The
offset map then keeps where each normalised character starts *and* ends in the original, so a finding that
ends in an escape redacts the whole escape. URL escapes of ASCII bytes (``jane%40example.com``) and HTML character
references (``&#64;``, ``&#x40;``, ``&commat;``) are decoded the same way.

Separated digits (``4 1 1 1``, ``4111.1111``, digits across line breaks) and ``name at domain dot com`` are
handled by the patterns themselves, not here: rewriting them would make the offset map non-local.
"""

from __future__ import annotations

import bisect
import html.entities
import re
import unicodedata
from array import array
from collections.abc import Iterator, Sequence
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

# Runs of non-ASCII characters; single JSON escapes, URL escapes of an ASCII byte and HTML character references.
# (One leading character class, then look-behinds to tell the escapes apart: as fast as a plain class.)
_SPECIAL = re.compile(r"[^\x00-\x7f]+|[\\%&](?:(?<=\\)(?:u[0-9a-fA-F]{4}|/)|(?<=%)[0-7][0-9a-fA-F]|"
                      r"(?<=&)(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});)")


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


@lru_cache(maxsize=1024)
def _unescape(escape: str) -> str | None:
    """The character an escape stands for, normalised (None: not an escape after all, keep it as written)."""
    if escape[0] == "\\":
        return "/" if escape[1] == "/" else _fold_any(chr(int(escape[2:], 16)))
    if escape[0] == "%":
        return chr(int(escape[1:], 16))
    if escape[1] == "#":
        code = int(escape[3:-1], 16) if escape[2] in "xX" else int(escape[2:-1])
        return _fold_any(chr(code)) if 0 < code <= 0x10FFFF else None
    named = html.entities.html5.get(escape[1:])
    return None if named is None else "".join(_fold_any(c) for c in named)


_NO_UNITS = array("q")


class Normalized:
    """A normalised text and how to map its positions back to the original.

    The map is kept compact: only *units* whose length changed (a dropped invisible, an expanded ligature, a
    decoded escape) are recorded, with where they start in both texts; between them the offset is constant. A
    10 MB text with a few escapes costs a few entries, not 10 million (a character-for-character fold, such as a
    full-width digit or a homoglyph, needs no entry at all). Positions are found by bisection.
    """

    __slots__ = ("_norm", "_orig", "_orig_end", "_norm_end", "original_length", "text")

    def __init__(self, text: str, original_length: int,
                 units: list[tuple[int, int, int, int]]
                 | tuple[list[int], list[int], list[int], list[int]] | None = None) -> None:
        """``units``: (normalised start, end, original start, end) rows, or those four columns as lists."""
        self.text = text
        self.original_length = original_length
        if not units:  # the common case (ASCII text): share one empty map, which nothing ever writes to
            self._norm = self._norm_end = self._orig = self._orig_end = _NO_UNITS
            return
        columns: Sequence[Sequence[int]] = units if isinstance(units, tuple) else list(zip(*units, strict=True))
        # unit i covers normalised [_norm[i], _norm_end[i]) and original [_orig[i], _orig_end[i]).
        self._norm = array("q", columns[0])
        self._norm_end = array("q", columns[1])
        self._orig = array("q", columns[2])
        self._orig_end = array("q", columns[3])

    @property
    def mapped(self) -> bool:
        """Whether any position moved (False: normalised and original offsets are the same)."""
        return len(self._norm) > 0 or len(self.text) != self.original_length

    def original_index(self, i: int) -> int:
        """Original index of the normalised position ``i`` (``len(text)`` maps to the original's length)."""
        if i >= len(self.text):
            return self.original_length
        if not self._norm:  # nothing moved (ASCII text): the same index
            return i
        u = bisect.bisect_right(self._norm, i) - 1
        if u < 0:
            return i
        if i < self._norm_end[u]:
            return self._orig[u]
        return self._orig_end[u] + (i - self._norm_end[u])

    def original_end(self, end: int) -> int:
        """Original end (exclusive) of a span of the normalised text ending at ``end``."""
        if end == 0 or not self._norm:  # nothing moved (ASCII text): the same end
            return end
        i = end - 1
        u = bisect.bisect_right(self._norm, i) - 1
        if u < 0:
            return end
        if i < self._norm_end[u]:
            return self._orig_end[u]
        return self._orig_end[u] + (end - self._norm_end[u])

    def normalized_index(self, i: int) -> int:
        """Normalised position of the original index ``i`` (inside a unit: the unit's start)."""
        u = bisect.bisect_right(self._orig, i) - 1
        if u < 0:
            return min(i, len(self.text))
        if i < self._orig_end[u]:
            return self._norm[u]
        return min(self._norm_end[u] + (i - self._orig_end[u]), len(self.text))

    def original_start(self, start: int) -> int:
        """Original start of a span of the normalised text starting at ``start``."""
        return self.original_index(start)

    def __repr__(self) -> str:
        return f"Normalized({len(self.text)} characters from {self.original_length}, {len(self._norm)} units)"


def normalize(text: str) -> Normalized:
    """Normalise ``text`` for matching (NFKC per character, invisibles removed, homoglyphs folded, JSON, URL and
    HTML escapes decoded)."""
    if text.isascii() and "\\" not in text and "%" not in text and "&" not in text:
        return Normalized(text, len(text))
    pieces: list[str] = []
    append = pieces.append
    # The four columns of the units (see Normalized), kept as separate lists: this loop runs once per special
    # character in the worst case (an invisible between every two digits).
    norm: list[int] = []
    norm_end: list[int] = []
    orig: list[int] = []
    orig_end: list[int] = []
    fold = _fold
    pos = 0  # original position copied up to
    n = 0  # length of the normalised text so far
    for m in _specials(text):
        start, end = m.span()
        if start > pos:
            append(text[pos:start])
            n += start - pos
        if end - start == 1:  # a lone non-ASCII character (an invisible between digits, say)
            out = fold(text[start])
        elif text[start] in "\\%&":
            decoded = _unescape(m.group())
            out = m.group() if decoded is None else decoded
        else:
            out = "".join(map(fold, m.group()))
            if len(out) != end - start:  # rare: some character of the run changed length; map each one
                for i in range(start, end):
                    one = fold(text[i])
                    if len(one) != 1:
                        norm.append(n)
                        norm_end.append(n + len(one))
                        orig.append(i)
                        orig_end.append(i + 1)
                    n += len(one)
                append(out)
                pos = end
                continue
        append(out)
        if len(out) != end - start:
            norm.append(n)
            norm_end.append(n + len(out))
            orig.append(start)
            orig_end.append(end)
        n += len(out)
        pos = end
    if pos == 0:
        return Normalized(text, len(text))
    append(text[pos:])
    return Normalized("".join(pieces), len(text), (norm, norm_end, orig, orig_end))


def _specials(text: str) -> Iterator[re.Match[str]]:
    """``_SPECIAL.finditer(text)``; in ASCII text (source code, say) tried only at its backslashes, percent
    signs and ampersands, which ``str.find`` reaches at memchr speed (a ``re`` scan costs ~10 ns a character).
    A text full of them is left to ``finditer``, one scan."""
    if not text.isascii():
        yield from _SPECIAL.finditer(text)
        return
    positions: list[int] = []
    budget = len(text) // 32 + 16
    for ch in "\\%&":
        i = text.find(ch)
        while i >= 0:
            positions.append(i)
            if len(positions) > budget:
                yield from _SPECIAL.finditer(text)
                return
            i = text.find(ch, i + 1)
    positions.sort()
    end = 0
    match = _SPECIAL.match
    for i in positions:
        if i < end:
            continue  # inside the previous escape (finditer resumes after it too)
        m = match(text, i)
        if m is not None:
            yield m
            end = m.end()


def _fold_any(ch: str) -> str:
    """An escaped character, normalised like a literal one (an escaped ASCII character stays itself)."""
    return ch if ch.isascii() else _fold(ch)
