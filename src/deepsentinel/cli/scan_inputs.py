"""What ``deepsentinel scan`` reads: files, directory trees (with ignores) and stdin, as decoded text.

Directories are walked in sorted order so output is stable; version-control, virtualenv, dependency and cache
directories are skipped unless asked for; binary files (a NUL byte in the first 8 KiB) are skipped.
Text is decoded as UTF-8 with ``surrogateescape``, so ``--in-place`` writes back undecodable bytes unchanged.
"""

from __future__ import annotations

import fnmatch
import os
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from deepsentinel.cli.common import CliError

#: Directory names never descended into (unless named on the command line).
DEFAULT_IGNORES: tuple[str, ...] = (
    ".git", ".hg", ".svn", ".venv", "venv", ".env", "node_modules", "__pycache__", ".mypy_cache",
    ".pytest_cache", ".ruff_cache", ".tox", ".nox", ".idea", ".eggs",
)
STDIN_NAME = "-"
#: Why a binary input was skipped: scan reads text only.
BINARY = "binary (a NUL byte in its first 8 KiB; scan reads text only)"
_SNIFF_BYTES = 8192


@dataclass(frozen=True, slots=True)
class Source:
    """One input to scan: ``display`` is what reports show (a relative path, or ``<stdin>``)."""

    display: str
    path: Path | None  # None for stdin
    size: int
    explicit: bool = False  # named on the command line, not found in a directory walk

    @property
    def is_stdin(self) -> bool:
        return self.path is None


@dataclass(frozen=True, slots=True)
class Skipped:
    """An input that was not scanned, and why (binary, too large, unreadable).

    ``explicit`` marks an input the user named (a path on the command line, or stdin): ``scan`` reports it as
    a failure, where a file met in a directory walk is only counted.
    """

    display: str
    reason: str
    explicit: bool = False


def _excluded(rel: str, name: str, patterns: Sequence[str]) -> bool:
    posix = PurePosixPath(rel)
    return any(
        fnmatch.fnmatch(rel, p) or fnmatch.fnmatch(name, p) or posix.match(p) for p in patterns
    )


def discover(paths: Sequence[str], excludes: Sequence[str], *, use_default_ignores: bool = True) -> list[Source]:
    """Every source named by ``paths`` (``-`` is stdin), directories expanded; raises on a missing path."""
    sources: list[Source] = []
    ignores = DEFAULT_IGNORES if use_default_ignores else ()
    for raw in paths:
        if raw == STDIN_NAME:
            sources.append(Source("<stdin>", None, 0, explicit=True))
            continue
        path = Path(raw)
        if not path.exists():
            raise CliError(f"no such file or directory: {raw}")
        if not path.is_dir():  # a file, or a pipe named on purpose: scan <(git diff) reads /dev/fd/N
            if not _excluded(path.as_posix(), path.name, excludes):
                sources.append(Source(path.as_posix(), path, _size(path), explicit=True))
            continue
        sources.extend(_walk(path, excludes, ignores))
    return sources


def _walk(root: Path, excludes: Sequence[str], ignores: Sequence[str]) -> Iterator[Source]:
    for dirpath, dirnames, filenames in os.walk(root, onerror=None):
        base = Path(dirpath)
        # Pruning in place stops os.walk from descending into ignored directories at all.
        dirnames[:] = sorted(
            d for d in dirnames
            if d not in ignores and not _excluded((base / d).relative_to(root).as_posix(), d, excludes)
        )
        for name in sorted(filenames):
            full = base / name
            rel = full.relative_to(root).as_posix()
            if _excluded(rel, name, excludes) or _excluded(full.as_posix(), name, excludes):
                continue
            if not full.is_file():  # broken symlinks, and FIFOs, sockets, devices: reading one could block forever
                continue
            yield Source(full.as_posix(), full, _size(full))


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def read_source(source: Source, max_bytes: int) -> str | Skipped:
    """The text of a source, or why it was skipped.

    A file named on the command line that cannot be read is an error; one found in a directory walk is skipped
    with a note, so one locked file does not stop a scan of a whole tree.
    """
    if source.path is None:
        data = sys.stdin.buffer.read() if hasattr(sys.stdin, "buffer") else sys.stdin.read().encode("utf-8", "surrogateescape")
    else:
        if source.size > max_bytes:
            return Skipped(
                source.display, f"{_mib(source.size)} MiB, larger than --max-size {_mib(max_bytes)} MiB", source.explicit
            )
        try:
            data = source.path.read_bytes()
        except OSError as exc:
            if source.explicit:
                raise CliError(f"cannot read {source.display}: {exc.strerror or exc}") from exc
            return Skipped(source.display, f"unreadable ({exc.strerror or exc})")
    if b"\x00" in data[:_SNIFF_BYTES]:
        return Skipped(source.display, BINARY, source.explicit)
    return data.decode("utf-8", "surrogateescape")


def _mib(size: int) -> str:
    return f"{size / (1024 * 1024):.3g}"


def write_text(path: Path, text: str) -> None:
    """Write anonymized text, restoring undecodable bytes exactly as they were read."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode("utf-8", "surrogateescape"))
    except OSError as exc:
        raise CliError(f"cannot write {path}: {exc.strerror or exc}") from exc


__all__ = ["BINARY", "DEFAULT_IGNORES", "STDIN_NAME", "Skipped", "Source", "discover", "read_source", "write_text"]
