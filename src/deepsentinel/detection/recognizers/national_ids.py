"""National identifiers outside the US (the ones Presidio has recognizers for), checked with ``python-stdnum``.

When a label is needed: a value whose *shape* is distinctive (letters at fixed places, the canonical grouping,
a century sign) and that passes its checksum is found on its own; so is a plain run of digits with a strong
check (an embedded birth date plus a checksum: PESEL, personnummer, ZA ID, Korean RRN; mod 89 for an ABN; an
office code plus Luhn for an Italian VAT number), at ``BARE_SCORE`` where the check is all there is. A plain
run of digits with only a mod-10 or mod-11 check (``0032698674`` for an NHS number) is reported after its
label; alone only by the opt-in ``WEAK_NATIONAL_ID_RECOGNIZERS`` (``recognizers.BARE_NUMBER_RECOGNIZERS``).
A shape many other codes share and no check digit (``AB1234567``: passports) needs a word before it.
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType

from stdnum.au import abn, acn, tfn
from stdnum.de import vat as de_vat
from stdnum.es import nie
from stdnum.gb import nhs
from stdnum.it import iva
from stdnum.pl import pesel
from stdnum.se import orgnr, personnummer
from stdnum.sg import uen
from stdnum.th import pin
from stdnum.tr import tckimlik

from deepsentinel.detection.findings import Category, Severity
from deepsentinel.detection.recognizer import Pattern, PatternRecognizer
from deepsentinel.detection.recognizers.checksums import (
    valid_au_medicare,
    valid_de_passport,
    valid_fi_hetu,
    valid_kr_brn,
    valid_kr_frn,
    valid_kr_registration_date,
    valid_kr_rrn,
    valid_sg_nric,
    valid_za_id,
)
from deepsentinel.detection.recognizers.fragments import (
    BARE_AFTER,
    BARE_SCORE,
    NOT_AMOUNT_AFTER,
    NOT_AMOUNT_BEFORE,
    NOT_PERSONAL,
    NUM_AFTER,
    NUM_BEFORE,
    WORD_AFTER,
    WORD_BEFORE,
)
from deepsentinel.detection.validators import stdnum_validator, valid_phone

__all__ = ["NATIONAL_ID_RECOGNIZERS", "WEAK_NATIONAL_ID_RECOGNIZERS", "id_recognizer", "labelled"]

_PASSPORT_WORDS = ("passport", "passports", "passport number", "passport no", "pasaporte", "passaporto",
                   "reisepass", "pass nr", "passeport", "travel document")


def id_recognizer(entity: str, patterns: tuple[Pattern, ...], validator: Callable[[str], bool] | None,
                  context: tuple[str, ...], *, severity: Severity = Severity.CRITICAL, max_length: int = 20,
                  ) -> PatternRecognizer:
    """A national identifier's recognizer: personal data, read with its label up to 40 characters before it."""
    return PatternRecognizer(entity, Category.PII, severity, patterns, validator=validator, context=context,
                             negative_context=NOT_PERSONAL, context_window=40, max_length=max_length,
                             detector="pii")


def _v(module: ModuleType) -> Callable[[str], bool]:
    return stdnum_validator(module)


def _bare(name: str, body: str, before: str = NUM_BEFORE, after: str = NUM_AFTER) -> Pattern:
    return Pattern(name, body, 0.85, before, after)


def _checksummed(name: str, body: str, before: str = NUM_BEFORE, after: str = BARE_AFTER) -> Pattern:
    """A value whose only mark is its checksum, found alone at ``BARE_SCORE``."""
    return Pattern(name, body, BARE_SCORE, before, after)


def _weak(entity: str, body: str, validator: Callable[[str], bool], *,
          severity: Severity = Severity.CRITICAL) -> PatternRecognizer:
    """A plain run of digits with only a weak check, for ``BARE_NUMBER_RECOGNIZERS``: at ``BARE_SCORE``, no
    context boost (the labelled patterns of the catalog score 0.9), dropped after a negative word."""
    return PatternRecognizer(entity, Category.PII, severity, (_checksummed("plain digits", body),),
                             validator=validator, negative_context=NOT_PERSONAL, max_length=20, detector="pii")


def labelled(name: str, body: str, before: str = NUM_BEFORE, after: str = NUM_AFTER) -> Pattern:
    """A pattern found only next to its label (a shape too common to report alone)."""
    return Pattern(name, body, 0.9, before, after, requires_context=True)


def _valid_nhs(value: str) -> bool:
    # A valid NHS number in a phone's 3-3-4 shape that is also a valid phone number is left to the phone.
    return _v(nhs)(value) and not valid_phone(value)


def _valid_dvla(value: str) -> bool:
    # DVLA: the birth month (plus 50 for women) and day are digits 7-8 and 9-10.
    month, day = int(value[6:8]) % 50, int(value[8:10])
    return 1 <= month <= 12 and 1 <= day <= 31


_KR_RRN = r"[0-9]{2}[01][0-9][0-3][0-9]-?[1-4][0-9]{6}"
_KR_FRN = r"[0-9]{2}[01][0-9][0-3][0-9]-?[5-8][0-9]{6}"
_RRN_WORDS = ("rrn", "resident registration", "주민등록번호", "주민번호")
_FRN_WORDS = ("frn", "foreigner registration", "외국인등록번호")
# Printed in capitals from a restricted alphabet; typed in lower case as often (the check digit still holds).
_DE_DOCUMENT = r"(?i:[CFGHJKLMNPRTVWXYZ][CFGHJKLMNPRTVWXYZ0-9]{8})"
_TH_PROVINCE = r"[1-8](?:[134][0-9]|2[0-7]|5[0-8]|[67][0-7]|[89][0-6])"
_NHS_WORDS = ("nhs", "nhs number", "nhs no", "national health service")
_S = r"[ \t]?"  # an optional space inside a grouped number
_SEP = r"[ \t\-]"

NATIONAL_ID_RECOGNIZERS: tuple[PatternRecognizer, ...] = (
    id_recognizer("UK_NHS", (_bare("3-3-4", rf"[0-9]{{3}}{_SEP}[0-9]{{3}}{_SEP}[0-9]{{4}}"),), _valid_nhs, _NHS_WORDS),
    # After an NHS word, the number is an NHS number even when it would also be a valid phone number.
    id_recognizer("UK_NHS", (labelled("10 digits", rf"[0-9]{{3}}{_SEP}?[0-9]{{3}}{_SEP}?[0-9]{{4}}"),), _v(nhs), _NHS_WORDS),
    id_recognizer("UK_DRIVING_LICENCE", (_bare("DVLA", r"[A-Za-z9]{5}[0-9][0156][0-9][0-3][0-9]{2}[A-Za-z9]{2}[0-9][A-Za-z]{2}",
                                      WORD_BEFORE, WORD_AFTER),),
         _valid_dvla, ("driving licence", "driving license", "licence number", "dvla")),
    id_recognizer("UK_PASSPORT", (labelled("2 letters 7 digits", r"[A-Za-z]{2}[0-9]{7}", WORD_BEFORE, WORD_AFTER),),
         None, _PASSPORT_WORDS),
    id_recognizer("UK_POSTCODE", (_bare("postcode", r"(?:GIR 0AA|[A-PR-UWYZ][A-HK-Y]?[0-9][0-9A-Z]?[ \t][0-9][ABD-HJLNP-UW-Z]{2})",
                               WORD_BEFORE, WORD_AFTER),
                         Pattern("postcode without its space",
                                 r"GIR0AA|[A-PR-UWYZ][A-HK-Y]?[0-9][0-9A-Z]?[0-9][ABD-HJLNP-UW-Z]{2}", BARE_SCORE,
                                 WORD_BEFORE, WORD_AFTER)),
         None, ("postcode", "post code", "address"), severity=Severity.LOW, max_length=8),
    # 3-3-3 is also how amounts and many codes are grouped, and mod 11 passes one in eleven: reported, not blocked.
    id_recognizer("AU_TFN", (Pattern("3-3-3", rf"[0-9]{{3}}{_SEP}[0-9]{{3}}{_SEP}[0-9]{{3}}", BARE_SCORE,
                            NUM_BEFORE + NOT_AMOUNT_BEFORE, NUM_AFTER + NOT_AMOUNT_AFTER),
                    labelled("8-9 digits", r"[0-9]{8,9}")),
         _v(tfn), ("tfn", "tax file number", "tax file")),
    id_recognizer("AU_ABN", (_bare("2-3-3-3", rf"[0-9]{{2}}{_SEP}[0-9]{{3}}{_SEP}[0-9]{{3}}{_SEP}[0-9]{{3}}"),
                    _checksummed("11 digits", r"[0-9]{11}"), labelled("11 digits", r"[0-9]{11}")),
         _v(abn), ("abn", "australian business number"), severity=Severity.HIGH),
    # As ASIC prints it ("005 499 981"), like a TFN: reported alone, never blocking alone. deepsentinel: allow
    id_recognizer("AU_ACN", (_checksummed("3-3-3", r"[0-9]{3}(?:[ \t][0-9]{3}[ \t]|-[0-9]{3}-)[0-9]{3}",
                                 NUM_BEFORE + NOT_AMOUNT_BEFORE, BARE_AFTER + NOT_AMOUNT_AFTER),
                    labelled("9 digits", rf"[0-9]{{3}}{_S}[0-9]{{3}}{_S}[0-9]{{3}}")),
         _v(acn), ("acn", "australian company number"), severity=Severity.HIGH),
    id_recognizer("AU_MEDICARE", (_bare("4-5-1", rf"[2-6][0-9]{{3}}{_SEP}[0-9]{{5}}{_SEP}[0-9](?:[ \t/\-]?[1-9])?"),
                         labelled("10-11 digits", r"[2-6][0-9]{9,10}")),
         valid_au_medicare, ("medicare", "medicare number", "medicare card")),
    id_recognizer("SG_NRIC_FIN", (_bare("NRIC/FIN", r"[STFGMstfgm][0-9]{7}[A-Za-z]", WORD_BEFORE, WORD_AFTER),),
         valid_sg_nric, ("nric", "fin", "identity card")),
    id_recognizer("SG_UEN", (_bare("UEN", r"[0-9]{8,9}[A-Z]|[TSR][0-9]{2}[A-Z]{2}[0-9]{4}[A-Z]", WORD_BEFORE, WORD_AFTER),),
         _v(uen), ("uen", "unique entity number"), severity=Severity.MEDIUM),
    id_recognizer("KR_RRN", (_bare("6-7", _KR_RRN),), valid_kr_rrn, _RRN_WORDS),
    # Issued since October 2020: the last six digits are random, so the birth date is the only check.
    id_recognizer("KR_RRN", (_checksummed("6-7 since 2020", _KR_RRN.replace("-?", "-")),), valid_kr_registration_date,
         _RRN_WORDS),
    id_recognizer("KR_FRN", (_bare("6-7", _KR_FRN),), valid_kr_frn, _FRN_WORDS),
    id_recognizer("KR_FRN", (_checksummed("6-7 since 2020", _KR_FRN.replace("-?", "-")),), valid_kr_registration_date,
         _FRN_WORDS),
    id_recognizer("KR_BRN", (_bare("3-2-5", r"[0-9]{3}-[0-9]{2}-[0-9]{5}"), labelled("10 digits", r"[0-9]{10}")),
         valid_kr_brn, ("brn", "business registration", "사업자등록번호", "사업자번호"), severity=Severity.MEDIUM),
    id_recognizer("PL_PESEL", (_bare("11 digits", r"[0-9]{2}[0-3][0-9][0-3][0-9]{6}"),),
         _v(pesel), ("pesel",)),
    id_recognizer("SE_PERSONNUMMER", (_bare("(YY)YYMMDD-NNNN", r"(?:18|19|20)?[0-9]{2}[01][0-9][0-3][0-9][\-+]?[0-9]{4}"),),
         _v(personnummer), ("personnummer", "personal identity number", "personal identity code")),
    id_recognizer("SE_ORGANISATIONSNUMMER", (_bare("NNNNNN-NNNN", r"[0-9]{6}-[0-9]{4}"),
                                    labelled("10 digits", r"[0-9]{10}")),
         _v(orgnr), ("organisationsnummer", "orgnr", "org.nr"), severity=Severity.MEDIUM),
    id_recognizer("FI_PERSONAL_IDENTITY_CODE", (_bare("hetu", r"[0-3][0-9][01][0-9]{3}[\-+A-FU-Y][0-9]{3}[0-9A-Ya-y]",
                                             NUM_BEFORE, WORD_AFTER),),
         valid_fi_hetu, ("henkilötunnus", "hetu", "personal identity code")),
    id_recognizer("ES_NIE", (_bare("NIE", r"[XYZxyz]-?[0-9]{7}-?[A-Za-z]", WORD_BEFORE, WORD_AFTER),),
         _v(nie), ("nie", "número de identidad de extranjero")),
    id_recognizer("ES_PASSPORT", (labelled("3 letters 6 digits", r"[A-Za-z]{3}[0-9]{6}[A-Za-z]?", WORD_BEFORE,
                                   WORD_AFTER),),
         None, _PASSPORT_WORDS),
    id_recognizer("IT_VAT_CODE", (_checksummed("11 digits", r"(?:IT)?[0-9]{11}"),
                         labelled("11 digits", r"(?:IT)?[0-9]{11}", WORD_BEFORE, WORD_AFTER)),
         _v(iva), ("partita iva", "p.iva", "piva", "vat", "iva"), severity=Severity.MEDIUM),
    id_recognizer("IT_PASSPORT", (labelled("2 letters 7 digits", r"[A-Za-z]{2}[0-9]{7}", WORD_BEFORE, WORD_AFTER),),
         None, _PASSPORT_WORDS),
    id_recognizer("IT_IDENTITY_CARD", (labelled("card number", r"[A-Za-z]{2}[ \t]?[0-9]{5,7}[A-Za-z]{0,2}|[0-9]{7}[A-Za-z]{2}",
                                        WORD_BEFORE, WORD_AFTER),),
         None, ("carta d'identità", "carta di identità", "identity card", "documento")),
    id_recognizer("IT_DRIVER_LICENSE", (labelled("licence", r"[A-Za-z]{2}[0-9]{7}[A-Za-z]|U1[A-Z0-9]{7}[A-Z]", WORD_BEFORE,
                                         WORD_AFTER),),
         None, ("patente", "patente di guida", "driver license", "driving licence", "license", "licence")),
    id_recognizer("DE_VAT_ID", (_bare("DE + 9 digits", r"[Dd][Ee][ \t.\-]?[0-9]{3}[ \t.\-]?[0-9]{3}[ \t.\-]?[0-9]{3}",
                             WORD_BEFORE, WORD_AFTER),),
         _v(de_vat), ("ust-idnr", "ust-id", "umsatzsteuer", "vat"), severity=Severity.MEDIUM),
    id_recognizer("DE_PASSPORT", (labelled("passport", _DE_DOCUMENT, WORD_BEFORE, WORD_AFTER),),
         # The shape overlaps US passports ("C12345678"): only a German word names it.  deepsentinel: allow
         None, ("reisepass", "reisepassnummer", "passnummer", "pass-nr", "german passport")),
    # Alone, only with its ICAO check digit (one code in ten of this alphabet passes it).
    id_recognizer("DE_PASSPORT", (Pattern("passport, check digit", _DE_DOCUMENT, BARE_SCORE, WORD_BEFORE, WORD_AFTER),),
         valid_de_passport, ("reisepass", "reisepassnummer", "passnummer", "pass-nr", "german passport")),
    id_recognizer("DE_ID_CARD", (labelled("Personalausweis", _DE_DOCUMENT, WORD_BEFORE, WORD_AFTER),),
         None, ("personalausweis", "ausweisnummer", "id card", "identity card")),
    id_recognizer("IN_PASSPORT", (labelled("letter and 7 digits", r"[A-Za-z][0-9]{7}", WORD_BEFORE, WORD_AFTER),),
         None, _PASSPORT_WORDS),
    id_recognizer("IN_VOTER", (labelled("EPIC", r"[A-Za-z]{3}[0-9]{7}", WORD_BEFORE, WORD_AFTER),),
         None, ("voter", "epic", "voter id", "election", "vote")),
    id_recognizer("IN_GSTIN", (_bare("GSTIN", r"[0-9]{2}[A-Z]{5}[0-9]{4}[A-Z][1-9A-Z]Z[0-9A-Z]", WORD_BEFORE, WORD_AFTER),),
         # The shape (state code, an embedded PAN, "Z") is specific; published examples often fail the check.
         lambda v: 1 <= int(v[:2]) <= 37 or v[:2] == "97", ("gstin", "gst"), severity=Severity.MEDIUM),
    id_recognizer("TR_NATIONAL_ID", (_bare("11 digits", r"[1-9][0-9]{10}"),),
         _v(tckimlik), ("tc kimlik", "kimlik", "t.c.", "tckn")),
    id_recognizer("ZA_ID_NUMBER", (_bare("13 digits", r"[0-9]{2}[01][0-9][0-3][0-9]{8}"),),
         valid_za_id, ("id number", "identity number", "rsa id")),
    id_recognizer("TH_TNIN", (labelled("13 digits", r"[1-8](?:[ \t\-]?[0-9]){12}"),),
         # Thai labels: "(เลข)ประจำตัวประชาชน" (citizen identification number), "(เลข)บัตรประชาชน" (ID card
         # number); Thai writes no space between words, so they are matched inside longer runs.
         _v(pin), ("ประจำตัวประชาชน", "บัตรประชาชน", "thai id", "national id", "tnin")),
)

# Opt-in (``recognizers.BARE_NUMBER_RECOGNIZERS``): plain runs of digits whose only mark is a mod-10/11 check.
WEAK_NATIONAL_ID_RECOGNIZERS: tuple[PatternRecognizer, ...] = (
    _weak("UK_NHS", r"[0-9]{10}", _valid_nhs),
    _weak("AU_TFN", r"[0-9]{9}", _v(tfn)),
    _weak("AU_ACN", rf"[0-9]{{3}}{_S}[0-9]{{3}}{_S}[0-9]{{3}}", _v(acn), severity=Severity.HIGH),
    _weak("AU_MEDICARE", r"[2-6][0-9]{9}", valid_au_medicare),
    _weak("KR_RRN", _KR_RRN.replace("-?", ""), valid_kr_registration_date),
    _weak("KR_FRN", _KR_FRN.replace("-?", ""), valid_kr_registration_date),
    _weak("KR_BRN", r"[0-9]{10}", valid_kr_brn, severity=Severity.MEDIUM),
    _weak("SE_ORGANISATIONSNUMMER", r"[0-9]{10}", _v(orgnr), severity=Severity.MEDIUM),
    _weak("TH_TNIN", _TH_PROVINCE + "[0-9]{10}", _v(pin)),
)
