"""German identifiers beyond the tax ID, passport, ID card and VAT ID (``national_ids.py``): the ones Presidio
has recognizers for.

Found alone: a pension insurance number (its shape carries a birth date, and it has a check digit) and a
company's register number (``HRB 12345``: the register letters name it); at ``BARE_SCORE`` (reported, never
blocking) a health insurance number with a valid check digit (a letter and nine digits is a common code shape,
one in ten of which passes), a tax number in a regional slashed form that ``python-stdnum`` accepts (it checks
the regional layout, not a check digit) and a driving licence number (a rare shape, no published check).
After their label only: a LANR (nine digits, a mod-10 check), a tax number in its 13-digit form, an HRA
(partnership) register number and a postcode (five digits are any number).

Examples: a slashed tax number ``123/456/78901``, a licence ``MU12345678B``.  (deepsentinel: allow)
"""

from __future__ import annotations

from stdnum.de import stnr

from deepsentinel.detection.findings import Severity
from deepsentinel.detection.recognizer import Pattern, PatternRecognizer
from deepsentinel.detection.recognizers.fragments import (
    BARE_SCORE,
    NUM_AFTER,
    NUM_BEFORE,
    WORD_AFTER,
    WORD_BEFORE,
    word_gate,
)
from deepsentinel.detection.recognizers.national_ids import id_recognizer
from deepsentinel.detection.validators import stdnum_validator, valid_phone

__all__ = ["GERMAN_ID_RECOGNIZERS", "valid_de_kvnr", "valid_de_lanr", "valid_de_rvnr"]


def _cross_sum(n: int) -> int:
    return n // 10 + n % 10


def _letter_digits(letter: str) -> str:
    """A=01 ... Z=26, as both German social insurance checks spell a letter."""
    return f"{ord(letter.upper()) - ord('A') + 1:02d}"


def valid_de_rvnr(value: str) -> bool:
    """Rentenversicherungsnummer: area, birth day (+50 allowed) and month, year, surname letter, serial, check
    digit (weights 2 1 2 5 7 1 2 1 2 1 2 1 over the digits with the letter as two digits, cross sums, mod 10)."""
    if len(value) != 12 or not (value[:8] + value[9:]).isdigit() or not value[8].isalpha():
        return False
    day, month = int(value[2:4]), int(value[4:6])
    if not (1 <= day <= 31 or 51 <= day <= 81) or not 1 <= month <= 12:
        return False
    digits = value[:8] + _letter_digits(value[8]) + value[9:11]
    weights = (2, 1, 2, 5, 7, 1, 2, 1, 2, 1, 2, 1)
    return sum(_cross_sum(int(d) * w) for d, w in zip(digits, weights, strict=True)) % 10 == int(value[11])


def valid_de_kvnr(value: str) -> bool:
    """Krankenversichertennummer (§ 290 SGB V): a letter (as two digits), eight digits, a check digit (weights
    1 2 1 2..., cross sums, mod 10)."""
    if len(value) != 10 or not value[0].isalpha() or not value[1:].isdigit():
        return False
    digits = _letter_digits(value[0]) + value[1:9]
    return sum(_cross_sum(int(d) * (1 + i % 2)) for i, d in enumerate(digits)) % 10 == int(value[9])


def valid_de_lanr(value: str) -> bool:
    """Lebenslange Arztnummer: six digits, a check digit (weights 4 9 4 9 4 9, 10 minus the sum mod 10), a
    two-digit specialty."""
    if len(value) != 9 or not value.isdigit() or value == "000000000":
        return False
    total = sum(int(d) * w for d, w in zip(value[:6], (4, 9, 4, 9, 4, 9), strict=True))
    return (10 - total % 10) % 10 == int(value[6])


def _valid_plz(value: str) -> bool:
    # Postcodes run from 01001 to 99998; 00000, 01000 and 99999 are placeholders.
    return 1001 <= int(value) <= 99998 and value != "01000"


_valid_stnr = stdnum_validator(stnr)


def _valid_bare_stnr(value: str) -> bool:
    # "617/464/6083" is also how some write a US phone number: alone, a valid one in 3/3/4 stays a phone.
    return _valid_stnr(value) and not ([len(g) for g in value.split("/")] == [3, 3, 4] and valid_phone(value))


def _labelled(name: str, body: str, before: str = NUM_BEFORE, after: str = NUM_AFTER) -> Pattern:
    return Pattern(name, body, 0.9, before, after, requires_context=True,
                   gate=word_gate(body) if before == WORD_BEFORE else None)


def _word(name: str, body: str, score: float) -> Pattern:
    return Pattern(name, body, score, WORD_BEFORE, WORD_AFTER, gate=word_gate(body))


_TAX_NUMBER_WORDS = ("steuernummer", "steuer-nr", "steuer nr", "st.-nr", "st-nr", "stnr", "finanzamt",
                     "tax number")
# The regional forms as the tax offices print them: 2-3 / 3-4 / 4-5 digits with slashes (stdnum decides which
# region's layout it is). Not inside a path or a longer slashed run.
_TAX_NUMBER_SLASHED = r"[0-9]{2,3}/[0-9]{3,4}/[0-9]{4,5}"
_FUEHRERSCHEIN = r"[A-Za-z]{2}[0-9]{8}[A-Za-z0-9]"
_NOT_PATH_BEFORE = NUM_BEFORE + r"(?<!/)"
_NOT_PATH_AFTER = NUM_AFTER + r"(?!/)"

GERMAN_ID_RECOGNIZERS: tuple[PatternRecognizer, ...] = (
    id_recognizer("DE_SOCIAL_SECURITY",
         (_word("Rentenversicherungsnummer", r"[0-9]{2}[0-8][0-9][01][0-9]{3}[A-Za-z][0-9]{3}", 0.85),),
         valid_de_rvnr, ("rentenversicherungsnummer", "sozialversicherungsnummer", "versicherungsnummer", "rvnr",
                         "svnr", "sv-nummer", "sozialversicherungsausweis", "social security")),
    id_recognizer("DE_HEALTH_INSURANCE",
         (_word("KVNR, check digit", r"[A-Za-z][0-9]{9}", BARE_SCORE),
          _labelled("KVNR", r"[A-Za-z][0-9]{9}", WORD_BEFORE, WORD_AFTER)),
         valid_de_kvnr, ("krankenversichertennummer", "krankenversicherungsnummer", "versichertennummer", "kvnr",
                         "krankenkasse", "krankenversicherung", "gesundheitskarte", "egk", "versichertenkarte")),
    id_recognizer("DE_LANR", (_labelled("9 digits", r"[0-9]{9}"),),
         valid_de_lanr, ("lanr", "lebenslange arztnummer", "arztnummer", "arzt-nr", "arzt-nummer"),
         severity=Severity.MEDIUM),
    # The register (B: companies, A: partnerships and sole traders) and its number; the court is optional. "HRA"
    # is also India's house rent allowance on every payslip ("HRA 12000"): that register needs a word before it.
    id_recognizer("DE_HANDELSREGISTER", (Pattern("HRB", r"(?i:HRB)[ \t]?[1-9][0-9]{0,5}", 0.85, WORD_BEFORE, NUM_AFTER),
                                _labelled("HRA", r"(?i:HRA)[ \t]?[1-9][0-9]{0,5}", WORD_BEFORE, NUM_AFTER)),
         None, ("handelsregister", "handelsregisternummer", "amtsgericht", "registergericht", "eingetragen",
                "registernummer"),
         severity=Severity.MEDIUM),
    # Since 2013: the authority's two letters, eight digits, a check character whose rule is unpublished. Rare
    # outside licences (0.06 per MB of source and documentation, all of them VAT numbers): alone at BARE_SCORE.
    # Its gate is the bare body: with a word-boundary gate (a non-word character, then two letters) Hyperscan
    # tracks every word start of prose, and scanning prose got 15% slower.
    id_recognizer("DE_FUEHRERSCHEIN", (Pattern("11 characters", _FUEHRERSCHEIN, BARE_SCORE, WORD_BEFORE, WORD_AFTER),
                              Pattern("11 characters", _FUEHRERSCHEIN, 0.9, WORD_BEFORE, WORD_AFTER,
                                      requires_context=True)),
         None, ("führerscheinnummer", "führerschein", "fuehrerschein", "fahrerlaubnis", "fahrerlaubnisnummer",
                "führerscheininhaber")),
    id_recognizer("DE_TAX_NUMBER", (Pattern("regional, slashed", _TAX_NUMBER_SLASHED, BARE_SCORE, _NOT_PATH_BEFORE,
                                   _NOT_PATH_AFTER),),
         _valid_bare_stnr, _TAX_NUMBER_WORDS),
    id_recognizer("DE_TAX_NUMBER", (_labelled("regional or 13 digits", rf"{_TAX_NUMBER_SLASHED}|[0-9]{{10,13}}",
                                     _NOT_PATH_BEFORE, _NOT_PATH_AFTER),),
         _valid_stnr, _TAX_NUMBER_WORDS),
    id_recognizer("DE_PLZ", (_labelled("5 digits", r"[0-9]{5}"),), _valid_plz, ("plz", "postleitzahl"),
         severity=Severity.LOW, max_length=5),
)
