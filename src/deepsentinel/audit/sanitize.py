"""Making any audit event storable: every field coerced to its column's type, nothing ever refused.

An audit event is built by our code, but some of its fields come from outside (the anonymized prompt text, a
model name from a config file, token counts reported by a provider). One field the database cannot take
must not cost the event, let alone the batch it travels with, so each value is *replaced* rather than
rejected:

- text: lone surrogates (``"hi \\ud800"``) and NUL characters are written as backslash escapes (neither is
  storable in UTF-8 text columns); values longer than ``MAX_TEXT`` characters are cut, with a marker saying
  how much was cut; a non-string is stored as its ``str()``, or as ``<unprintable T>`` if even that fails
  (deep nesting, a broken ``__str__``);
- integers: clamped to the signed 64-bit range both engines store; a non-number becomes ``None`` (or 0
  where the column is required);
- floats: NaN becomes ``None`` (SQLite would store it as NULL behind the hash's back) and ``-0.0`` becomes
  ``0.0`` (SQLite stores it so); infinities are kept.

The same cleaning runs before hashing and before inserting, so the chain covers exactly what is stored.
"""

from __future__ import annotations

import math
from typing import Any

#: Longest text stored in one column, in characters (the anonymized text is the only long one in practice).
MAX_TEXT = 1 << 20
#: Longest text in a short column (names, types, ids).
MAX_SHORT = 1000

_INT64_MAX = (1 << 63) - 1
_INT64_MIN = -(1 << 63)


def _escape(text: str) -> str:
    # Both engines reject lone surrogates (not encodable in UTF-8); PostgreSQL also rejects NUL in text.
    if "\x00" in text:
        text = text.replace("\x00", "\\x00")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def text(value: Any, limit: int = MAX_TEXT) -> str:
    """``value`` as storable text: escaped where it must be, cut at ``limit`` characters with a marker."""
    if type(value) is str:
        value_str: str = value
    else:
        try:
            value_str = str(value)
        except Exception:  # RecursionError for deep nesting, or any broken __str__
            value_str = f"<unprintable {type(value).__name__}>"
    if len(value_str) > limit:
        # Exactly ``limit`` characters in all, so cleaning a cleaned value changes nothing.
        marker = f"...[{len(value_str) - limit} more characters not stored]"
        value_str = value_str[: limit - len(marker)] + marker
    if value_str.isascii() and "\x00" not in value_str:
        return value_str  # the common case, checked cheaply
    return _escape(value_str)


def opt_text(value: Any, limit: int = MAX_TEXT) -> str | None:
    """``text`` for a nullable column."""
    return None if value is None else text(value, limit)


def opt_int(value: Any) -> int | None:
    """An integer in the signed 64-bit range, or None when ``value`` is not a number."""
    if value is None:
        return None
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):  # OverflowError: int(float('inf'))
        return None
    return max(_INT64_MIN, min(_INT64_MAX, number))


def integer(value: Any) -> int:
    """``opt_int`` for a required column: 0 when ``value`` is not a number."""
    number = opt_int(value)
    return 0 if number is None else number


def real(value: Any) -> float | None:
    """A float; None for NaN or a non-number (SQLite turns NaN into NULL, which would break the hash), and no
    negative zero (SQLite reads ``-0.0`` back as ``0.0``: the hash must cover what is read back)."""
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return None if math.isnan(number) else number + 0.0
