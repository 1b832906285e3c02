"""Vehicle registration plates (German, UK, Indian, Nigerian, Turkish): after a plate word only.

A plate has no check digit, and its shapes are those of ordinary capitalised text: a Turkish plate is "10 AM
2023", a German one "B AB 1234" or "US ID 12", a Nigerian one any three letters and a code. So each needs a word
before it (``kennzeichen``, ``plaka``, ``number plate``, ``registration``...), and the shape is checked where it
can be (a UK age identifier, an Indian state code, a Turkish province code). Severity LOW: a plate identifies a
vehicle, and a person only through a register.
"""

from __future__ import annotations

from collections.abc import Callable

from deepsentinel.detection.findings import Category, Severity
from deepsentinel.detection.recognizer import Pattern, PatternRecognizer
from deepsentinel.detection.recognizers.fragments import NOT_PERSONAL, WORD_AFTER, WORD_BEFORE, word_gate

__all__ = ["VEHICLE_RECOGNIZERS", "valid_in_plate", "valid_tr_plate", "valid_uk_plate"]

_PLATE_WORDS = ("license plate", "licence plate", "number plate", "plate", "plates", "plate number",
                "registration number", "registration", "car reg", "reg", "vehicle", "vehicles", "registered")

# Indian state and union territory codes (Motor Vehicles Act; BH: the Bharat series).
_IN_STATES = frozenset(
    ["AN", "AP", "AR", "AS", "BR", "CG", "CH", "DD", "DL", "DN", "GA", "GJ", "HP", "HR", "JH", "JK", "KA", "KL", "LA", "LD", "MH", "ML", "MN", "MP", "MZ", "NL", "OD", "OR", "PB", "PY", "RJ", "SK", "TN", "TR", "TS", "UK", "UP", "WB", "BH"])


def valid_uk_plate(value: str) -> bool:
    """Since 2001: two letters, an age identifier (March 02-..., September 51-...), three letters; the first
    letters and the last three never use I, Q or Z (Q, I only elsewhere)."""
    v = value.replace(" ", "").replace("-", "").upper()
    if len(v) != 7:
        return False
    age = int(v[2:4])
    if not (2 <= age <= 29 or 51 <= age <= 79):
        return False
    return not any(c in "IQZ" for c in v[:2]) and not any(c in "IQ" for c in v[4:])


def valid_in_plate(value: str) -> bool:
    """An Indian plate starts with a state code."""
    return value[:2].upper() in _IN_STATES


def valid_tr_plate(value: str) -> bool:
    """A Turkish plate starts with a province code, 01-81."""
    return 1 <= int(value[:2]) <= 81


# Not a piece of a timestamp or a date ("2023-06-03T07:25", "10.5 ms").
_BEFORE = WORD_BEFORE + r"(?<![\-:./])"
_AFTER = WORD_AFTER + r"(?![:.\-][0-9])"


def _rec(entity: str, body: str, validator: Callable[[str], bool] | None, context: tuple[str, ...],
         ) -> PatternRecognizer:
    pattern = Pattern("plate", body, 0.85, _BEFORE, _AFTER, requires_context=True, gate=word_gate(body))
    return PatternRecognizer(entity, Category.PII, Severity.LOW, (pattern,), validator=validator,
                             context=context, negative_context=NOT_PERSONAL, context_window=40, max_length=16,
                             detector="pii")


VEHICLE_RECOGNIZERS: tuple[PatternRecognizer, ...] = (
    # District (1-3 letters; not the few with an umlaut), 1-2 letters, 1-4 digits, E (electric) or H (historic).
    _rec("DE_KFZ", r"(?i:[A-Z]{1,3}[ \t\-][A-Z]{1,2}[ \t\-]?[1-9][0-9]{0,3}[EH]?)", None,
         _PLATE_WORDS + ("kennzeichen", "kfz-kennzeichen", "autokennzeichen", "nummernschild", "fahrzeug")),
    _rec("UK_VEHICLE_REGISTRATION", r"(?i:[A-Z]{2}[0-9]{2}[ \t\-]?[A-Z]{3})", valid_uk_plate, _PLATE_WORDS),
    _rec("IN_VEHICLE_REGISTRATION", r"(?i:[A-Z]{2}[ \t\-]?[0-9]{1,2}[ \t\-]?[A-Z]{1,3}[ \t\-]?[0-9]{4})",
         valid_in_plate, _PLATE_WORDS),
    _rec("NG_VEHICLE_REGISTRATION", r"(?i:[A-Z]{3}[ \t\-]?[0-9]{3}[A-Z]{2})", None, _PLATE_WORDS),
    _rec("TR_LICENSE_PLATE", r"[0-8][0-9][ \t]?(?i:[A-Z]{1,3})[ \t]?[0-9]{2,4}", valid_tr_plate,
         _PLATE_WORDS + ("plaka", "plakası", "plaka numarası", "araç")),
)
