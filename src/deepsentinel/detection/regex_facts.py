"""What every match of a regular expression must hold, read from its parse tree (for the prefilter's plan).

:func:`digit_facts` tells whether every match of an expression holds an ASCII digit, and how long such a
match can be; :func:`run_facts`, whether every match is a run of characters of a few kinds, and how short. The
Hyperscan prefilter scans the first kind only where a text has digits and the second only where it has such a
run (see ``hyperscan_prefilter.py``): prose then skips them all. The answers err towards "unknown" (None,
False): an expression this module cannot read is simply scanned everywhere.

A text's part (a window around its digits) is scanned as if it were a whole text, so an anchor reads its edges
as a text's: ``^``, ``$``, ``\\A``, ``\\Z`` and ``\\b`` then hold in more places, never fewer, and a prefilter may
fire more often than it must (never less). ``\\B`` would hold in fewer places: an expression with it is unknown.
"""

from __future__ import annotations

import re
from re import _constants as sre  # type: ignore[attr-defined]  # CPython's own parser: stable since 3.11
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import Any

__all__ = ["alternatives", "digit_facts", "run_facts"]

_DIGITS = frozenset(range(ord("0"), ord("9") + 1))
_ONE_CHAR = (sre.LITERAL, sre.IN, sre.NOT_LITERAL, sre.ANY)
_REPEATS = (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT)


def digit_facts(expression: str) -> tuple[bool, int | None]:
    """Whether every match of ``expression`` holds an ASCII digit (False when it cannot tell), and then the
    longest match (None when a match may be as long as it likes), from one parse."""
    tree = _parsed(expression)
    if tree is None or _digits(list(tree), tree.state.flags) < 1:
        return False, None
    _, longest = tree.getwidth()
    return True, None if longest >= sre.MAXREPEAT else int(longest)


def run_facts(expression: str) -> tuple[frozenset[int], int] | None:
    """``(chars, least)`` when every match of ``expression`` is a run of at least ``least`` characters, each one
    of ``chars`` (ASCII code points, both cases of a letter where the expression ignores case); None when it
    cannot tell (an item other than a character, a class of characters, a repeat, a group, an alternation or an
    anchor: a class like ``\\w`` or ``[^ ]``, a look-around)."""
    tree = _parsed(expression)
    return None if tree is None else _run(list(tree), tree.state.flags)


def alternatives(expression: str) -> list[str]:
    """The top-level alternatives of ``expression``, each a whole expression, so that each can be placed by its
    own facts (a number and a spelled-out number, one prefilter gate). ``[expression]`` when it has one, when
    it starts with global flags (they would stay with the first part only), or when a part does not parse."""
    if _GLOBAL_FLAGS.match(expression):
        return [expression]
    parts: list[str] = []
    depth = start = i = 0
    n = len(expression)
    while i < n:
        c = expression[i]
        if c == "\\":
            i += 1
        elif c == "[":  # a class: its "|", "(" and ")" are characters; "]" right after "[" or "[^" is one too
            i += 2 if expression.startswith("[^", i) else 1
            i += 1 if expression.startswith("]", i) else 0
            while i < n and expression[i] != "]":
                i += 2 if expression[i] == "\\" else 1
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        elif c == "|" and depth == 0:
            parts.append(expression[start:i])
            start = i + 1
        i += 1
    if not parts:
        return [expression]
    parts.append(expression[start:])
    for part in parts:
        try:
            sre_parse.parse(part)
        except Exception:  # noqa: BLE001 - a split this module misread: keep the expression whole
            return [expression]
    return parts


_GLOBAL_FLAGS = re.compile(r"\(\?[aiLmsux]+\)")


def _parsed(expression: str) -> Any:
    """The parse tree of a plain expression (see ``_plain``), else None (unreadable by Python's ``re`` too)."""
    try:
        tree = sre_parse.parse(expression)
    except Exception:  # noqa: BLE001 - any parse failure means "unknown", never an error
        return None
    return tree if _plain(list(tree)) else None


def _plain(items: list[tuple[Any, Any]]) -> bool:
    """No ``\\B``, no look-arounds, no back-references: nothing a window's edges could make hold less often."""
    for op, av in items:
        if op is sre.AT and av is sre.AT_NON_BOUNDARY:
            return False
        if op in (sre.ASSERT, sre.ASSERT_NOT, sre.GROUPREF, sre.GROUPREF_EXISTS):
            return False
        if not all(_plain(sub) for sub in _inner(op, av)):
            return False
    return True


def _inner(op: Any, av: Any) -> list[list[tuple[Any, Any]]]:
    """The sequences inside a repeat, group, alternation or atomic group (none for other items)."""
    if op in _REPEATS:
        return [list(av[2])]
    if op is sre.SUBPATTERN:
        return [list(av[3])]
    if op is sre.BRANCH:
        return [list(branch) for branch in av[1]]
    if op is sre.ATOMIC_GROUP:
        return [list(av)]
    return []


def _digits(items: list[tuple[Any, Any]], flags: int) -> int:
    """The fewest ASCII digits any match of the sequence ``items`` holds."""
    return sum(_item_digits(op, av, flags) for op, av in items)


def _item_digits(op: Any, av: Any, flags: int) -> int:
    if op in _ONE_CHAR:
        chars = _chars(op, av)
        return 1 if chars and chars <= _DIGITS else 0  # case-folding leaves digits alone
    if op in _REPEATS:
        least, _, sub = av
        return int(least) * _digits(list(sub), flags)
    if op is sre.SUBPATTERN:
        _, add, remove, sub = av
        return _digits(list(sub), (flags | add) & ~remove)
    if op is sre.BRANCH:
        return min(_digits(list(branch), flags) for branch in av[1])
    if op is sre.ATOMIC_GROUP:
        return _digits(list(av), flags)
    return 0


def _chars(op: Any, av: Any) -> frozenset[int] | None:
    """The code points one character item can match (None: too many or unknown)."""
    if op is sre.LITERAL:
        return frozenset([av])
    if op is not sre.IN:
        return None
    chars: set[int] = set()
    for kind, value in av:
        if kind is sre.LITERAL:
            chars.add(value)
        elif kind is sre.RANGE:
            chars.update(range(value[0], value[1] + 1))
        elif kind is sre.CATEGORY and value is sre.CATEGORY_DIGIT:
            chars.update(_DIGITS)  # \d in Hyperscan's byte mode and under re.ASCII
        else:
            return None  # a negated class, \w, \s...
    return frozenset(chars)


def _run(items: list[tuple[Any, Any]], flags: int) -> tuple[frozenset[int], int] | None:
    """``run_facts`` of the sequence ``items``."""
    chars: set[int] = set()
    least = 0
    for op, av in items:
        part: tuple[frozenset[int], int] | None
        if op is sre.AT:  # an anchor consumes no character: a run stays a run
            continue
        if op in _ONE_CHAR:
            one = _chars(op, av)
            if one is None or max(one) > 0x7F:
                return None
            if flags & re.IGNORECASE:
                one = one | {ord(chr(c).swapcase()) for c in one if chr(c).isalpha()}
            part = (one, 1)
        elif op in _REPEATS:
            inner = _run(list(av[2]), flags)
            part = None if inner is None else (inner[0], int(av[0]) * inner[1])
        elif op is sre.SUBPATTERN:
            part = _run(list(av[3]), (flags | av[1]) & ~av[2])
        elif op is sre.BRANCH:
            branches = [_run(list(branch), flags) for branch in av[1]]
            known = [b for b in branches if b is not None]
            if len(known) < len(branches):
                return None
            part = (frozenset().union(*(b[0] for b in known)), min(b[1] for b in known))
        else:
            return None
        if part is None:
            return None
        chars |= part[0]
        least += part[1]
    return frozenset(chars), least
