"""Korean passports and driving licences, Philippine TINs and US driving licences: the remaining person
identifiers Presidio has recognizers for.

None of the licence and passport numbers has a published check digit, so they need a word before them, except
two shapes found nowhere else (at ``BARE_SCORE``): a Korean passport number since 2021 and a Korean licence in
its dashed 2-2-6-2 form with a real region code. A Philippine TIN has a mod-11 check digit: after its label in
any form, alone only in its printed 3-3-3-3 form (a branch code after the nine digits), at ``BARE_SCORE``.

Example: a Korean passport number since 2021, ``M123A4567``.  (deepsentinel: allow)
"""

from __future__ import annotations

from deepsentinel.detection.recognizer import Pattern, PatternRecognizer
from deepsentinel.detection.recognizers.fragments import (
    BARE_AFTER,
    BARE_SCORE,
    NUM_BEFORE,
    WORD_AFTER,
    WORD_BEFORE,
    word_gate,
)
from deepsentinel.detection.recognizers.national_ids import id_recognizer, labelled

__all__ = ["LICENCE_AND_TIN_RECOGNIZERS", "valid_kr_driver_license", "valid_ph_tin"]

# Regional codes of the Korean licence (11-26 and 28; 27 is not issued).
_KR_REGIONS = frozenset({*(str(n) for n in range(11, 27)), "28"})


def _digits(value: str) -> str:
    return "".join(c for c in value if c.isdigit())


def valid_kr_driver_license(value: str) -> bool:
    """Twelve digits starting with a regional code."""
    d = _digits(value)
    return len(d) == 12 and d[:2] in _KR_REGIONS


def valid_ph_tin(value: str) -> bool:
    """Philippine TIN: nine digits (a branch code of three may follow), the ninth the weighted sum of the first
    eight (weights 9..2) mod 11."""
    d = _digits(value)
    if len(d) not in (9, 12):
        return False
    return sum(int(c) * w for c, w in zip(d[:8], range(9, 1, -1), strict=True)) % 11 == int(d[8])


_PASSPORT_WORDS = ("passport", "passport number", "passport no", "여권", "여권번호")
_KR_PASSPORT_WORDS = ("korean passport", "여권", "여권번호")
_KR_LICENCE_WORDS = ("운전면허", "운전면허번호", "면허번호", "driver license", "driver's license", "driving licence",
                     "driving license", "licence", "license")
_US_LICENCE_WORDS = ("driver license", "driver's license", "drivers license", "driver licence", "dl", "dl#",
                     "dl no", "driver's license number", "license number", "licence number")
_SEP = r"[ \t\-]"
_KR_PASSPORT_2021 = r"[MSRODGmsrodg][0-9]{3}[A-Za-z][0-9]{4}"

LICENCE_AND_TIN_RECOGNIZERS: tuple[PatternRecognizer, ...] = (
    # Since 2021: type letter, three digits, a letter, four digits (M123A4567): no check digit, but a shape that  deepsentinel: allow
    # occurs nowhere in 108 MB of source and documentation, so alone at BARE_SCORE (reported, never blocking).
    id_recognizer("KR_PASSPORT", (Pattern("letter 3 digits letter 4 digits", _KR_PASSPORT_2021, BARE_SCORE, WORD_BEFORE,
                                 WORD_AFTER, gate=word_gate(_KR_PASSPORT_2021)),
                         labelled("letter 3 digits letter 4 digits", _KR_PASSPORT_2021, WORD_BEFORE, WORD_AFTER)),
         None, _PASSPORT_WORDS),
    # Before 2021: type letter and eight digits, as US passports since 2021: only a Korean word names it.
    id_recognizer("KR_PASSPORT", (labelled("letter 8 digits", r"[MSRODGmsrodg][0-9]{8}", WORD_BEFORE, WORD_AFTER),),
         None, _KR_PASSPORT_WORDS),
    id_recognizer("KR_DRIVER_LICENSE",
         (Pattern("RR-YY-NNNNNN-CC", r"[12][0-9]-[0-9]{2}-[0-9]{6}-[0-9]{2}", BARE_SCORE, NUM_BEFORE, BARE_AFTER),
          labelled("12 digits", rf"[12][0-9]{_SEP}?[0-9]{{2}}{_SEP}?[0-9]{{6}}{_SEP}?[0-9]{{2}}")),
         valid_kr_driver_license, _KR_LICENCE_WORDS),
    id_recognizer("PH_TIN",
         (Pattern("3-3-3-3", r"[0-9]{3}-[0-9]{3}-[0-9]{3}-[0-9]{3}", BARE_SCORE, NUM_BEFORE, BARE_AFTER),
          labelled("9 or 12 digits", rf"[0-9]{{3}}{_SEP}?[0-9]{{3}}{_SEP}?[0-9]{{3}}(?:{_SEP}?[0-9]{{3}})?")),
         valid_ph_tin, ("tin", "taxpayer identification number", "taxpayer id", "tax id", "bir", "bir tin")),
    # Each state has its own format (a letter and 4-14 digits, or 7-13 digits): only the label says which.
    id_recognizer("US_DRIVER_LICENSE", (labelled("state formats", r"[A-Za-z][0-9]{4,14}|[0-9]{7,13}", WORD_BEFORE,
                                         WORD_AFTER),),
         None, _US_LICENCE_WORDS),
)
