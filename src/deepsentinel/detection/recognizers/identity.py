"""Government and financial identifiers: US SSN/ITIN/passport/bank numbers, IBAN and national IDs."""

from __future__ import annotations

from deepsentinel.detection.findings import Category, Severity
from deepsentinel.detection.recognizer import Pattern, PatternRecognizer
from deepsentinel.detection.recognizers.fragments import (
    BARE_AFTER,
    BARE_SCORE,
    NOT_AMOUNT_AFTER,
    NOT_AMOUNT_BEFORE,
    NOT_PERSONAL,
    NUM_AFTER,
    NUM_AFTER_GLUED,
    NUM_BEFORE,
    NUM_BEFORE_GLUED,
    WORD_AFTER,
    WORD_BEFORE,
)
from deepsentinel.detection.validators import (
    valid_aadhaar,
    valid_aba,
    valid_ca_sin,
    valid_de_tax_id,
    valid_es_nif,
    valid_fr_nir,
    valid_iban,
    valid_in_pan,
    valid_it_fiscal,
    valid_itin,
    valid_nino,
    valid_nl_bsn,
    valid_ssn,
)

_GROUP_SEP = r"(?:[ \t]?[\-.][ \t]?|[ \t])"


def _grouped(first: str, middle: str, last: str) -> str:
    """Three digit groups in an identifier's printed form: spaces or dashes, the same separator twice."""
    return rf"{first}(?:[ \t]{middle}[ \t]|-{middle}-){last}"


def _printed(name: str, body: str) -> Pattern:
    """An identifier in its own printed grouping with no label: its shape plus its check is all there is, so it is
    reported at ``BARE_SCORE`` (never blocking alone); the plain run of digits needs a label or the opt-in
    ``BARE_NUMBER_RECOGNIZERS``."""
    return Pattern(name, body, BARE_SCORE, NUM_BEFORE + NOT_AMOUNT_BEFORE, BARE_AFTER + NOT_AMOUNT_AFTER)


def _id(entity: str, *patterns: Pattern, validator: object = None, context: tuple[str, ...] = (),
        severity: Severity = Severity.CRITICAL, max_length: int = 20, window: int = 48) -> PatternRecognizer:
    return PatternRecognizer(entity, Category.PII, severity, patterns,
                             validator=validator,  # type: ignore[arg-type]
                             context=context, negative_context=NOT_PERSONAL, context_window=window,
                             max_length=max_length, detector="pii")


US_SSN = _id(
    "US_SSN",
    Pattern("3-2-4", rf"[0-9]{{3}}{_GROUP_SEP}[0-9]{{2}}{_GROUP_SEP}[0-9]{{4}}", 0.85, NUM_BEFORE, NUM_AFTER),
    # Dashed and glued to a word ("garden536-22-...", "...-22-1234abc"): the dashes keep its shape.
    Pattern("3-2-4 dashed, glued to a word", r"[0-9]{3}-[0-9]{2}-[0-9]{4}", 0.8, NUM_BEFORE_GLUED, NUM_AFTER_GLUED),
    Pattern("9 digits after an SSN word", r"[0-9]{9}", 0.9, NUM_BEFORE, NUM_AFTER, requires_context=True),
    validator=valid_ssn,
    context=("ssn", "social security", "social security number", "social security no", "ss#", "ssa"),
)
US_ITIN = _id(
    "US_ITIN",
    Pattern("9xx-7x-xxxx", rf"9[0-9]{{2}}{_GROUP_SEP}[5-9][0-9]{_GROUP_SEP}[0-9]{{4}}", 0.85, NUM_BEFORE, NUM_AFTER),
    Pattern("9 digits after an ITIN word", r"9[0-9]{2}[5-9][0-9]{5}", 0.9, NUM_BEFORE, NUM_AFTER,
            requires_context=True),
    validator=valid_itin,
    context=("itin", "taxpayer identification", "individual taxpayer", "tax id", "tin"),
)
US_PASSPORT = _id(
    "US_PASSPORT",
    Pattern("9 characters after a passport word", r"[0-9]{9}|[A-Z][0-9]{8}", 0.9, WORD_BEFORE, WORD_AFTER,
            requires_context=True),
    context=("passport", "passports", "passport number", "passport no", "passport #", "travel document"),
    window=32,
)
US_BANK_ROUTING = _id(
    "US_BANK_ROUTING",
    Pattern("9 digits after a routing word", r"[0-9]{9}", 0.95, NUM_BEFORE, NUM_AFTER, requires_context=True),
    # The routing symbol, institution and check digit, dashed: "0711-0130-7".
    _printed("4-4-1", r"[0-9]{4}-[0-9]{4}-[0-9]"),
    validator=valid_aba,
    context=("routing", "routing number", "routing no", "aba", "rtn", "transit number"),
    severity=Severity.MEDIUM,
    window=32,
)
US_BANK_ACCOUNT = _id(
    "US_BANK_ACCOUNT",
    Pattern("6-17 digits after an account word", r"[0-9]{6,17}", 0.95, NUM_BEFORE, NUM_AFTER, requires_context=True),
    context=("account", "account number", "account no", "acct", "acct no", "bank account", "checking account",
             "savings account", "checking", "savings", "a/c"),
    severity=Severity.HIGH,
    window=32,
)
IBAN_CODE = _id(
    "IBAN_CODE",
    Pattern("IBAN", r"[A-Z]{2}[0-9]{2}(?:[ \t]?[A-Z0-9]{4}){2,7}(?:[ \t]?[0-9]{1,3})?", 0.95, WORD_BEFORE,
            WORD_AFTER),
    validator=valid_iban,
    context=("iban", "bank", "account", "transfer", "wire", "sepa"),
    severity=Severity.HIGH,
    max_length=42,
)
UK_NINO = _id(
    "UK_NINO",
    Pattern("NINO", r"(?i:[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z][ \t]?[0-9]{2}[ \t]?[0-9]{2}[ \t]?[0-9]{2}[ \t]?[A-D])",
            0.85, WORD_BEFORE, WORD_AFTER),
    validator=valid_nino,
    context=("national insurance", "nino", "ni number", "ni no"),
    max_length=13,
)
IN_AADHAAR = _id(
    "IN_AADHAAR",
    Pattern("12 digits", r"[2-9][0-9]{3}[ \t\-]?[0-9]{4}[ \t\-]?[0-9]{4}", 0.9, NUM_BEFORE, NUM_AFTER,
            requires_context=True),
    # As UIDAI prints it ("3123 4567 8909"), Verhoeff-checked. deepsentinel: allow
    # Not the first 12 digits of a spaced card number.
    _printed("4-4-4", _grouped("[2-9][0-9]{3}", "[0-9]{4}", "[0-9]{4}")),
    validator=valid_aadhaar,
    context=("aadhaar", "aadhar", "uidai", "uid"),
    max_length=14,
)
IN_PAN = _id(
    "IN_PAN",
    Pattern("PAN", r"[A-Z]{3}[ABCFGHLJPT][A-Z][0-9]{4}[A-Z]", 0.8, WORD_BEFORE, WORD_AFTER),
    validator=valid_in_pan,
    context=("pan", "permanent account number", "income tax"),
    severity=Severity.HIGH,
    max_length=10,
)
CA_SIN = _id(
    "CA_SIN",
    Pattern("3-3-3 after a SIN word", r"[0-9]{3}[ \t\-]?[0-9]{3}[ \t\-]?[0-9]{3}", 0.9, NUM_BEFORE, NUM_AFTER,
            requires_context=True),
    # As Service Canada prints it ("130 692 544"), Luhn-checked. deepsentinel: allow
    # 0 and 8 start no personal SIN.
    _printed("3-3-3", _grouped("[1-79][0-9]{2}", "[0-9]{3}", "[0-9]{3}")),
    validator=valid_ca_sin,
    context=("sin", "social insurance", "social insurance number", "numero d'assurance sociale", "nas"),
    max_length=11,
)
ES_NIF = _id(
    "ES_NIF",
    Pattern("DNI", r"[0-9]{7,8}[ \t\-]?[A-Za-z]", 0.85, NUM_BEFORE, WORD_AFTER),
    validator=valid_es_nif,
    context=("dni", "nif", "documento nacional", "nie"),
    max_length=10,
)
IT_FISCAL_CODE = _id(
    "IT_FISCAL_CODE",
    Pattern("codice fiscale",
            r"[A-Z]{6}[0-9LMNPQRSTUV]{2}[ABCDEHLMPRST][0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{3}[A-Z]", 0.9,
            WORD_BEFORE, WORD_AFTER),
    validator=valid_it_fiscal,
    context=("codice fiscale", "fiscal code", "cf"),
    max_length=16,
)
FR_NIR = _id(
    "FR_NIR",
    Pattern("numero de securite sociale",
            r"[12][ \t]?[0-9]{2}[ \t]?[0-9]{2}[ \t]?(?:[0-9]{2}|2[AB])[ \t]?[0-9]{3}[ \t]?[0-9]{3}[ \t]?[0-9]{2}",
            0.85, NUM_BEFORE, NUM_AFTER),
    validator=valid_fr_nir,
    context=("nir", "securite sociale", "sécurité sociale", "insee"),
    max_length=21,
)
DE_TAX_ID = _id(
    "DE_TAX_ID",
    Pattern("11 digits after a Steuer-ID word", r"[1-9][0-9]{10}|[1-9][0-9] ?[0-9]{3} ?[0-9]{3} ?[0-9]{3}", 0.9,
            NUM_BEFORE, NUM_AFTER, requires_context=True),
    validator=valid_de_tax_id,
    context=("steuer-id", "steuerid", "steueridentifikationsnummer", "idnr", "tax id", "identifikationsnummer"),
    max_length=14,
)
NL_BSN = _id(
    "NL_BSN",
    Pattern("9 digits after a BSN word", r"[0-9]{9}|[0-9]{4}\.[0-9]{2}\.[0-9]{3}", 0.9, NUM_BEFORE, NUM_AFTER,
            requires_context=True),
    validator=valid_nl_bsn,
    context=("bsn", "burgerservicenummer", "sofinummer"),
    max_length=11,
)



def _weak(entity: str, validator: object, body: str, severity: Severity = Severity.CRITICAL,
          before: str = NUM_BEFORE, after: str = BARE_AFTER) -> PatternRecognizer:
    """A plain number whose only mark is a weak check (opt-in, see ``BARE_NUMBER_RECOGNIZERS``)."""
    return PatternRecognizer(entity, Category.PII, severity, (Pattern("plain digits", body, BARE_SCORE, before, after),),
                             validator=validator,  # type: ignore[arg-type]
                             negative_context=NOT_PERSONAL, max_length=14, detector="pii")


# Opt-in: plain numbers whose only mark is a mod-10 check (Luhn, ABA, Verhoeff) or the ITIN group ranges.
WEAK_IDENTITY_RECOGNIZERS = (
    _weak("US_ITIN", valid_itin, r"9[0-9]{2}[5-9][0-9]{5}"),
    _weak("US_BANK_ROUTING", valid_aba, r"[0-9]{9}|[0-9]{4}-[0-9]{4}-[0-9]", Severity.MEDIUM),
    # not a run of groups inside an IPv6 address or a time ("684D:1111:222:3333:4444:5555")
    _weak("IN_AADHAAR", valid_aadhaar,
          r"[2-9][0-9]{3}(?:[0-9]{8}|[ \t][0-9]{4}[ \t][0-9]{4}|-[0-9]{4}-[0-9]{4}|:[0-9]{4}:[0-9]{4})",
          before=NUM_BEFORE + r"(?<![0-9A-Fa-f]:)", after=BARE_AFTER + r"(?!:[0-9A-Fa-f])"),
    _weak("CA_SIN", valid_ca_sin, r"[1-79][0-9]{2}[ \t\-]?[0-9]{3}[ \t\-]?[0-9]{3}"),
)

IDENTITY_RECOGNIZERS = (
    US_SSN, US_ITIN, US_PASSPORT, US_BANK_ROUTING, US_BANK_ACCOUNT, IBAN_CODE, UK_NINO, IN_AADHAAR, IN_PAN,
    CA_SIN, ES_NIF, IT_FISCAL_CODE, FR_NIR, DE_TAX_ID, NL_BSN,
)
