"""Payment card data (PCI DSS): card numbers, CVV and expiry dates."""

from __future__ import annotations

from deepsentinel.detection.findings import Category, Severity
from deepsentinel.detection.recognizer import Pattern, PatternRecognizer
from deepsentinel.detection.recognizers.fragments import (
    NOT_PERSONAL,
    NUM_AFTER,
    NUM_AFTER_GLUED,
    NUM_BEFORE,
    NUM_BEFORE_GLUED,
    SEP,
    SEP_OPT,
)
from deepsentinel.detection.validators import valid_card

CARD_CONTEXT = (
    "card", "credit card", "debit card", "card number", "card no", "cc", "visa", "mastercard", "amex",
    "american express", "discover", "pan", "payment", "cardholder", "charge", "charged", "billing",
)

# A glued card must not be the middle of an e-mail's local part ("john4111...@example.com"): the address is found
# whole, and the card, weighing more, would leave the rest of it to be shown.
_NOT_LOCAL_PART = r"(?![A-Za-z0-9._%+\-]{0,64}@)"

CREDIT_CARD = PatternRecognizer(
    "CREDIT_CARD", Category.PCI, Severity.CRITICAL,
    (
        Pattern("grouped 4-4-4-4", rf"[0-9]{{4}}(?:{SEP}[0-9]{{4}}){{3}}", 0.9, NUM_BEFORE, NUM_AFTER),
        Pattern("amex 4-6-5 / diners 4-6-4", rf"3[0-9]{{3}}{SEP}[0-9]{{6}}{SEP}[0-9]{{4,5}}", 0.9,
                NUM_BEFORE, NUM_AFTER),
        Pattern("contiguous", r"[0-9]{13,19}", 0.85, NUM_BEFORE, NUM_AFTER),
        # Glued into an identifier ("cust_4111...", "card4111...", "4111..._v2"): the digits are the value. A
        # letter outside a-f (or "_") must touch them, give or take a few hex letters, so a hex digest's
        # all-digit stretch is never read as a card; before them, it must not be a lone letter either
        # ("/pii/S1570866704000190X", a document id), nor the "x" of a hex literal ("0x4111...", "0xab4111...").
        Pattern("glued after a word", r"(?:[0-9A-Za-z_][G-Zg-z_]|[G-Zg-z_][A-Fa-f]{1,8})([0-9]{13,19})", 0.8,
                r"(?!0[xX])(?!(?<=0)[xX])", rf"(?![0-9]){_NOT_LOCAL_PART}", group=1),
        Pattern("glued before a word", r"([0-9]{13,19})[A-Fa-f]{0,8}[G-Zg-z_]", 0.8, r"(?<![0-9A-Za-z_+])",
                _NOT_LOCAL_PART, group=1),
        # Grouped and glued to a word on either side ("the4111 1111 ...", "...-1111now"):
        # the groups make it a card number whatever letters touch it; digits or another group must not.
        Pattern("grouped, glued to a word", rf"[0-9]{{4}}(?:{SEP}[0-9]{{4}}){{3}}", 0.8, NUM_BEFORE_GLUED,
                NUM_AFTER_GLUED + _NOT_LOCAL_PART),
        # Evasion: every digit separated ("4 1 1 1 ...", "4.1.1.1..."); still validated by Luhn and issuer.
        Pattern("spaced", rf"[0-9](?:{SEP_OPT}[0-9]){{12,18}}", 0.85, NUM_BEFORE, NUM_AFTER),
    ),
    validator=valid_card,
    context=CARD_CONTEXT,
    negative_context=NOT_PERSONAL,
    max_length=80,
    detector="pci",
)

CVV = PatternRecognizer(
    "CVV", Category.PCI, Severity.CRITICAL,
    (Pattern("3-4 digits after a CVV word", r"[0-9]{3,4}", 0.9, NUM_BEFORE, NUM_AFTER, requires_context=True),),
    context=("cvv", "cvv2", "cvc", "cvc2", "cid", "security code", "card verification", "card security code"),
    context_window=24,
    max_length=4,
    detector="pci",
)

CARD_EXPIRY = PatternRecognizer(
    "CARD_EXPIRY", Category.PCI, Severity.MEDIUM,
    (Pattern("MM/YY", r"(?:0[1-9]|1[0-2])[ \t]?[/\-][ \t]?(?:20)?[0-9]{2}", 0.9, NUM_BEFORE, NUM_AFTER,
             requires_context=True),),
    context=("exp", "expiry", "expires", "expiration", "expiration date", "exp date", "valid thru",
             "valid through", "good thru"),
    context_window=24,
    max_length=9,
    detector="pci",
)

PCI_RECOGNIZERS = (CREDIT_CARD, CVV, CARD_EXPIRY)
