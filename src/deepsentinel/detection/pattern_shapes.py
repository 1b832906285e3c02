"""What a pattern's text says about its matches: whether they may span whitespace or hold a non-ASCII character,
and how long they can be. The stream boundary needs these for custom patterns."""

from __future__ import annotations

import re
import sys
from re import _parser as sre_parse  # type: ignore[attr-defined]  # the stdlib parser of re patterns (no stub)

__all__ = ["free_form", "longest", "wide"]

# What in a regex may let a custom pattern span whitespace (which safe_boundary must then respect): any escape
# but \d, \w, anchors and escaped punctuation (so \s, \S, \D, \W, \x20, \t, \n...), ".", a negated class, or
# whitespace itself. Erring towards "may" only holds a stream back longer.
_SAFE_ESCAPE = re.compile(r"\\[dwbBAZ.\-+*?()\[\]{}|^$/#&~@:,'\"=<>!%_;]")
_FREE_FORM = re.compile(r"\\|\.|\[\^|\s")


def free_form(body: str) -> bool:
    """Whether a custom pattern may span whitespace."""
    return _FREE_FORM.search(_SAFE_ESCAPE.sub("", body)) is not None


def wide(body: str) -> bool:
    """Whether an ASCII-mode pattern may match a non-ASCII character: a negated class or escape, an unescaped "."
    outside a class, or a non-ASCII literal. Erring towards "may" only holds a stream back longer."""
    if not body.isascii() or re.search(r"\\[SWDuxUN]|\[\^", body):
        return True
    in_class = escaped = False
    for ch in body:
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
        elif ch == ".":
            return True
    return False


def longest(body: str) -> int:
    """The longest match of a pattern, in characters (huge when unbounded, as in ``.*``)."""
    try:
        return int(sre_parse.parse(body).getwidth()[1])
    except (re.error, OverflowError, RecursionError):
        return sys.maxsize
