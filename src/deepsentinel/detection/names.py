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
from functools import cache
from importlib import resources

from deepsentinel.detection.ner import NameDetector, NameSpan

__all__ = ["StatisticalNameDetector", "known_names"]

_WORD = r"[A-Z][a-z]+(?:[\-'][A-Z][a-z]+)?|[A-Z]'[A-Z][a-z]+|Mc[A-Z][a-z]+"
_CANDIDATE = re.compile(rf"\b(?:{_WORD})(?:[ \t]+(?:[A-Z]\.[ \t]+)?(?:{_WORD})){{0,2}}\b")
_TOKEN = re.compile(r"\S+")
# The end of a text that later words may still join: capitalised words, initials and titles (with the spaces
# between them), then a word still arriving. Lower-case words, digits, punctuation and line breaks end a run.
_TAIL = re.compile(r"(?:[A-Z][A-Za-z'\-]*\.?[ \t]+)*(?:[A-Za-z'\-]+\.?)?\Z")
_TITLE = re.compile(r"(?:\b(?:Mr|Mrs|Ms|Mx|Dr|Prof|Sr|Jr|Rev|Hon|Sgt|Capt|Lt|Col)\.?|\b(?:Mister|Miss|Madam|"
                    r"Doctor|Professor|Sir|Dame|Lord|Lady))[ \t]+$")
# A greeting on the same line ("Dear Maria"), a sign-off on the line before ("Regards,\nMaria"), or a field
# label with a colon ("Patient: Gonzalez"). A greeting followed by a line break starts a sentence instead.
_GREETING = re.compile(r"(?i:\b(?:dear|hi|hello|hey|thanks|thank you|attn|attention|cc|mr|mrs|ms))[ \t]+$")
_SIGN_OFF = re.compile(r"(?i:\b(?:regards|best|sincerely|cheers|thanks|thank you|yours|signed))[ \t]*[,.!]?"
                       r"[ \t]*\r?\n[ \t]*$")
_FIELD = re.compile(r"(?i:\b(?:name|full name|patient|customer|client|employee|contact|applicant|insured|member|"
                    r"cardholder|signed|signature|from|to|by|author|owner|user|guest|passenger|beneficiary|"
                    r"recipient|sender))[ \t]*[:\-][ \t]*$")
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

    def find(self, text: str) -> list[NameSpan]:
        spans: list[NameSpan] = []
        for m in _CANDIDATE.finditer(text):
            words = [(w.start() + m.start(), w.end() + m.start(), w.group(0)) for w in _TOKEN.finditer(m.group(0))]
            # "Dear John Smith", "Thanks Maria": a greeting or label word starts the run but is not the name.
            while words and words[0][2].upper() in _NOT_NAMES:
                words.pop(0)
            while words and words[-1][2].upper() in _NOT_NAMES:
                words.pop()
            names = [w for _, _, w in words if not (len(w) == 2 and w.endswith("."))]
            if not names:
                continue
            start, end = words[0][0], words[-1][1]
            if self._is_name(names, text[max(0, start - 40):start]):
                spans.append(NameSpan(start, end))
        return spans

    def stable_prefix(self, text: str, start: int = 0) -> int:
        """Before the trailing run of capitalised words (or titles), which more words could turn into a name.

        ``text[:start]`` is already final: a run still open cannot start there.
        """
        tail = text[max(start, len(text) - 256):]  # bounded: no name runs longer, and a long run of capitals stays linear
        m = _TAIL.search(tail)
        return len(text) - len(tail) + (m.start() if m else len(tail))

    def _is_name(self, words: list[str], head: str) -> bool:
        keys = [w.upper() for w in words]
        if _TITLE.search(head):
            return keys[0] not in _NOT_NAMES
        if any(k in _NOT_NAMES for k in keys):
            return False
        if len(keys) >= 2 and keys[0] in self._first and keys[-1] in self._last:
            return True
        if _FIELD.search(head):
            return any(k in self._first or k in self._last for k in keys)
        if _GREETING.search(head) or _SIGN_OFF.search(head):
            return keys[0] in self._first or (len(keys) >= 2 and keys[-1] in self._last)
        return False
