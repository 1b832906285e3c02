"""RE2-guided matching: RE2 finds where a pattern's body can match, Python's ``re`` confirms it there."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from functools import lru_cache

try:
    import re2
except ImportError:  # pragma: no cover - google-re2 is a dependency; the engine then runs no finder
    re2 = None

__all__ = ["Search", "finder", "guided_matches"]

_WINDOW = 4096  # Python searches on by itself at most this far after a run of rejected candidates
_RETRIES = 16  # rejected candidates in a row before Python searches a window by itself (see guided_matches)

Search = Callable[[bytes, int], int]  # (text, pos) -> where the leftmost match at or after pos starts, -1: none


@lru_cache(maxsize=1024)
def finder(body: str) -> Search | None:
    """``body`` compiled with RE2, as a search for the start of its next match (None when RE2 cannot take it).
    Also for a gated pattern: the gate is the prefilter's business; a finder needs only an RE2 body."""
    options = re2.Options()
    options.never_capture = True
    options.log_errors = False  # a body RE2 cannot take (look-arounds, repeats past 1000) just has no finder
    # Latin-1, on text encoded one byte per character (see prefilter.one_byte_per_char): offsets are the string's.
    options.encoding = re2.Options.Encoding.LATIN1
    try:
        compiled = re2.compile(body.encode("latin-1"), options)
    except (re2.error, UnicodeEncodeError):
        return None
    raw = getattr(compiled, "_regexp", None)
    if raw is None or _UNANCHORED is None:  # pragma: no cover - another google-re2 layout: its public search
        def public(data: bytes, pos: int) -> int:
            m = compiled.search(data, pos)
            return -1 if m is None else int(m.start())
        return public
    # The wrapper's search builds a match object through a generator (about 5 us a call, more than RE2's own
    # search on a short text); on bytes it only forwards to this call, whose first span is the match.
    match = raw.Match

    def search(data: bytes, pos: int) -> int:
        return int(match(_UNANCHORED, data, pos, len(data))[0][0])
    return search


# RE2's own "search anywhere" anchor (None if the wrapper is laid out otherwise: then its public search is used).
_UNANCHORED = getattr(getattr(getattr(getattr(re2, "_re2", None), "RE2", None), "Anchor", None), "UNANCHORED", None)


def guided_matches(finder: Search | None, regex: re.Pattern[str], slack: int, text: str,
             encoded: bytes | None) -> Iterator[re.Match[str]]:
    """``regex.finditer(text)``, with RE2 (``finder``, the pattern's body) finding the candidates.

    Python's ``re`` cannot skip ahead when a pattern starts with a look-behind, so it tries every position.
    RE2 finds the leftmost position where the body matches; the full Python pattern is then tried there only.
    No body match starts earlier, so the first Python match at or after that position is the one ``finditer``
    would return. RE2 gets the text one byte per character, so its offsets are the string's.

    A rejected candidate (inside a longer number, say) is followed by RE2's next candidate, a few times in a row
    (a list of numbers has one rejection after another, and RE2 skips the gaps between them); after that, Python
    searches on by itself, so a 100 KB run of digits costs one scan rather than one RE2 call per position; but
    only within a window, so one rejection early in a 10 MB text does not make Python try every position of the
    rest. A match within ``slack`` (the pattern's longest match) of the window's end may depend on what follows,
    so RE2 resumes before it instead.
    """
    if finder is None or encoded is None:
        yield from regex.finditer(text)
        return
    pos, n = 0, len(text)
    window = max(_WINDOW, 4 * slack)
    search, match = finder, regex.match
    rejected = 0  # candidates rejected in a row
    while pos <= n:
        start = search(encoded, pos)
        if start < 0:
            return
        m = match(text, start)
        if m is None and rejected < _RETRIES:
            rejected += 1
            pos = start + 1  # no match starts in [pos, start]: RE2 found no body before start, re none at it
            continue
        rejected = 0
        if m is None:
            limit = start + window
            if limit >= n:
                m = regex.search(text, start + 1)
                if m is None:
                    return
            else:
                m = regex.search(text, start + 1, limit)
                if m is None or m.end() + slack > limit:
                    pos = max(start + 1, limit - slack)
                    continue
        yield m
        pos = m.end() if m.end() > m.start() else m.start() + 1
