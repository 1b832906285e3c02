"""Hyperscan databases, compiled once and kept on disk.

Compiling the built-in catalog with Hyperscan takes seconds, so a compiled database is kept in a cache directory
(``$DEEPSENTINEL_CACHE_DIR``, else ``$XDG_CACHE_HOME/deepsentinel``, else ``~/.cache/deepsentinel``; an empty
``DEEPSENTINEL_CACHE_DIR`` turns it off) and loaded in milliseconds by the next process. It holds compiled
patterns only, never text. A file that does not load (another Hyperscan version or CPU) is compiled again and
replaced.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

try:
    import hyperscan
except ImportError:  # pragma: no cover - exercised where no wheel exists; the RE2 backend is tested directly
    hyperscan = None  # type: ignore[assignment]

__all__ = ["PREFILTER_FLAGS", "cache_dir", "cache_writable", "cached_expressions", "compile_database",
           "compile_expressions", "compiles", "hyperscan", "hyperscan_available"]

#: Prefilter mode: each expression reports once, a superset of where it really matches.
PREFILTER_FLAGS = (hyperscan.HS_FLAG_PREFILTER | hyperscan.HS_FLAG_SINGLEMATCH | hyperscan.HS_FLAG_ALLOWEMPTY
                   if hyperscan is not None else 0)


def hyperscan_available() -> bool:
    """Whether the Hyperscan backend can be used here."""
    return hyperscan is not None


def cache_dir() -> Path | None:
    """Where compiled databases are kept (None: nowhere)."""
    configured = os.environ.get("DEEPSENTINEL_CACHE_DIR")
    if configured is not None:
        return Path(configured) if configured else None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "deepsentinel"


def cache_writable() -> bool:
    """Whether compiled databases can be kept in the cache directory (tried once per directory)."""
    folder = cache_dir()
    return folder is not None and _writable(str(folder))


@lru_cache(maxsize=8)
def _writable(folder: str) -> bool:
    try:
        os.makedirs(folder, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".probe-")
        os.close(fd)
        os.unlink(probe)
    except OSError:
        return False
    return True


def compile_database(expressions: Sequence[str], ids: list[int], *, exact: bool = False, store: bool = False) -> Any:
    """A Hyperscan block-mode database of ``expressions`` (numbered ``ids``), from the cache directory when it
    was compiled before. ``exact``: report every end of every match (default: prefilter mode, each id once).
    ``store``: keep it in the cache directory even when it has few expressions (long alternations compile slowly)."""
    flags = 0 if exact else PREFILTER_FLAGS
    return compile_expressions(expressions, ids, flags, store=store)


def compile_expressions(expressions: Sequence[str], ids: list[int], flags: int | list[int], *, store: bool = False) -> Any:
    """A block-mode database of ``expressions`` with per-expression ``flags``, from the cache directory when it was
    compiled before (``store``: keep it there even when it has few expressions)."""
    db = cached_expressions(expressions, ids, flags)
    if db is not None:
        return db
    db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
    db.compile(expressions=[e.encode() for e in expressions], ids=ids, elements=len(ids),
               flags=flags if isinstance(flags, list) else [flags] * len(ids))
    path = _cache_path(expressions, ids, flags)
    if path is not None and (store or len(expressions) > 8):  # small ones compile faster than a file is read
        _store(path, hyperscan.dumpb(db))
    return db


def cached_expressions(expressions: Sequence[str], ids: list[int], flags: int | list[int]) -> Any | None:
    """The database ``compile_expressions`` would give, when the cache directory holds it (else None)."""
    path = _cache_path(expressions, ids, flags)
    if path is None or not path.is_file():
        return None
    try:
        db = hyperscan.loadb(path.read_bytes(), hyperscan.HS_MODE_BLOCK)
        db.scratch = hyperscan.Scratch(db)
        return db
    except (OSError, hyperscan.error):
        return None  # compiled elsewhere or damaged: compiled again


def _cache_path(expressions: Sequence[str], ids: list[int], flags: int | list[int]) -> Path | None:
    folder = cache_dir()
    if folder is None:
        return None
    key = hashlib.sha256(repr((getattr(hyperscan, "__version__", ""), flags, list(expressions), ids)).encode()).hexdigest()[:32]
    return folder / f"prefilter-{key}.hsdb"


def _store(path: Path, data: bytes) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".prefilter-")
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, path)  # atomic: a concurrent reader sees the old file or the whole new one
    except OSError:
        pass  # a read-only home: every process compiles, nothing else changes


def compiles(expression: str, flags: int) -> bool:
    """Whether Hyperscan accepts ``expression`` with ``flags``."""
    try:
        compile_expressions([expression], [0], flags)
    except hyperscan.error:
        return False
    return True
