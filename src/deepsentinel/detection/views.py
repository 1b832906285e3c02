"""Derived views: the text rewritten the way a reader would read a disguised value, for a second pass.

Normalisation (``normalizer.py``) is per character. Some disguises span several characters and are undone here,
on the already normalised text, as a *view*: the text with a few spans replaced, and a map back (a
:class:`~deepsentinel.detection.normalizer.Normalized` whose "original" is the normalised text). The engine scans
the view with the same patterns and keeps the findings that touch a replaced span.

* **Digits behind any separator, or spelled out.** A run of 9 to 19 digits written as digit groups or digit
  words (``zero`` ... ``nine``), joined by any mix of up to three separators (space, line break, slash,
  underscore, comma, dot, dash): ``536/22/1234``, ``536_22_1234``, ``4111,1111,1111,1111``, ``5 3 6 2 2 1 2 3  (deepsentinel: allow)
  4``, ``five three six two two one two three four``. Groups keep their shape and get ``-`` between them;  (deepsentinel: allow)
  single digits (every digit spaced, or words) are regrouped by count the way the number would be written
  (9: ``3-2-4``, 10: ``3-3-4``, 11 starting with 1: ``1-3-3-4``, 12: ``4-4-4``, else together). Runs the patterns
  already read (one kind of plain separator: a space, a dash or a dot) are left alone.
* **Defanged ``[@]`` and ``[.]``** (also with round, curly or angle brackets) become ``@`` and ``.``.

:func:`encoded_segments` finds base64 and hex tokens whose decoded bytes are printable text; the engine scans
that text and maps each finding onto the encoded characters that carry it.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterator
from dataclasses import dataclass

from deepsentinel.detection.normalizer import Normalized

__all__ = ["DIGIT_RUN_TAIL", "ENCODED_TRIGGER", "RUN_MAX", "VIEW_TRIGGER", "EncodedSegment", "View", "digit_views",
           "encoded_segments"]

_WORDS = {"zero": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6", "seven": "7",
          "eight": "8", "nine": "9"}
_WORD = r"(?:zero|one|two|three|four|five|six|seven|eight|nine)(?![A-Za-z])"
_TOKEN = rf"(?:[0-9]{{1,6}}(?![0-9])|(?i:{_WORD}))"
_SEP = r"[ \t\r\n/_,.\-]{1,3}"
# Maximal runs (never cut into chunks, which would depend on where the run starts); too long ones are skipped.
# Next to a digit word only spaces, commas and dashes join: "one. two. three." is prose, not a number.
_WSEP = r"[ \t,\-]{1,3}"
_STEP = rf"(?:{_SEP}[0-9]{{1,6}}(?![0-9])|{_WSEP}(?i:{_WORD}))"
# (The look-ahead on the characters a token can start with changes nothing but lets ``re`` give up at most
# positions before the alternation of digit words: twice as fast.)
_RUN = re.compile(rf"(?=[0-9ZzOoTtFfSsEeNn])(?<![0-9A-Za-z]){_TOKEN}{_STEP}{{2,}}(?![0-9A-Za-z])")
RUN_MAX = 152  # 19 digit words of 5 letters with 3-character separators: no run of at most 19 digits is longer
_TOKENS = re.compile(rf"{_TOKEN}|{_SEP}")
_DEFANGED_BODY = r"[\[\(\{<][ \t]?([@.])[ \t]?[\]\)\}>]"
_DEFANGED = re.compile(_DEFANGED_BODY)
# Prefilter expressions (RE2 and Hyperscan syntax) telling when a view or a decoding pass can find anything.
VIEW_TRIGGER = (rf"[0-9]{{1,6}}(?:{_SEP}[0-9]{{1,6}}){{2,}}|(?i:{_WORD[:-12]}(?:{_SEP}{_WORD[:-12]}){{2,}})|"
                rf"{_DEFANGED_BODY}")
ENCODED_TRIGGER = r"[A-Za-z0-9+/_\-]{16,}"
# A run that may still be growing at the end of a streamed text, possibly ending in a digit word being written
# (used by safe_boundary).
_WORD_PREFIX = r"(?i:z|ze|zer|o|on|t|tw|th|thr|thre|f|fo|fou|fi|fiv|s|si|se|sev|seve|e|ei|eig|eigh|n|ni|nin)"
DIGIT_RUN_TAIL = re.compile(rf"(?<![0-9A-Za-z]){_TOKEN}{_STEP}*(?:{_SEP}|{_WSEP}{_WORD_PREFIX})?\Z")
_TEMPLATES = {9: (3, 2, 4), 10: (3, 3, 4), 12: (4, 4, 4)}
_PLAIN_SEPARATORS = frozenset([" ", "-", "."])


MARGIN = 300  # text kept around the edits of a view: the context windows and the values that touch an edit


@dataclass(frozen=True)
class View:
    """A window ``[offset, ...)`` of the scanned text with its edits applied, and the edited spans.

    ``original_start``/``original_end`` map a position of the view's ``text`` to the scanned text.
    """

    window: Normalized
    offset: int
    spans: tuple[tuple[int, int], ...]  # edited spans, in the scanned text

    @property
    def text(self) -> str:
        return self.window.text

    def original_start(self, start: int) -> int:
        return self.offset + self.window.original_start(start)

    def original_end(self, end: int) -> int:
        return self.offset + self.window.original_end(end)


def digit_views(text: str) -> list[View]:
    """Windows of ``text`` with disguised digit runs and defanged ``[@]``/``[.]`` rewritten, one per cluster of
    edits (each with :data:`MARGIN` characters around it): a 10 MB text with a few disguised numbers is not
    scanned twice."""
    edits: list[tuple[int, int, list[tuple[str, int, int]]]] = []  # (start, end, [(output, orig start, end)])
    if any(c in text for c in "[({<"):
        for m in _DEFANGED.finditer(text):
            edits.append((m.start(), m.end(), [(m.group(1), m.start(), m.end())]))
    for m in _RUN.finditer(text):
        pieces = _rewrite(m)
        if pieces is not None:
            edits.append((m.start(), m.end(), pieces))
    edits.sort()
    clusters: list[list[tuple[int, int, list[tuple[str, int, int]]]]] = []
    last = -1
    for edit in edits:
        if edit[0] < last:
            continue  # overlaps the previous edit
        if clusters and edit[0] - last <= 2 * MARGIN:
            clusters[-1].append(edit)
        else:
            clusters.append([edit])
        last = edit[1]
    return [_window(text, cluster) for cluster in clusters]


def _window(text: str, edits: list[tuple[int, int, list[tuple[str, int, int]]]]) -> View:
    lo = max(0, edits[0][0] - MARGIN)
    hi = min(len(text), edits[-1][1] + MARGIN)
    out: list[str] = []
    units: list[tuple[int, int, int, int]] = []
    pos, n = lo, 0
    for start, end, pieces in edits:
        out.append(text[pos:start])
        n += start - pos
        for piece, s, e in pieces:
            out.append(piece)
            units.append((n, n + len(piece), s - lo, e - lo))
            n += len(piece)
        pos = end
    out.append(text[pos:hi])
    spans = tuple((start, end) for start, end, _ in edits)
    return View(Normalized("".join(out), hi - lo, units), lo, spans)


def _rewrite(m: re.Match[str]) -> list[tuple[str, int, int]] | None:
    """The pieces replacing one digit run (output, original span), or None to leave it as written."""
    if m.end() - m.start() > RUN_MAX:
        return None
    tokens: list[tuple[str, int, int]] = []  # digits of each token, with its span
    separators: list[str] = []
    for t in _TOKENS.finditer(m.string, m.start(), m.end()):
        word = t.group().lower()
        if word[0].isdigit():
            tokens.append((word, t.start(), t.end()))
        elif word in _WORDS:
            tokens.append((_WORDS[word], t.start(), t.end()))
        else:
            separators.append(t.group())
    digits = sum(len(d) for d, _, _ in tokens)
    if not 9 <= digits <= 19:
        return None
    singles = all(len(d) == 1 for d, _, _ in tokens)
    spelled = any(not m.string[s].isdigit() for _, s, _ in tokens)
    if not singles and not spelled and len(set(separators)) == 1 and separators[0] in _PLAIN_SEPARATORS:
        return None  # "4111 1111 1111 1111", "536-22-1234": the patterns read these as written  deepsentinel: allow
    pieces: list[tuple[str, int, int]] = []
    if singles or spelled:
        all_digits = "".join(d for d, _, _ in tokens)
        template = _TEMPLATES.get(digits) or ((1, 3, 3, 4) if digits == 11 and all_digits[0] == "1" else ())
        breaks = {sum(template[: i + 1]) for i in range(len(template) - 1)}
        count = 0
        for d, s, e in tokens:
            for ch in d:
                if count in breaks:
                    pieces.append(("-", s, s))
                pieces.append((ch, s, e))
                count += 1
    else:
        for i, (d, s, e) in enumerate(tokens):
            if i:
                prev_end = tokens[i - 1][2]
                pieces.append(("-", prev_end, s))
            pieces.append((d, s, e))
    return pieces


@dataclass(frozen=True)
class EncodedSegment:
    """A base64 or hex token [start, end) of the scanned text and the printable ``text`` it decodes to."""

    start: int
    end: int
    text: str
    kind: str  # "base64" or "hex"

    def original_start(self, i: int) -> int:
        """First encoded character carrying decoded character ``i``."""
        return self.start + (2 * i if self.kind == "hex" else 4 * (i // 3))

    def original_end(self, end: int) -> int:
        """End of the encoded characters carrying decoded characters up to ``end``."""
        return self.start + 2 * end if self.kind == "hex" else min(self.end, self.start + 4 * -(-end // 3))


_ENCODED = re.compile(rf"(?<![A-Za-z0-9+/_\-]){ENCODED_TRIGGER}={{0,2}}(?![A-Za-z0-9+/_\-=])")
# Encodings of printable ASCII only, checked before decoding: a hex byte 0x20-0x7e (or tab, CR, LF); in base64,
# the first character of every group of four holds the top six bits of a printable byte, so it is one of I-Z, a-f.
_HEX = re.compile(r"(?:[2-7][0-9a-fA-F]|0[9aAdD])+")
_BASE64_TEXT = re.compile(r"(?:[I-Za-f][A-Za-z0-9+/_\-]{3})+[A-Za-z0-9+/_\-]{0,3}=*")
_UNPRINTABLE = re.compile(rb"[^\x20-\x7e\t\r\n]")


def encoded_segments(text: str, max_length: int) -> Iterator[EncodedSegment]:
    """Base64 (standard or URL-safe) and hex tokens of up to ``max_length`` characters that decode to text.

    Only printable ASCII counts as text, so keys, hashes and identifiers (which decode to binary noise) cost a
    decode and a check each, and yield nothing.
    """
    for m in _ENCODED.finditer(text):
        token = m.group()
        if len(token) > max_length:
            continue
        raw: bytes | None = None
        kind = "hex"
        if len(token) % 2 == 0 and _HEX.fullmatch(token):
            raw = bytes.fromhex(token)
        if raw is None or _UNPRINTABLE.search(raw):
            kind = "base64"
            if _BASE64_TEXT.fullmatch(token) is None:
                continue
            body = token.rstrip("=")
            if len(body) % 4 == 1:
                continue
            try:
                raw = base64.b64decode(body.replace("-", "+").replace("_", "/") + "=" * (-len(body) % 4))
            except (binascii.Error, ValueError):
                continue
            if _UNPRINTABLE.search(raw):
                continue
        if len(raw) >= 6:
            yield EncodedSegment(m.start(), m.start() + len(token), raw.decode("ascii"), kind)
