"""Regex fragments shared by the built-in recognizers (RE2- and ``re``-compatible unless noted)."""

from __future__ import annotations

import re

_COUNTED = re.compile(r"(?<!\\)\{\d+(?:,\d*)?\}")


def loose(body: str) -> str:
    """``body`` with every counted repeat made ``*``: a superset for the RE2 prefilter set.

    Counted repeats (``[a-f0-9]{64}``) cost the set's DFA one state per count on fresh text; ``*`` costs one.
    The exact pattern still runs (with Python ``re``) wherever the loose one fires.
    """
    return _COUNTED.sub("*", body)

# A separator between digit groups: a dash, dot or slash with optional spaces, one or two spaces, or a line
# break. Covers "4111-1111", "4111 1111", "4111 - 1111", "4111.1111" and numbers split across lines.
SEP = r"(?:[ \t]?[\-./][ \t]?|[ \t]{1,2}|\r?\n)"
# The same, optional, between single digits ("4 1 1 1 ...", "4.1.1.1...").
SEP_OPT = SEP + "?"

# Python look-arounds: a number must not be the middle of a longer token or of a longer grouped number (so no
# card number is found inside "DE32 4458 6114 9097 7934 85" or "+49 1512 7745805"). deepsentinel: allow
NUM_BEFORE = r"(?<![0-9A-Za-z_+])(?<![0-9][\-./])(?<![0-9][ \t\n])"
NUM_AFTER = r"(?![0-9A-Za-z_])(?![\-./][0-9])"
# The same for a number whose printed grouping already says what it is: letters may touch it (an evasion, or
# a missing space), digits and further groups may not.
NUM_BEFORE_GLUED = r"(?<![0-9+])(?<![0-9][\-./])(?<![0-9][ \t\n])"
NUM_AFTER_GLUED = r"(?![0-9])(?![\-./][0-9])(?![ \t][0-9])"
WORD_BEFORE = r"(?<![0-9A-Za-z_])"
WORD_AFTER = r"(?![0-9A-Za-z_])"
TOKEN_BEFORE = r"(?<![0-9A-Za-z_\-])"
TOKEN_AFTER = r"(?![0-9A-Za-z_\-])"


def word_gate(body: str) -> str:
    """A prefilter gate for a ``body`` between ``WORD_BEFORE`` and ``WORD_AFTER``: a superset that, unlike the
    bare body, does not fire inside longer tokens (IBANs, hashes, card numbers next to letters)."""
    return r"(?:^|[^0-9A-Za-z_])(?:" + body + r")(?:[^0-9A-Za-z_]|$)"


# Confidence of a value with no label before it whose only mark is a strong check: a checksum that a random
# number of its length passes at most about one time in a hundred (an ABN's mod 89, an Italian VAT number's
# office code plus Luhn, a Korean registration number's birth date), or a distinctive shape plus a check digit
# (a German passport number). Reported by default, at a risk (severity x confidence) of at most 0.5: below the
# default policy's blocking threshold (0.8), and below any labelled finding (0.85+ x MEDIUM 0.6), so
# "BRN 1048656659" stays a business number even though its digits also pass the NHS check. deepsentinel: allow
BARE_SCORE = 0.5
# After such a guess: not the first groups of a longer spaced number (the first twelve digits of a spaced
# card number: "4657 5732 0271 8386"). deepsentinel: allow
BARE_AFTER = NUM_AFTER + r"(?![ \t][0-9])"
# Nor an amount written with digit groups ("$130 692 544", "130 692 544 EUR"): Python look-arounds.
NOT_AMOUNT_BEFORE = r"(?<![$€£¥])(?<![$€£¥][ \t])"
NOT_AMOUNT_AFTER = r"(?![ \t]?(?:[$€£¥]|(?i:eur|usd|gbp|cad|aud|chf|inr|dollars?|euros?)\b))"

MONTH = (r"(?i:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
         r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)")

# Words in front of a number that say it is *not* personal data (hard negatives).
NOT_PERSONAL = (
    "order", "order number", "order no", "tracking", "tracking number", "invoice", "isbn", "ref", "reference",
    "serial", "serial number", "ticket", "transaction", "transaction id", "confirmation", "shipment",
    "parcel", "imei", "sku", "batch number", "build", "version", "ver", "release", "part number",
    "model number", "case number", "request id", "trace id", "part no", "part", "pn", "p/n", "lot", "lot number",
    "lot no", "item", "item no", "item number", "catalog", "catalogue", "cat no", "model", "model no",
    "product code", "product", "order id", "po number", "purchase order", "asset", "asset tag", "barcode", "upc",
    "stock", "ref no", "reference no", "job", "job number", "claim number", "build number", "firmware",
)
