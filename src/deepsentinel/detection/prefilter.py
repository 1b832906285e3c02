"""Prefilters: one native pass over a text that tells which patterns can match it at all.

The engine runs a pattern with Python ``re`` only when its prefilter expression fired, so a text without
findings costs one native pass. Two backends, same answers (a superset of the patterns that really match):

* ``hyperscan``: a Hyperscan database in prefilter mode (``HS_FLAG_PREFILTER | HS_FLAG_SINGLEMATCH``). Its
  automata have no cache to warm up, so text it has never seen is as fast as text it has: this is what keeps
  a cold engine fast. Used when the ``hyperscan`` wheel is installed (x86-64 Linux and macOS).
* ``re2``: an RE2 set. Everywhere ``google-re2`` installs, but its lazily built DFA is slow on fresh text
  (it builds states as it goes), so it is the fallback.

Databases are compiled once per process per expression list and shared by every engine with the same
catalog; compiled Hyperscan databases are also kept on disk (``hyperscan_db.py``).
"""

from __future__ import annotations

import codecs
import threading
from array import array
from collections.abc import Sequence
from functools import lru_cache
from typing import Any, Literal, Protocol

from deepsentinel.detection.hyperscan_db import (
    PREFILTER_FLAGS,
    cache_dir,
    compile_expressions,
    compiles,
    hyperscan,
    hyperscan_available,
)
from deepsentinel.detection.regex_facts import alternatives, digit_facts

try:
    import re2
except ImportError:  # pragma: no cover - google-re2 is a dependency
    re2 = None

__all__ = ["Backend", "Prefilter", "build_prefilter", "by_end", "cache_dir", "hyperscan_available",
           "one_byte_per_char"]

Backend = Literal["auto", "hyperscan", "re2", "none"]


class Prefilter(Protocol):
    """``ids[i]`` is the id of expression ``i`` (-1: not compilable, always run); ``match`` the ids that fired.

    ``data``, when given, is ``one_byte_per_char(text)``, already computed by the caller.
    """

    ids: list[int]
    backend: str

    def match(self, text: str, data: bytes | None = None) -> frozenset[int]: ...

    def match_cues(self, text: str, data: bytes | None = None) -> tuple[frozenset[int], array[int] | None]:
        """``match``, and every end of the tagged cue expressions as ``end << 2 | tag`` by end (None: this
        prefilter does not find them; the caller scans for them itself)."""
        ...


class _Nothing:
    """No prefilter: every pattern runs (same findings, slower)."""

    backend = "none"

    def __init__(self, count: int) -> None:
        self.ids = [-1] * count

    def match(self, text: str, data: bytes | None = None) -> frozenset[int]:
        return frozenset()

    def match_cues(self, text: str, data: bytes | None = None) -> tuple[frozenset[int], array[int] | None]:
        return frozenset(), None


class _Re2Set:
    """An RE2 set over the expressions (never capturing, so the DFA stays small)."""

    backend = "re2"

    def __init__(self, expressions: Sequence[str]) -> None:
        self.ids: list[int] = []
        self._set: Any = None
        options = re2.Options()
        options.max_mem = 64 << 20
        options.never_capture = True
        rset = re2.Set.SearchSet(options)
        for expression in expressions:
            try:
                self.ids.append(rset.Add(expression))
            except re2.error:
                self.ids.append(-1)  # not RE2 syntax (a custom pattern with look-arounds): always run
        if any(i >= 0 for i in self.ids):
            rset.Compile()
            self._set = rset

    def match(self, text: str, data: bytes | None = None) -> frozenset[int]:
        if self._set is None:
            return frozenset()
        return frozenset(self._set.Match(text) or ())

    def match_cues(self, text: str, data: bytes | None = None) -> tuple[frozenset[int], array[int] | None]:
        return self.match(text, data), None


class _Hyperscan:
    """Hyperscan block-mode databases; each expression reports at most once per scan.

    Three databases, by what every match of an expression (of each of its top-level alternatives, under the
    expression's id) holds (see ``regex_facts.py``):

    * a digit, within at most ``_REACH_MAX`` characters (most of the PII numbers): scanned only around the
      digits of a text;
    * a digit, in a match that may be longer (dates, street addresses, tokens with a digit in their prefix):
      scanned over a text that has a digit;
    * anything else: scanned over every text, with an expression for "a digit" that says whether the other
      two are scanned at all.

    Expressions wanted only with another (``later``: context words) are a fourth database, scanned over a text
    on which one of their triggers fired.

    Prose without numbers then pays for the first two not at all, and a short prompt with a few numbers for a
    few hundred bytes of the first. A text with digits all over (a table, a list of numbers) gets all three over
    all of it. An expression given twice is compiled once.
    """

    backend = "hyperscan"

    def __init__(self, expressions: Sequence[str], cues: Sequence[tuple[int, str]] = (),
                 later: Sequence[tuple[int, tuple[int, ...]]] = ()) -> None:
        # Byte mode, not UTF-8 mode (which takes ten times longer to compile): the text is scanned with each
        # non-ASCII character as one 0x80 byte, which, like the character under ``re.ASCII``, matches only
        # negated classes and ".", once. Patterns with Unicode classes (custom ones) are kept out (always run).
        first: dict[str, int] = {}
        for i, expression in enumerate(expressions):
            first.setdefault(expression, i)
        self.ids = [first[e] for e in expressions]
        # Expressions wanted only once another fired (a context word, once a pattern that needs one did): in a
        # database of their own, scanned then. One also given as an expression always wanted stays always.
        listed = {i for i, _ in later}
        always = {self.ids[i] for i in range(len(expressions)) if i not in listed}
        deferred = {self.ids[i] for i in listed} - always
        self._triggers = frozenset(self.ids[t] for i, triggers in later if self.ids[i] in deferred for t in triggers)
        # Each top-level alternative is placed by its own facts, under its expression's id: a number and a
        # spelled-out number (one gate) go to different databases.
        members = [(i, part) for e, i in first.items() if i not in deferred for part in alternatives(e)]
        facts = [digit_facts(part) for _, part in members]
        reach = {m: r for m, (digit, r) in zip(members, facts, strict=True) if digit and r is not None and r <= _REACH_MAX}
        near = list(reach)
        far = [m for m, (digit, _) in zip(members, facts, strict=True) if digit and m not in reach]
        rest = [m for m, (digit, _) in zip(members, facts, strict=True) if not digit]
        if near or far:
            # The pass over every text also tells whether it has a digit: one without skips the other two.
            rest.append((_DIGIT, "[0-9]"))
        # The database's own scratch space is cheaper per call than a separate Scratch object; the lock makes
        # sharing it across threads safe (scans are microseconds, so contention is short).
        self._lock = threading.Lock()
        # The name detector's cues (``name_gate``) ride along in the database scanned over every text: one pass
        # finds both. Every end of a cue is reported, under an id past the catalog's that is its tag's (as in
        # name_gate's own database): one end per tag, however many of the tag's expressions end there.
        self._cues = bool(cues)
        cue_group = [(_CUE_BASE + tag, e) for tag, e in cues]
        self._db, failed = _compile_group(rest, cue_group)
        self._near, failed_near = _compile_group(near)
        self._far, failed_far = _compile_group(far)
        self._later, failed_later = _compile_group([(i, e) for e, i in first.items() if i in deferred])
        # A trigger that did not compile always runs (its id never fires): what it wants is then scanned always.
        self._later_always = bool(self._triggers & (failed | failed_near | failed_far))
        self._reach = max(reach.values(), default=0)
        failed |= failed_near | failed_far | failed_later
        if failed:  # not Hyperscan syntax (look-arounds in a custom pattern): always run
            self.ids = [-1 if i in failed else i for i in self.ids]

    def match(self, text: str, data: bytes | None = None) -> frozenset[int]:
        if not text:
            return frozenset()
        hits: set[int] = set()
        if data is None:
            data = one_byte_per_char(text)
        with self._lock:
            if self._db is not None:
                self._db.scan(data, match_event_handler=_collect_catalog if self._cues else _collect, context=hits)
            self._scan_rest(data, hits)
        return frozenset(hits)

    def match_cues(self, text: str, data: bytes | None = None) -> tuple[frozenset[int], array[int] | None]:
        if not self._cues:
            return self.match(text, data), None
        found = _Found(set(), array("q"))
        if text:
            if data is None:
                data = one_byte_per_char(text)
            with self._lock:
                if self._db is not None:
                    self._db.scan(data, match_event_handler=_collect_both, context=found)
                self._scan_rest(data, found.hits)
        return frozenset(found.hits), by_end(found.cues)

    def _scan_rest(self, data: bytes, hits: set[int]) -> None:
        """After the pass over every text: the digit databases when it saw a digit, then the expressions wanted
        once one of their triggers fired."""
        if _DIGIT in hits:
            hits.discard(_DIGIT)
            self._scan_digits(data, hits)
        if self._later is not None and (self._later_always or not self._triggers.isdisjoint(hits)):
            self._later.scan(data, match_event_handler=_collect, context=hits)

    def _scan_digits(self, data: bytes, hits: set[int]) -> None:
        """The databases whose every match holds a digit, over a text with one (the pass over every text saw
        it, and holds its expression only when one of these databases exists): around the digits, and whole."""
        windows = _digit_windows(data, self._reach)
        if self._far is not None:
            self._far.scan(data, match_event_handler=_collect, context=hits)
        if self._near is not None:
            if windows is None:
                self._near.scan(data, match_event_handler=_collect, context=hits)
            else:
                for lo, hi in windows:
                    self._near.scan(data[lo:hi], match_event_handler=_collect, context=hits)


_REACH_MAX = 80  # longer expressions are scanned everywhere: their windows would cover most of a text anyway
_DIGIT_BYTES = b"0123456789"
_DIGIT_MASK = bytes(1 if c in _DIGIT_BYTES else 0 for c in range(256))  # digits -> 1, other bytes -> 0


def _digit_windows(data: bytes, reach: int) -> list[tuple[int, int]] | None:
    """The spans of ``data`` within ``reach`` bytes of a digit, merged (None: they would cover half of it).

    A match of at most ``reach`` bytes that holds a digit lies within one of them. A window's edge reads as
    the start or end of the text, which only lets ``\\b`` match more often: never fewer matches. (Found with
    ``bytes.find`` on a digit mask: C's memchr, where a ``re`` search for digits takes 10 ns a byte.)
    """
    windows: list[tuple[int, int]] = []
    covered, limit, n = 0, len(data) // 2, len(data)
    for base in range(0, n, _MASK_CHUNK):  # a mask per chunk: a 10 MB text gets no 10 MB copy
        mask = data[base:base + _MASK_CHUNK].translate(_DIGIT_MASK)
        pos = mask.find(1)
        while pos >= 0:
            end = mask.find(0, pos)
            end = len(mask) if end < 0 else end
            lo, hi = max(0, base + pos - reach), min(n, base + end + reach)
            if windows and lo <= windows[-1][1]:  # also joins a run cut by a chunk's end
                covered += max(0, hi - windows[-1][1])
                windows[-1] = (windows[-1][0], max(hi, windows[-1][1]))
            else:
                covered += hi - lo
                windows.append((lo, hi))
            if covered > limit:
                return None
            pos = mask.find(1, end) if end < len(mask) else -1
    return windows


_MASK_CHUNK = 1 << 16


def _compile_group(group: list[tuple[int, str]], exact: Sequence[tuple[int, str]] = ()) -> tuple[Any, set[int]]:
    """A prefilter database of ``(id, expression)`` pairs, plus ``exact`` ones whose every match end is reported
    (None when empty), and the ids of ``group`` that did not compile."""
    def compiled(members: list[tuple[int, str]]) -> Any:
        pairs = [*members, *exact]
        flags = [PREFILTER_FLAGS] * len(members) + [0] * len(exact)
        return compile_expressions([e for _, e in pairs], [i for i, _ in pairs], flags) if pairs else None

    try:
        return compiled(group), set()
    except hyperscan.error:
        # Some expression is not Hyperscan syntax: find which, one by one (compiling the whole catalog takes a
        # second or two, so only on this rare path).
        good = [(i, e) for i, e in group if compiles(e, PREFILTER_FLAGS)]
        return compiled(good), {i for i, _ in group} - {i for i, _ in good}


def _collect(id_: int, start: int, end: int, flags: int, hits: set[int]) -> None:
    """Hyperscan's match callback: note which expression fired (one function for every scan, no closure)."""
    hits.add(id_)


_CUE_BASE = 1 << 30  # ids of cue expressions in a database: past any catalog's
_DIGIT = _CUE_BASE - 1  # the id of "this text has a digit" in the database scanned over every text


def by_end(cues: array[int]) -> array[int]:
    """Cues (``end << 2 | tag``) in end order: Hyperscan reports by end offset, but does not promise it."""
    if len(cues) < 2:  # most texts: none at all
        return cues
    if any(cues[i] > cues[i + 1] for i in range(len(cues) - 1)):
        return array("q", sorted(cues))
    return cues


def _collect_catalog(id_: int, start: int, end: int, flags: int, hits: set[int]) -> None:
    """``_collect`` for a database that also holds cues: only the catalog's expressions are noted."""
    if id_ < _CUE_BASE:
        hits.add(id_)


class _Found:
    """What one scan for catalog hits and cues collects."""

    __slots__ = ("cues", "hits")

    def __init__(self, hits: set[int], cues: array[int]) -> None:
        self.hits, self.cues = hits, cues


def _collect_both(id_: int, start: int, end: int, flags: int, found: _Found) -> None:
    if id_ >= _CUE_BASE:
        found.cues.append(end << 2 | (id_ - _CUE_BASE))  # a tag fits in two bits (name_gate's kinds)
    else:
        found.hits.add(id_)


def _one_byte(error: UnicodeError) -> tuple[bytes, int]:
    assert isinstance(error, UnicodeEncodeError)
    return b"\x80" * (error.end - error.start), error.end


_ONE_BYTE = "deepsentinel-one-byte"
codecs.register_error(_ONE_BYTE, _one_byte)  # a named handler in the codec registry; nothing else changes


def one_byte_per_char(text: str) -> bytes:
    """``text`` as bytes with each non-ASCII character as one 0x80 byte: byte offsets are character offsets."""
    return text.encode("ascii", _ONE_BYTE)


@lru_cache(maxsize=64)
def _cached(expressions: tuple[str, ...], backend: str, cues: tuple[tuple[int, str], ...] = (),
            later: tuple[tuple[int, tuple[int, ...]], ...] = ()) -> Prefilter:
    if backend == "hyperscan":
        return _Hyperscan(expressions, cues, later)
    return _Re2Set(expressions)


class _Composite:
    """Several prefilters as one, ids offset: the built-in catalog's database is shared, custom ones are small."""

    def __init__(self, parts: list[Prefilter]) -> None:
        self.backend = parts[0].backend
        self._parts: list[tuple[int, Prefilter]] = []
        self.ids: list[int] = []
        offset = 0
        for part in parts:
            self._parts.append((offset, part))
            self.ids.extend(i + offset if i >= 0 else -1 for i in part.ids)
            offset += len(part.ids)

    def match(self, text: str, data: bytes | None = None) -> frozenset[int]:
        return self._with_rest(self._parts[0][1].match(text, data), text, data)

    def match_cues(self, text: str, data: bytes | None = None) -> tuple[frozenset[int], array[int] | None]:
        first, cues = self._parts[0][1].match_cues(text, data)  # the catalog's part: the one that may carry cues
        return self._with_rest(first, text, data), cues

    def _with_rest(self, first: frozenset[int], text: str, data: bytes | None) -> frozenset[int]:
        """The first part's hits (at offset 0) and the other parts', offset."""
        hits = set(first)
        for offset, part in self._parts[1:]:
            hits.update(i + offset for i in part.match(text, data))
        return frozenset(hits)


def build_prefilter(catalog: Sequence[str], custom: Sequence[str] = (), backend: Backend = "auto",
                    cues: Sequence[tuple[int, str]] = (),
                    later: Sequence[tuple[int, tuple[int, ...]]] = ()) -> Prefilter:
    """A prefilter over ``catalog`` then ``custom`` expressions (numbered in that order) with ``backend``.

    ``cues``: ``(tag, expression)`` pairs, tags 0-3, whose every match end ``match_cues`` reports (the name detector's), when
    the backend can find them in the same pass (Hyperscan).

    ``later``: ``(expression, triggers)`` pairs of the catalog: an expression whose firing matters only when one of
    its triggers fired too (a context word, to a pattern that requires one). Hyperscan scans these only then, so
    ``match`` may leave one out when none of its triggers fired; RE2 finds them in its one pass.

    ``auto``: Hyperscan if installed, else RE2. Each part is compiled and cached on its own, so adding a custom
    pattern does not recompile the catalog. Custom patterns go to RE2 whatever the backend: they may use
    Unicode classes (which Hyperscan's byte mode does not see) and they are few, so its DFA stays small.
    """
    main = _build(catalog, backend, tuple(cues), tuple(later))
    if not custom:
        return main
    extra = _build(custom, backend if backend == "none" or re2 is None else "re2")
    return _Composite([main, extra])


def _build(expressions: Sequence[str], backend: Backend, cues: tuple[tuple[int, str], ...] = (),
           later: tuple[tuple[int, tuple[int, ...]], ...] = ()) -> Prefilter:
    if backend == "auto":
        backend = "hyperscan" if hyperscan is not None else "re2" if re2 is not None else "none"
    if backend == "hyperscan" and hyperscan is None:
        raise ValueError("prefilter='hyperscan' needs the hyperscan package (pip install hyperscan)")
    if backend == "re2" and re2 is None:
        raise ValueError("prefilter='re2' needs the google-re2 package")
    if backend == "none":
        return _Nothing(len(expressions))
    if backend not in ("hyperscan", "re2"):
        raise ValueError(f"unknown prefilter backend {backend!r}: use auto, hyperscan, re2 or none")
    return _cached(tuple(expressions), backend, cues, later)
