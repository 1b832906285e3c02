"""Prefilters: one native pass over a text that tells which patterns can match it at all.

The engine runs a pattern with Python ``re`` only when its prefilter expression fired, so a text without
findings costs one native pass. Two backends, same answers (a superset of the patterns that really match):

* ``hyperscan``: Hyperscan databases in prefilter mode (``hyperscan_prefilter.py``) (``HS_FLAG_PREFILTER | HS_FLAG_SINGLEMATCH``). Its
  automata have no cache to warm up, so text it has never seen is as fast as text it has: this is what keeps
  a cold engine fast. Used when the ``hyperscan`` wheel is installed (x86-64 Linux and macOS).
* ``re2``: an RE2 set. Everywhere ``google-re2`` installs, but its lazily built DFA is slow on fresh text
  (it builds states as it goes), so it is the fallback.

Databases are compiled once per process per expression list and shared by every engine with the same
catalog; compiled Hyperscan databases are also kept on disk (``hyperscan_db.py``).
"""

from __future__ import annotations

import time
from array import array
from collections.abc import Sequence
from functools import lru_cache
from typing import Any, Literal, Protocol

from deepsentinel.detection.byte_text import one_byte_per_char
from deepsentinel.detection.hyperscan_db import cache_dir, hyperscan, hyperscan_available
from deepsentinel.detection.hyperscan_prefilter import HyperscanPrefilter, by_end

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

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until every database is compiled (a first start may compile one on a thread); whether it is."""
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

    def wait(self, timeout: float | None = None) -> bool:
        return True


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

    def wait(self, timeout: float | None = None) -> bool:
        return True


@lru_cache(maxsize=64)
def _cached(expressions: tuple[str, ...], backend: str, cues: tuple[tuple[int, str], ...] = (),
            later: tuple[tuple[int, tuple[int, ...]], ...] = ()) -> Prefilter:
    if backend == "hyperscan":
        return HyperscanPrefilter(expressions, cues, later)
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

    def wait(self, timeout: float | None = None) -> bool:
        deadline = None if timeout is None else time.monotonic() + timeout
        return all([part.wait(None if deadline is None else max(0.0, deadline - time.monotonic()))
                    for _, part in self._parts])

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
