"""A value right after another number: "Ticket 7 536-22-1234", "paid 2024 4111111111111111".  (deepsentinel: allow)

Number patterns refuse to start right after a digit and a space (``NUM_BEFORE``), so that no card number is
found inside a longer grouped number ("DE89 3704 0044 0532 0130 00", "1234 4111 1111 1111 1111"). Taken alone  (deepsentinel: allow)
that rule hides any value written after a number, and the second of two values written in a row.

So the engine also runs such patterns without that one look-behind, and keeps a candidate found only that way
when the number before it is a *separate* number:

* it ends a value the engine already found ("536-22-1234 536-22-1234"); or  (deepsentinel: allow)
* it is a free-standing run of digits (after a space, the start or an opening punctuation mark, not inside a
  token such as ``DE89``) whose length differs from the candidate's first group: ``7`` before ``536``, ``2024``
  before a 16-digit card. Equal lengths read as one grouped number and stay rejected.
"""

from __future__ import annotations

import re

__all__ = ["AFTER_NUMBER", "lenient_regex", "separate_number"]

# The look-behind in NUM_BEFORE (detection/recognizers/fragments.py) that this module relaxes.
AFTER_NUMBER = r"(?<![0-9][ \t\n])"
_FREE_BEFORE = frozenset(" \t\r\n([{:;,=#$\"'")
_DIGITS = frozenset("0123456789")
_DIGIT_TAIL = re.compile(r"[0-9]+\Z")  # searched with an end position: the run of digits ending there
_DIGIT_HEAD = re.compile(r"[0-9]+")
_LOOK_BACK = 64


def lenient_regex(before: str, regex: str, flags: int) -> re.Pattern[str] | None:
    """``regex`` without the digit-and-space look-behind, or None when ``before`` does not have it."""
    if AFTER_NUMBER not in before:
        return None
    return re.compile(regex.replace(AFTER_NUMBER, "", 1), flags)


def follows_number(text: str, start: int) -> bool:
    """Whether ``start`` comes right after a digit and one space, tab or line break (where NUM_BEFORE refuses)."""
    return start >= 2 and text[start - 1] in " \t\n" and text[start - 2] in _DIGITS


def separate_number(text: str, start: int, ends: set[int]) -> bool:
    """Whether the number just before ``start`` (see :func:`follows_number`) is separate from the candidate."""
    prev_end = start - 1
    if prev_end in ends:
        return True
    # The digit runs ending at prev_end and starting at start, found by ``re`` rather than a loop per digit (this
    # runs for every candidate after a number: on a list of numbers, for most of them).
    lo = max(0, prev_end - _LOOK_BACK)
    run = _DIGIT_TAIL.search(text, lo, prev_end)
    j = run.start() if run is not None else prev_end
    if j == lo and lo > 0:  # a run longer than the window: walk the rest
        while j > 0 and text[j - 1] in _DIGITS:
            j -= 1
    if j > 0 and text[j - 1] not in _FREE_BEFORE:
        return False  # "DE89 3704...", "+49 1512...", "1-800 ...": the digits end a longer token
    ahead = _DIGIT_HEAD.match(text, start)
    k = ahead.end() if ahead is not None else start
    return prev_end - j != k - start
