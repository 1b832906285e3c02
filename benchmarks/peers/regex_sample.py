"""A random string that a simple regular expression matches (classes, repeats, groups, alternation)."""

from __future__ import annotations

import random
import re
import warnings
from typing import Any

with warnings.catch_warnings():  # deprecated aliases of re's own parser, stable enough for a benchmark tool
    warnings.simplefilter("ignore", DeprecationWarning)
    import sre_constants as c
    import sre_parse

_MAX_OPEN_REPEAT = 8


def sample(pattern: str, rng: random.Random) -> str:
    """One random match of ``pattern``; open repeats (``+``, ``{n,}``) add at most a few characters."""
    pattern = re.sub(r"\(\?-i:", "(?:", pattern)
    return "".join(_emit(sre_parse.parse(pattern), rng))


def _class_chars(items: list[tuple[Any, Any]]) -> list[str]:
    chars: list[str] = []
    negate = False
    for op, av in items:
        if op is c.NEGATE:
            negate = True
        elif op is c.LITERAL:
            chars.append(chr(av))
        elif op is c.RANGE:
            chars.extend(chr(x) for x in range(av[0], av[1] + 1))
        elif op is c.CATEGORY:
            chars.extend({c.CATEGORY_DIGIT: "0123456789",
                          c.CATEGORY_WORD: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_",
                          c.CATEGORY_SPACE: " "}.get(av, "x"))
    if negate:
        pool = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
        return [ch for ch in pool if ch not in chars]
    return chars


def _emit(parsed: Any, rng: random.Random) -> list[str]:
    out: list[str] = []
    for op, av in parsed:
        if op is c.LITERAL:
            out.append(chr(av))
        elif op is c.IN:
            out.append(rng.choice(_class_chars(av)))
        elif op is c.ANY:
            out.append(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789"))
        elif op in (c.MAX_REPEAT, c.MIN_REPEAT):
            lo, hi, sub = av
            hi = lo + _MAX_OPEN_REPEAT if hi is c.MAXREPEAT else hi
            for _ in range(rng.randint(lo, max(lo, hi))):
                out.extend(_emit(sub, rng))
        elif op is c.SUBPATTERN:
            out.extend(_emit(av[-1], rng))
        elif op is c.BRANCH:
            out.extend(_emit(rng.choice(av[1]), rng))
        elif op is c.CATEGORY:
            out.append(rng.choice(_class_chars([(op, av)])))
    return out
