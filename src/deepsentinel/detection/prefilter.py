"""Prefilters: one native pass over a text that tells which patterns can match it at all.

The engine runs a pattern with Python ``re`` only when its prefilter expression fired, so a text without
findings costs one native pass. Two backends, same answers (a superset of the patterns that really match):

* ``hyperscan``: a Hyperscan database in prefilter mode (``HS_FLAG_PREFILTER | HS_FLAG_SINGLEMATCH``). Its
  automata have no cache to warm up, so text it has never seen is as fast as text it has: this is what keeps
  a cold engine fast. Used when the ``hyperscan`` wheel is installed (x86-64 Linux and macOS).
* ``re2``: an RE2 set. Everywhere ``google-re2`` installs, but its lazily built DFA is slow on fresh text
  (it builds states as it goes), so it is the fallback.

Databases are compiled once per process per expression list and shared by every engine with the same
catalog. Compiling the built-in catalog with Hyperscan takes seconds, so the compiled database is also kept in
a cache directory (``$DEEPSENTINEL_CACHE_DIR``, else ``$XDG_CACHE_HOME/deepsentinel``, else
``~/.cache/deepsentinel``; an empty ``DEEPSENTINEL_CACHE_DIR`` turns it off) and loaded in milliseconds by the
next process. It holds compiled patterns only, never text. A file that does not load (another Hyperscan
version or CPU) is compiled again and replaced.
"""

from __future__ import annotations

import codecs
import hashlib
import os
import tempfile
import threading
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, Protocol

try:
    import hyperscan
except ImportError:  # pragma: no cover - exercised where no wheel exists; the RE2 backend is tested directly
    hyperscan = None  # type: ignore[assignment]

try:
    import re2
except ImportError:  # pragma: no cover - google-re2 is a dependency
    re2 = None

__all__ = ["Backend", "Prefilter", "build_prefilter", "cache_dir", "compile_database", "hyperscan_available",
           "one_byte_per_char"]

Backend = Literal["auto", "hyperscan", "re2", "none"]


class Prefilter(Protocol):
    """``ids[i]`` is the id of expression ``i`` (-1: not compilable, always run); ``match`` the ids that fired.

    ``data``, when given, is ``one_byte_per_char(text)``, already computed by the caller.
    """

    ids: list[int]
    backend: str

    def match(self, text: str, data: bytes | None = None) -> frozenset[int]: ...


def hyperscan_available() -> bool:
    """Whether the Hyperscan backend can be used here."""
    return hyperscan is not None


_PREFILTER_FLAGS = (hyperscan.HS_FLAG_PREFILTER | hyperscan.HS_FLAG_SINGLEMATCH | hyperscan.HS_FLAG_ALLOWEMPTY
                    if hyperscan is not None else 0)


class _Nothing:
    """No prefilter: every pattern runs (same findings, slower)."""

    backend = "none"

    def __init__(self, count: int) -> None:
        self.ids = [-1] * count

    def match(self, text: str, data: bytes | None = None) -> frozenset[int]:
        return frozenset()


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


class _Hyperscan:
    """A Hyperscan block-mode database; each expression reports at most once per scan."""

    backend = "hyperscan"

    def __init__(self, expressions: Sequence[str]) -> None:
        # Byte mode, not UTF-8 mode (which takes ten times longer to compile): the text is scanned with each
        # non-ASCII character as one 0x80 byte, which, like the character under ``re.ASCII``, matches only
        # negated classes and ".", once. Patterns with Unicode classes (custom ones) are kept out (always run).
        flags = _PREFILTER_FLAGS
        self._db: Any = None
        # The database's own scratch space is cheaper per call than a separate Scratch object; the lock makes
        # sharing it across threads safe (scans are microseconds, so contention is short).
        self._lock = threading.Lock()
        self.ids = list(range(len(expressions)))
        try:
            self._db = _compile(expressions, self.ids, flags)
        except hyperscan.error:
            # Some expression is not Hyperscan syntax (look-arounds in a custom pattern): find which, one by one
            # (compiling the whole catalog takes a second or two, so only on this rare path), and always run it.
            self.ids = [i if _compiles(e, flags) else -1 for i, e in enumerate(expressions)]
            chosen = [i for i in self.ids if i >= 0]
            if chosen:
                self._db = _compile([expressions[i] for i in chosen], chosen, flags)

    def match(self, text: str, data: bytes | None = None) -> frozenset[int]:
        if self._db is None or not text:
            return frozenset()
        hits: set[int] = set()
        if data is None:
            data = one_byte_per_char(text)
        with self._lock:
            self._db.scan(data, match_event_handler=_collect, context=hits)
        return frozenset(hits)


def _collect(id_: int, start: int, end: int, flags: int, hits: set[int]) -> None:
    """Hyperscan's match callback: note which expression fired (one function for every scan, no closure)."""
    hits.add(id_)


def _one_byte(error: UnicodeError) -> tuple[bytes, int]:
    assert isinstance(error, UnicodeEncodeError)
    return b"\x80" * (error.end - error.start), error.end


_ONE_BYTE = "deepsentinel-one-byte"
codecs.register_error(_ONE_BYTE, _one_byte)  # a named handler in the codec registry; nothing else changes


def one_byte_per_char(text: str) -> bytes:
    """``text`` as bytes with each non-ASCII character as one 0x80 byte: byte offsets are character offsets."""
    return text.encode("ascii", _ONE_BYTE)


def cache_dir() -> Path | None:
    """Where compiled databases are kept (None: nowhere)."""
    configured = os.environ.get("DEEPSENTINEL_CACHE_DIR")
    if configured is not None:
        return Path(configured) if configured else None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "deepsentinel"


def compile_database(expressions: Sequence[str], ids: list[int], *, exact: bool = False) -> Any:
    """A Hyperscan block-mode database of ``expressions`` (numbered ``ids``), from the cache directory when it
    was compiled before. ``exact``: report every end of every match (default: prefilter mode, each id once)."""
    flags = 0 if exact else _PREFILTER_FLAGS
    return _compile(expressions, ids, flags)


def _compile(expressions: Sequence[str], ids: list[int], flags: int) -> Any:
    key = hashlib.sha256(repr((getattr(hyperscan, "__version__", ""), flags, list(expressions), ids)).encode()).hexdigest()[:32]
    folder = cache_dir()
    path = folder / f"prefilter-{key}.hsdb" if folder is not None else None
    if path is not None and path.is_file():
        try:
            db = hyperscan.loadb(path.read_bytes(), hyperscan.HS_MODE_BLOCK)
            db.scratch = hyperscan.Scratch(db)
            return db
        except (OSError, hyperscan.error):
            pass  # compiled elsewhere or damaged: compile again below
    db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
    db.compile(expressions=[e.encode() for e in expressions], ids=ids, elements=len(ids), flags=[flags] * len(ids))
    if path is not None and len(expressions) > 8:  # small databases compile faster than a file is read
        _store(path, hyperscan.dumpb(db))
    return db


def _store(path: Path, data: bytes) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".prefilter-")
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, path)  # atomic: a concurrent reader sees the old file or the whole new one
    except OSError:
        pass  # a read-only home: every process compiles, nothing else changes


def _compiles(expression: str, flags: int) -> bool:
    try:
        _compile([expression], [0], flags)
    except hyperscan.error:
        return False
    return True


@lru_cache(maxsize=64)
def _cached(expressions: tuple[str, ...], backend: str) -> Prefilter:
    if backend == "hyperscan":
        return _Hyperscan(expressions)
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
        hits: set[int] = set()
        for offset, part in self._parts:
            hits.update(i + offset for i in part.match(text, data))
        return frozenset(hits)


def build_prefilter(catalog: Sequence[str], custom: Sequence[str] = (), backend: Backend = "auto") -> Prefilter:
    """A prefilter over ``catalog`` then ``custom`` expressions (numbered in that order) with ``backend``.

    ``auto``: Hyperscan if installed, else RE2. Each part is compiled and cached on its own, so adding a custom
    pattern does not recompile the catalog. Custom patterns go to RE2 whatever the backend: they may use
    Unicode classes (which Hyperscan's byte mode does not see) and they are few, so its DFA stays small.
    """
    main = _build(catalog, backend)
    if not custom:
        return main
    extra = _build(custom, backend if backend == "none" or re2 is None else "re2")
    return _Composite([main, extra])


def _build(expressions: Sequence[str], backend: Backend) -> Prefilter:
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
    return _cached(tuple(expressions), backend)
