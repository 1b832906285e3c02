"""PERSON names without a model: capitalisation, context words and US Census name statistics.

A candidate is a run of two or three capitalised words (a middle initial allowed). It is a name when

* its first word is a known first name and its last word a known surname (``Maria Gonzalez``); or
* a title stands before it (``Dr. Okafor``, ``Mrs. Jane Doe``), where one capitalised word is enough; or
* a label or greeting stands before it (``Name:``, ``Patient:``, ``Dear``, ``Hi``, ``Regards,``, ``From:``) and
  one of its words is a known name.

The name lists (``data/names.txt.gz``) are derived from the US Census Bureau 1990 files (public domain) by
``benchmarks/derive_names.py``: 5 163 first names, the 24 792 surnames that cover 80% of the population. They
are loaded on first use (about 10 ms). Words that are names but mostly something else in running text (``May``,
``Will``, ``Street``) do not count on their own.
"""

from __future__ import annotations

import gzip
import re
from array import array
from functools import cache
from importlib import resources

from deepsentinel.detection.name_gate import MULTI, TITLE, name_cues
from deepsentinel.detection.ner import NameDetector, NameSpan

__all__ = ["StatisticalNameDetector", "known_names"]

_WORD = r"[A-Z][a-z]+(?:[\-'][A-Z][a-z]+)?|[A-Z]'[A-Z][a-z]+|Mc[A-Z][a-z]+"
# (The look-ahead changes nothing but lets ``re`` skip to the next capital letter: twice as fast.)
_CANDIDATE = re.compile(rf"(?=[A-Z])\b(?:{_WORD})(?:[ \t]+(?:[A-Z]\.[ \t]+)?(?:{_WORD})){{0,2}}\b")
_CAPITAL = re.compile(r"[A-Z]")
# The end of a text that later words may still join: capitalised words, initials and titles (with the spaces
# between them), then a word still arriving. Lower-case words, digits, punctuation and line breaks end a run.
_TAIL = re.compile(r"(?:[A-Z][A-Za-z'\-]*\.?[ \t]+)*(?:[A-Za-z'\-]+\.?)?\Z")
# Titles before a name: the abbreviated ones may take a dot ("Dr. Okafor"). See _title_before.
ABBREVIATED_TITLES = frozenset(["Mr", "Mrs", "Ms", "Mx", "Dr", "Prof", "Sr", "Jr", "Rev", "Hon", "Sgt", "Capt", "Lt",
                                "Col"])
TITLES = ABBREVIATED_TITLES | {"Mister", "Miss", "Madam", "Doctor", "Professor", "Sir", "Dame", "Lord", "Lady"}
# Somewhere in the text a title may stand before a name (a superset of what _title_before accepts).
# (The look-ahead on the first letters lets ``re`` skip to them rather than try the alternation everywhere: 3x.)
_ANY_TITLE = re.compile(rf"(?=[{''.join(sorted({t[0] for t in TITLES}))}])"
                        rf"(?:(?:{'|'.join(sorted(ABBREVIATED_TITLES))})\.?[ \t]|(?:{'|'.join(sorted(TITLES - ABBREVIATED_TITLES))})[ \t])")
_ABBREVIATED_SIZES = sorted({len(t) for t in ABBREVIATED_TITLES})
_TITLE_SIZES = sorted({len(t) for t in TITLES})
# A greeting on the same line ("Dear Maria"), a sign-off on the line before ("Regards,\nMaria"), or a field
# label with a colon ("Patient: Gonzalez"). A greeting followed by a line break starts a sentence instead.
# (The word lists are also the cues of name_gate.py, which tells the detector where to look.)
GREETINGS = ("dear", "hi", "hello", "hey", "thanks", "thank you", "attn", "attention", "cc", "mr", "mrs", "ms")
_GREETING = re.compile(rf"(?i:\b(?:{'|'.join(GREETINGS)}))[ \t]+$")
_GREETING_LAST = frozenset(w[-1] for w in GREETINGS)  # the letter a greeting ends with, for a quick "no"
SIGN_OFFS = ("regards", "best", "sincerely", "cheers", "thanks", "thank you", "yours", "signed")
_SIGN_OFF = re.compile(rf"(?i:\b(?:{'|'.join(SIGN_OFFS)}))[ \t]*[,.!]?[ \t]*\r?\n[ \t]*$")
FIELD_WORDS = ("name", "full name", "patient", "customer", "client", "employee", "contact", "applicant", "insured",
               "member", "cardholder", "signed", "signature", "from", "to", "by", "author", "owner", "user", "guest",
               "passenger", "beneficiary", "recipient", "sender")
_FIELD = re.compile(rf"(?i:\b(?:{'|'.join(FIELD_WORDS)}))[ \t]*[:\-][ \t]*$")
# Capitalised words that begin sentences or headings far more often than they name anyone.
_NOT_NAMES = frozenset(["THE", "A", "AN", "THIS", "THAT", "THESE", "THOSE", "IN", "ON", "AT", "TO", "FOR", "FROM", "BY", "WITH", "OF", "AND", "OR", "BUT", "IF", "WHEN", "WHILE", "AS", "SO", "NO", "YES", "NOT", "ALL", "ANY", "SOME", "EACH", "EVERY", "MY", "YOUR", "OUR", "THEIR", "HIS", "HER", "ITS", "WE", "YOU", "THEY", "HE", "SHE", "IT", "I", "DEAR", "HI", "HELLO", "HEY", "THANKS", "THANK", "PLEASE", "REGARDS", "BEST", "SINCERELY", "MAY", "WILL", "CAN", "JUNE", "APRIL", "AUGUST", "JANUARY", "MARCH", "MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY", "STREET", "ROAD", "AVENUE", "LANE", "DRIVE", "COURT", "PARK", "HILL", "NORTH", "SOUTH", "EAST", "WEST", "NEW", "OLD", "GREAT", "LITTLE", "BIG", "CITY", "COUNTY", "STATE", "BANK", "CARD", "ACCOUNT", "NUMBER", "PHONE", "EMAIL", "ADDRESS", "NAME", "PATIENT", "CUSTOMER", "ORDER", "INVOICE", "TOTAL", "DATE", "TIME", "ID", "NOTE", "SUBJECT", "RE", "FW", "FWD", "MR", "MRS", "MS", "DR", "PROF", "SIR", "GENERAL", "SUMMARY", "REPORT", "TEAM", "SUPPORT", "SERVICE", "HOSPITAL", "CLINIC", "CENTER", "CENTRE", "UNIVERSITY", "COLLEGE", "SCHOOL", "INC", "LLC", "LTD", "CORP", "COMPANY", "GROUP", "HEALTH", "MEDICAL", "CHRISTMAS", "EASTER", "GOD", "LORD", "HOLY", "SAINT", "ST", "MOUNT", "LAKE", "RIVER", "BAY", "BEACH", "ISLAND", "VALLEY", "SPRINGS", "FALLS"])


@cache
def known_names() -> tuple[frozenset[str], frozenset[str]]:
    """(first names, surnames), upper-cased, from the packaged Census-derived list."""
    raw = resources.files("deepsentinel.detection").joinpath("data/names.txt.gz").read_bytes()
    first: set[str] = set()
    last: set[str] = set()
    target = first
    for line in gzip.decompress(raw).decode().splitlines():
        if line == "#first":
            target = first
        elif line == "#last":
            target = last
        elif line:
            target.add(line)
    return frozenset(first - _NOT_NAMES), frozenset(last - _NOT_NAMES)


class StatisticalNameDetector(NameDetector):
    """PERSON spans from capitalisation, titles, labels and Census name frequencies (no model, no download)."""

    confidence = 0.8
    needs_sentence = False

    def __init__(self) -> None:
        super().__init__(lambda text: None)
        self._first, self._last = known_names()

    def find(self, text: str, data: bytes | None = None, cues: array[int] | None = None) -> list[NameSpan]:
        """PERSON spans in ``text`` (``data``: ``one_byte_per_char(text)``, when the caller has it; ``cues``: the
        text's ``name_cues``, when the caller's prefilter pass found them)."""
        if cues is None:
            cues = name_cues(text, data)
        if cues is None:  # no native pass here: read every run
            return self._read(text, 0, len(text), _ANY_TITLE.search(text) is not None)
        spans: list[NameSpan] = []
        # The same title search as _ANY_TITLE, done by the native pass.
        titled = any(cue & 3 == TITLE for cue in cues)
        # Only the runs near a cue can be names (see name_gate.py); each is read exactly as a reading of every
        # run would read it. ``done``: runs starting before it are read (or cannot be names), and a search for
        # runs from there finds the same runs as one from the start of the text.
        done = 0
        for cue in cues:
            end, kind = cue >> 2, cue & 3
            # A MULTI cue ends at the first capital of a run's second (or later) word: read that run. The other
            # cues end where the run they name starts, if one starts there (with a capital).
            if kind == MULTI:
                end -= 1
            elif end >= len(text) or not text[end].isupper():
                continue
            if end < done:
                continue
            lo = done if end <= done else _barrier_before(text, end, done)
            done = self._read_runs(text, lo, end, titled, spans)
            if done > len(text):
                break
        return spans

    def _read(self, text: str, lo: int, hi: int, titled: bool) -> list[NameSpan]:
        spans: list[NameSpan] = []
        self._read_runs(text, lo, hi, titled, spans)
        return spans

    def _read_runs(self, text: str, lo: int, last: int, titled: bool, spans: list[NameSpan]) -> int:
        """Read the runs found from ``lo`` that start at or before ``last``; return where the next one starts
        (past the end of the text: there is none)."""
        first, surnames = self._first, self._last
        for m in _CANDIDATE.finditer(text, lo):
            if m.start() > last:
                return m.start()
            words = m.group().split()
            if len(words) == 1:  # the common case (a sentence's first word), without the list work below
                key = words[0].upper()
                if key in _NOT_NAMES:
                    continue
                if key in first or key in surnames:
                    found = self._is_name([key], text, m.start(), titled)
                else:
                    found = titled and _title_before(text, m.start())
                if found:
                    spans.append(NameSpan(m.start(), m.end()))
                continue
            keys = [w.upper() for w in words]
            # "Dear John Smith", "Thanks Maria": a greeting or label word starts the run but is not the name.
            lo, hi = 0, len(keys)
            while lo < hi and keys[lo] in _NOT_NAMES:
                lo += 1
            while hi > lo and keys[hi - 1] in _NOT_NAMES:
                hi -= 1
            names = [k for k in keys[lo:hi] if not (len(k) == 2 and k[1] == ".")]
            if not names:
                continue
            start = m.start() if lo == 0 else _word_start(text, m.start(), words, lo)
            # Most capitalised runs (a sentence's first word) hold no known name: only a title can make them one.
            if any(k in first or k in surnames for k in names):
                found = self._is_name(names, text, start, titled)
            else:
                found = titled and names[0] not in _NOT_NAMES and _title_before(text, start)
            if found:
                spans.append(NameSpan(start, _word_start(text, m.start(), words, hi - 1) + len(words[hi - 1])))
        return len(text) + 1

    def may_find_from(self, text: str, start: int) -> bool:
        # Every candidate run starts with a capital letter, and none still open reaches back into final text
        # (``stable_prefix`` holds it), so a name past ``start`` needs a capital there.
        return _CAPITAL.search(text, start) is not None

    def stable_prefix(self, text: str, start: int = 0) -> int:
        """Before the trailing run of capitalised words (or titles), which more words could turn into a name.

        ``text[:start]`` is already final: a run still open cannot start there.
        """
        tail = text[max(start, len(text) - 256):]  # bounded: no name runs longer, and a long run of capitals stays linear
        m = _TAIL.search(tail)
        return len(text) - len(tail) + (m.start() if m else len(tail))

    def _is_name(self, keys: list[str], text: str, start: int, titled: bool) -> bool:
        if titled and _title_before(text, start):
            return keys[0] not in _NOT_NAMES
        if any(k in _NOT_NAMES for k in keys):
            return False
        if len(keys) >= 2 and keys[0] in self._first and keys[-1] in self._last:
            return True
        head = text[max(0, start - 40):start]
        # The label regexes end in "$", so the head's last characters tell when none of them can match.
        tails = [head.rstrip(" \t")]
        if head.endswith("\n"):  # "$" also matches before a final line break
            tails.append(head[:-1].rstrip(" \t"))
        if any(t.endswith((":", "-")) for t in tails) and _FIELD.search(head):
            return any(k in self._first or k in self._last for k in keys)
        greeting = any(t[-1:].lower() in _GREETING_LAST for t in tails) and _GREETING.search(head)
        if greeting or (any(t.endswith("\n") for t in tails) and _SIGN_OFF.search(head)):
            return keys[0] in self._first or (len(keys) >= 2 and keys[-1] in self._last)
        return False


def _word_start(text: str, run_start: int, words: list[str], i: int) -> int:
    """Where ``words[i]`` of the run starting at ``run_start`` begins (words are separated by spaces and tabs)."""
    pos = run_start
    for w in words[:i]:
        pos = text.index(w, pos) + len(w)
    return text.index(words[i], pos)


# Characters a run can hold: letters, the apostrophes and hyphens inside names, the dots of initials, and the
# spaces and tabs between words. A run cannot go past any other character.
_RUN_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'-. \t")
_LOWER = frozenset("abcdefghijklmnopqrstuvwxyz")


def _barrier_before(text: str, i: int, floor: int) -> int:
    """The last position at or before ``i`` (and after ``floor``, else ``floor``) that no run can span.

    Runs of capitalised words hold only ``_RUN_CHARS``, and a word after a space or tab starts with a capital, so
    no run spans a position after another character, or between a space and a lower-case letter. A search for
    runs from such a position finds exactly the runs a search from the start of the text finds there.
    """
    while i > floor:
        before = text[i - 1]
        if before not in _RUN_CHARS or (before in " \t" and i < len(text) and text[i] in _LOWER):
            return i
        i -= 1
    return floor


def _is_word(ch: str) -> bool:
    return ch.isalnum() or ch == "_"  # what ``\b`` takes for a word character (Unicode)


def _title_before(text: str, start: int) -> bool:
    r"""Whether a title ends the 40 characters before ``start``, looking at a few characters only.

    The same as ``re.search(r"\b(?:ABBREVIATED)\.?[ \t]+$|\b(?:TITLES)[ \t]+$", window)`` (tested against it):
    a title word, a dot after the abbreviated ones, then spaces or tabs up to the end of the window (or up to a
    final line break, as ``$`` allows). The word must start the window or follow a non-word character.
    """
    lo = max(0, start - 40)
    j = start
    if j > lo and text[j - 1] == "\n":
        j -= 1
    k = j
    while k > lo and text[k - 1] in " \t":
        k -= 1
    if k in (j, lo):
        return False
    dotted = text[k - 1] == "."
    end = k - 1 if dotted else k
    for size in _ABBREVIATED_SIZES if dotted else _TITLE_SIZES:
        k = end - size
        if k < lo:
            return False
        if text[k:end] in (ABBREVIATED_TITLES if dotted else TITLES):  # no title ends another: at most one size fits
            return k == lo or not _is_word(text[k - 1])
    return False
