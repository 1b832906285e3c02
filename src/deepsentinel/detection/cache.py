"""ScanCache: a bounded LRU of scan results keyed by a keyed hash of the text.

A chat sends its whole history on every turn; with the cache, turn N only pays for the new message. The key is a
hash keyed with a random secret, so the cache holds no raw text, its keys cannot be brute-forced back into short
values (a 9-digit SSN has only 10^9 candidates; an unkeyed hash would give it away), and nobody who does not know
the secret can make two texts share one. Where Python's string hash is 64-bit SipHash, the key is that hash of the
text behind a random prefix of the cache's own (so it stays secret under a fixed ``PYTHONHASHSEED`` too); elsewhere
a BLAKE2b digest keyed per cache.

A cache may be shared by callers who must not learn each other's texts (the gateway's clients): a scan that hits is
faster than one that misses, so a caller could time whether someone else sent a text it guesses. Scans run under
``cache_partition(name)`` key their texts with that partition's own prefix: they hit only what the same partition
stored.
"""

from __future__ import annotations

import hashlib
import os
import sys
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from deepsentinel.detection.findings import ScanResult

__all__ = ["CacheInfo", "ScanCache", "cache_partition"]

# Whether ``hash(str)`` is 64-bit SipHash over every string. Not on 32-bit builds (too few bits), nor with FNV or a
# cutoff below which short strings get a weaker hash (build options).
STRING_HASH_FITS = (sys.hash_info.width >= 64 and sys.hash_info.algorithm.startswith("siphash")
                    and sys.hash_info.cutoff == 0)


# The partition of the scans running in this context (None: the shared one). A context variable, not an argument:
# the gateway knows the caller, and dozens of scans on a call's path below it need not.
_PARTITION: ContextVar[str | None] = ContextVar("deepsentinel_cache_partition", default=None)
_MAX_PARTITIONS = 4096  # past this many, the first drawn prefix is forgotten


@contextmanager
def cache_partition(name: str | None) -> Iterator[None]:
    """Scans in this block hit only the scan-cache entries that scans under the same ``name`` stored (None: the
    shared partition, where scans outside any block go)."""
    token = _PARTITION.set(name)
    try:
        yield
    finally:
        _PARTITION.reset(token)


@dataclass(frozen=True, slots=True)
class CacheInfo:
    """Counters of a :class:`ScanCache`."""

    hits: int
    misses: int
    size: int
    maxsize: int


class ScanCache:
    """Thread-safe LRU mapping a keyed hash of a text to its ``ScanResult``.

    Every scan looks its text up, and a fresh text stores its result: neither takes a lock. Each step is one
    ``OrderedDict`` operation in C, atomic under CPython's GIL, and a result is immutable and keyed by its text's
    content, so no interleaving can hand a scan another text's result; at worst two threads storing at once leave
    the cache an entry or two over ``maxsize`` until the next store, or lose a hit or miss count. (With the CPU's
    caches cold, as they are between two calls, the lock cost a lookup and a store about 10 of their 25 µs; see
    ``benchmarks/guard_in_the_cold.py``. An ``OrderedDict`` evicts its oldest in constant time, at any size.)
    """

    def __init__(self, maxsize: int = 1024, *, string_hash: bool = STRING_HASH_FITS) -> None:
        self.maxsize = maxsize
        # The string hash costs a scan about 15 µs less than BLAKE2b when the call around it has pushed hashlib out
        # of the CPU's caches (docs/performance.md, stop 28): it is C the interpreter runs all the time. The prefix is
        # what keys it: the process's own SipHash key is random unless PYTHONHASHSEED fixes it, and then anyone who
        # knows the seed could search for two texts with one hash offline. 64 bits suffice: to be handed another
        # text's result, a text must share a key with one of at most ``maxsize`` others it cannot see, about
        # 2^-54 a try at the default size. (The engine also compares the lengths, a cheap second check.)
        # A partition's prefix is drawn the same way, once; the digest path hashes the prefix too.
        self._string_hash = string_hash
        self._prefix = os.urandom(16).hex()
        self._partitions: dict[str, str] = {}
        # BLAKE2b keyed once: a copy of the keyed state hashes a text without parsing the key and its block again.
        self._keyed = hashlib.blake2b(digest_size=16, key=os.urandom(16))
        self._data: OrderedDict[int | bytes, ScanResult] = OrderedDict()  # least recently used first
        self._hits = 0
        self._misses = 0

    def key(self, text: str) -> int | bytes:
        partition = _PARTITION.get()
        prefix = self._prefix if partition is None else self._partition_prefix(partition)
        if self._string_hash and type(text) is str:  # a subclass may define its own __hash__
            return hash(prefix + text)
        hasher = self._keyed.copy()
        hasher.update((prefix + text).encode("utf-8", "surrogatepass"))
        return hasher.digest()

    def _partition_prefix(self, partition: str) -> str:
        prefix = self._partitions.get(partition)
        if prefix is None:
            # setdefault: two threads drawing at once agree on one
            prefix = self._partitions.setdefault(partition, os.urandom(16).hex())
            while len(self._partitions) > _MAX_PARTITIONS:  # the first drawn: its entries only miss, then age out
                try:
                    del self._partitions[next(iter(self._partitions))]
                except (KeyError, RuntimeError, StopIteration):  # another thread changed it meanwhile
                    break
        return prefix

    def get(self, key: int | bytes) -> ScanResult | None:
        result = self._data.get(key)
        if result is None:
            self._misses += 1
            return None
        self._hits += 1
        try:  # noqa: SIM105 - contextlib.suppress is a Python-level call more on this path
            self._data.move_to_end(key)
        except KeyError:  # evicted by another thread meanwhile: still this text's result
            pass
        return result

    def put(self, key: int | bytes, result: ScanResult) -> None:
        data = self._data
        data[key] = result
        try:
            data.move_to_end(key)  # stored again (two threads scanned one text): to the back
            while len(data) > self.maxsize:
                data.popitem(last=False)
        except KeyError:  # another thread evicted it, or cleared the cache, meanwhile
            pass

    def clear(self) -> None:
        self._data.clear()
        self._hits = self._misses = 0

    def info(self) -> CacheInfo:
        return CacheInfo(self._hits, self._misses, len(self._data), self.maxsize)
