"""National identifiers outside the US (the ones Presidio has recognizers for), checked with ``python-stdnum``.

One rule decides when a label is needed: a value whose *shape* is distinctive (letters at fixed places, the
canonical grouping, a century sign) and that passes its checksum is found on its own; a plain run of digits
(``0032698674``) or a shape many other codes share (``AB1234567``: passports) needs a context word before it.
A plain run of digits with both a checksum and an embedded birth date (PESEL, personnummer, ZA ID) is the
exception: that is rare enough in other numbers.
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType

from stdnum.au import abn, acn, tfn
from stdnum.de import vat as de_vat
from stdnum.es import nie
from stdnum.gb import nhs
from stdnum.it import iva
from stdnum.kr import brn
from stdnum.pl import pesel
from stdnum.se import orgnr, personnummer
from stdnum.sg import uen
from stdnum.th import pin
from stdnum.tr import tckimlik
from stdnum.za import idnr

from deepsentinel.detection.findings import Category, Severity
from deepsentinel.detection.recognizer import Pattern, PatternRecognizer
from deepsentinel.detection.recognizers.fragments import (
    NOT_PERSONAL,
    NUM_AFTER,
    NUM_BEFORE,
    WORD_AFTER,
    WORD_BEFORE,
)
from deepsentinel.detection.validators import stdnum_validator, valid_phone

__all__ = ["NATIONAL_ID_RECOGNIZERS"]

_PASSPORT_WORDS = ("passport", "passport number", "passport no", "pasaporte", "passaporto", "reisepass",
                   "pass nr", "passeport")


def _rec(entity: str, patterns: tuple[Pattern, ...], validator: Callable[[str], bool] | None,
         context: tuple[str, ...], *, severity: Severity = Severity.CRITICAL, max_length: int = 20,
         ) -> PatternRecognizer:
    return PatternRecognizer(entity, Category.PII, severity, patterns, validator=validator, context=context,
                             negative_context=NOT_PERSONAL, context_window=40, max_length=max_length,
                             detector="pii")


def _v(module: ModuleType) -> Callable[[str], bool]:
    return stdnum_validator(module)


def _bare(name: str, body: str, before: str = NUM_BEFORE, after: str = NUM_AFTER) -> Pattern:
    return Pattern(name, body, 0.85, before, after)


def _labelled(name: str, body: str, before: str = NUM_BEFORE, after: str = NUM_AFTER) -> Pattern:
    return Pattern(name, body, 0.9, before, after, requires_context=True)


def _valid_nhs(value: str) -> bool:
    # A valid NHS number in a phone's 3-3-4 shape that is also a valid phone number is left to the phone.
    return _v(nhs)(value) and not valid_phone(value)


_NRIC_WEIGHTS = (2, 7, 6, 5, 4, 3, 2)
_NRIC_ST, _NRIC_FG, _NRIC_M = "JZIHGFEDCBA", "XWUTRQPNMLK", "XWUTRQPNJLK"


def valid_sg_nric(value: str) -> bool:
    """Singapore NRIC/FIN: prefix S/T/F/G/M, seven digits, a check letter (weights 2765432, offsets by prefix)."""
    v = value.upper()
    if len(v) != 9 or v[0] not in "STFGM" or not v[1:8].isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(v[1:8], _NRIC_WEIGHTS, strict=True))
    total += {"T": 4, "G": 4, "M": 3}.get(v[0], 0)
    letters = _NRIC_ST if v[0] in "ST" else _NRIC_M if v[0] == "M" else _NRIC_FG
    return letters[total % 11] == v[8]


def _valid_medicare(value: str) -> bool:
    d = "".join(c for c in value if c.isdigit())
    if len(d) not in (10, 11) or d[0] not in "23456":
        return False
    return sum(int(c) * w for c, w in zip(d[:8], (1, 3, 7, 9, 1, 3, 7, 9), strict=True)) % 10 == int(d[8])


_HETU_CHECK = "0123456789ABCDEFHJKLMNPRSTUVWXY"


def valid_fi_hetu(value: str) -> bool:
    """Finnish henkilötunnus: DDMMYY, a century sign, NNN, a mod-31 check character (2023 signs included)."""
    v = value.upper()
    if len(v) != 11 or not (v[:6] + v[7:10]).isdigit() or v[6] not in "+-ABCDEFUVWXY":
        return False
    return 1 <= int(v[:2]) <= 31 and 1 <= int(v[2:4]) <= 12 and _HETU_CHECK[int(v[:6] + v[7:10]) % 31] == v[10]


def valid_kr_rrn(value: str) -> bool:
    """Korean resident (1-4) or foreigner (5-8) registration number: weights 2..9,2..5, (11 - sum % 11) % 10."""
    d = "".join(c for c in value if c.isdigit())
    if len(d) != 13 or not 1 <= int(d[2:4]) <= 12 or not 1 <= int(d[4:6]) <= 31:
        return False
    total = sum(int(c) * w for c, w in zip(d[:12], (2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5), strict=True))
    return (11 - total % 11) % 10 == int(d[12])


_NHS_WORDS = ("nhs", "nhs number", "nhs no", "national health service")
_S = r"[ \t]?"  # an optional space inside a grouped number
_SEP = r"[ \t\-]"

NATIONAL_ID_RECOGNIZERS: tuple[PatternRecognizer, ...] = (
    _rec("UK_NHS", (_bare("3-3-4", rf"[0-9]{{3}}{_SEP}[0-9]{{3}}{_SEP}[0-9]{{4}}"),), _valid_nhs, _NHS_WORDS),
    # After an NHS word, the number is an NHS number even when it would also be a valid phone number.
    _rec("UK_NHS", (_labelled("10 digits", rf"[0-9]{{3}}{_SEP}?[0-9]{{3}}{_SEP}?[0-9]{{4}}"),), _v(nhs), _NHS_WORDS),
    _rec("UK_DRIVING_LICENCE", (_bare("DVLA", r"[A-Z9]{5}[0-9][0-9][01356][0-9]{3}[A-Z9]{2}[0-9][A-Z]{2}",
                                      WORD_BEFORE, WORD_AFTER),),
         None, ("driving licence", "driving license", "licence number", "dvla")),
    _rec("UK_PASSPORT", (_labelled("2 letters 7 digits", r"[A-Za-z]{2}[0-9]{7}", WORD_BEFORE, WORD_AFTER),),
         None, _PASSPORT_WORDS),
    _rec("UK_POSTCODE", (_bare("postcode", r"(?:GIR 0AA|[A-PR-UWYZ][A-HK-Y]?[0-9][0-9A-Z]?[ \t][0-9][ABD-HJLNP-UW-Z]{2})",
                               WORD_BEFORE, WORD_AFTER),),
         None, ("postcode", "post code", "address"), severity=Severity.LOW, max_length=8),
    _rec("AU_TFN", (_bare("3-3-3", rf"[0-9]{{3}}{_SEP}[0-9]{{3}}{_SEP}[0-9]{{3}}"),
                    _labelled("8-9 digits", r"[0-9]{8,9}")),
         _v(tfn), ("tfn", "tax file number", "tax file")),
    _rec("AU_ABN", (_bare("2-3-3-3", rf"[0-9]{{2}}{_SEP}[0-9]{{3}}{_SEP}[0-9]{{3}}{_SEP}[0-9]{{3}}"),
                    _labelled("11 digits", r"[0-9]{11}")),
         _v(abn), ("abn", "australian business number"), severity=Severity.HIGH),
    _rec("AU_ACN", (_labelled("9 digits", rf"[0-9]{{3}}{_S}[0-9]{{3}}{_S}[0-9]{{3}}"),),
         _v(acn), ("acn", "australian company number"), severity=Severity.HIGH),
    _rec("AU_MEDICARE", (_bare("4-5-1", rf"[2-6][0-9]{{3}}{_SEP}[0-9]{{5}}{_SEP}[0-9](?:[ \t/\-]?[1-9])?"),
                         _labelled("10-11 digits", r"[2-6][0-9]{9,10}")),
         _valid_medicare, ("medicare", "medicare number", "medicare card")),
    _rec("SG_NRIC_FIN", (_bare("NRIC/FIN", r"[STFGMstfgm][0-9]{7}[A-Za-z]", WORD_BEFORE, WORD_AFTER),),
         valid_sg_nric, ("nric", "fin", "identity card")),
    _rec("SG_UEN", (_bare("UEN", r"[0-9]{8,9}[A-Z]|[TSR][0-9]{2}[A-Z]{2}[0-9]{4}[A-Z]", WORD_BEFORE, WORD_AFTER),),
         _v(uen), ("uen", "unique entity number"), severity=Severity.MEDIUM),
    _rec("KR_RRN", (_bare("6-7", r"[0-9]{2}[01][0-9][0-3][0-9]-?[1-4][0-9]{6}"),),
         valid_kr_rrn, ("rrn", "resident registration", "주민등록번호")),
    _rec("KR_FRN", (_bare("6-7", r"[0-9]{2}[01][0-9][0-3][0-9]-?[5-8][0-9]{6}"),),
         valid_kr_rrn, ("frn", "foreigner registration", "외국인등록번호")),
    _rec("KR_BRN", (_bare("3-2-5", r"[0-9]{3}-[0-9]{2}-[0-9]{5}"), _labelled("10 digits", r"[0-9]{10}")),
         _v(brn), ("brn", "business registration", "사업자등록번호"), severity=Severity.MEDIUM),
    _rec("PL_PESEL", (_bare("11 digits", r"[0-9]{2}[0-3][0-9][0-3][0-9]{6}"),),
         _v(pesel), ("pesel",)),
    _rec("SE_PERSONNUMMER", (_bare("(YY)YYMMDD-NNNN", r"(?:19|20)?[0-9]{2}[01][0-9][0-3][0-9][\-+]?[0-9]{4}"),),
         _v(personnummer), ("personnummer", "personal identity number", "personal identity code")),
    _rec("SE_ORGANISATIONSNUMMER", (_bare("NNNNNN-NNNN", r"[0-9]{6}-[0-9]{4}"),
                                    _labelled("10 digits", r"[0-9]{10}")),
         _v(orgnr), ("organisationsnummer", "orgnr", "org.nr"), severity=Severity.MEDIUM),
    _rec("FI_PERSONAL_IDENTITY_CODE", (_bare("hetu", r"[0-3][0-9][01][0-9]{3}[\-+A-FU-Y][0-9]{3}[0-9A-Ya-y]",
                                             NUM_BEFORE, WORD_AFTER),),
         valid_fi_hetu, ("henkilötunnus", "hetu", "personal identity code")),
    _rec("ES_NIE", (_bare("NIE", r"[XYZxyz]-?[0-9]{7}-?[A-Za-z]", WORD_BEFORE, WORD_AFTER),),
         _v(nie), ("nie", "número de identidad de extranjero")),
    _rec("ES_PASSPORT", (_labelled("3 letters 6 digits", r"[A-Za-z]{3}[0-9]{6}[A-Za-z]?", WORD_BEFORE,
                                   WORD_AFTER),),
         None, _PASSPORT_WORDS),
    _rec("IT_VAT_CODE", (_labelled("11 digits", r"(?:IT)?[0-9]{11}", WORD_BEFORE, WORD_AFTER),),
         _v(iva), ("partita iva", "p.iva", "piva", "vat", "iva"), severity=Severity.MEDIUM),
    _rec("IT_PASSPORT", (_labelled("2 letters 7 digits", r"[A-Za-z]{2}[0-9]{7}", WORD_BEFORE, WORD_AFTER),),
         None, _PASSPORT_WORDS),
    _rec("IT_IDENTITY_CARD", (_labelled("card number", r"[A-Za-z]{2}[ \t]?[0-9]{5,7}[A-Za-z]{0,2}|[0-9]{7}[A-Za-z]{2}",
                                        WORD_BEFORE, WORD_AFTER),),
         None, ("carta d'identità", "carta di identità", "identity card", "documento")),
    _rec("IT_DRIVER_LICENSE", (_labelled("licence", r"[A-Za-z]{2}[0-9]{7}[A-Za-z]|U1[A-Z0-9]{7}[A-Z]", WORD_BEFORE,
                                         WORD_AFTER),),
         None, ("patente", "patente di guida", "driver license", "driving licence")),
    _rec("DE_VAT_ID", (_bare("DE + 9 digits", r"DE[ \t]?[0-9]{9}", WORD_BEFORE, WORD_AFTER),),
         _v(de_vat), ("ust-idnr", "ust-id", "umsatzsteuer", "vat"), severity=Severity.MEDIUM),
    _rec("DE_PASSPORT", (_labelled("passport", r"[CFGHJKLMNPRTVWXYZ][CFGHJKLMNPRTVWXYZ0-9]{8}", WORD_BEFORE,
                                   WORD_AFTER),),
         # The shape overlaps US passports ("C12345678"): only a German word names it.
         None, ("reisepass", "reisepassnummer", "passnummer", "pass-nr", "german passport")),
    _rec("DE_ID_CARD", (_labelled("Personalausweis", r"[CFGHJKLMNPRTVWXYZ][CFGHJKLMNPRTVWXYZ0-9]{8}", WORD_BEFORE,
                                  WORD_AFTER),),
         None, ("personalausweis", "ausweisnummer", "id card", "identity card")),
    _rec("IN_PASSPORT", (_labelled("letter and 7 digits", r"[A-Za-z][0-9]{7}", WORD_BEFORE, WORD_AFTER),),
         None, _PASSPORT_WORDS),
    _rec("IN_VOTER", (_labelled("EPIC", r"[A-Za-z]{3}[0-9]{7}", WORD_BEFORE, WORD_AFTER),),
         None, ("voter", "epic", "voter id", "election")),
    _rec("IN_GSTIN", (_bare("GSTIN", r"[0-9]{2}[A-Z]{5}[0-9]{4}[A-Z][1-9A-Z]Z[0-9A-Z]", WORD_BEFORE, WORD_AFTER),),
         # The shape (state code, an embedded PAN, "Z") is specific; published examples often fail the check.
         lambda v: 1 <= int(v[:2]) <= 37 or v[:2] == "97", ("gstin", "gst"), severity=Severity.MEDIUM),
    _rec("TR_NATIONAL_ID", (_bare("11 digits", r"[1-9][0-9]{10}"),),
         _v(tckimlik), ("tc kimlik", "kimlik", "t.c.", "tckn")),
    _rec("ZA_ID_NUMBER", (_bare("13 digits", r"[0-9]{2}[01][0-9][0-3][0-9]{8}"),),
         _v(idnr), ("id number", "identity number", "rsa id")),
    _rec("TH_TNIN", (_labelled("13 digits", r"[1-8](?:[ \t\-]?[0-9]){12}"),),
         _v(pin), ("เลขประจำตัวประชาชน", "thai id", "national id", "tnin")),
)
