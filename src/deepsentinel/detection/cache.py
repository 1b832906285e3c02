"""ScanCache: a bounded LRU of scan results keyed by a keyed hash of the text.

A chat sends its whole history on every turn; with the cache, turn N only pays for the new message. The key is
a BLAKE2b digest keyed with a random per-cache secret, so the cache holds no raw text and its keys cannot be
brute-forced back into short values (a 9-digit SSN has only 10^9 candidates; an unkeyed hash would give it away).
"""

from __future__ import annotations

import hashlib
import os
from collections import OrderedDict
from dataclasses import dataclass

from deepsentinel.detection.findings import ScanResult

__all__ = ["CacheInfo", "ScanCache"]


@dataclass(frozen=True, slots=True)
class CacheInfo:
    """Counters of a :class:`ScanCache`."""

    hits: int
    misses: int
    size: int
    maxsize: int


class ScanCache:
    """Thread-safe LRU mapping ``hash(text) -> ScanResult``.

    Every scan looks its text up, and a fresh text stores its result: neither takes a lock. Each step is one
    ``OrderedDict`` operation in C, atomic under CPython's GIL, and a result is immutable and keyed by its text's
    content, so no interleaving can hand a scan another text's result; at worst two threads storing at once leave
    the cache an entry or two over ``maxsize`` until the next store, or lose a hit or miss count. (With the CPU's
    caches cold, as they are between two calls, the lock cost a lookup and a store about 10 of their 25 µs; see
    ``benchmarks/guard_in_the_cold.py``. An ``OrderedDict`` evicts its oldest in constant time, at any size.)
    """

    def __init__(self, maxsize: int = 1024) -> None:
        self.maxsize = maxsize
        # Keyed once: a copy of the keyed state hashes a text without parsing the key and its block again (a
        # third of a key's cost, more when the call around it has pushed hashlib out of the CPU's caches).
        self._keyed = hashlib.blake2b(digest_size=16, key=os.urandom(16))
        self._data: OrderedDict[bytes, ScanResult] = OrderedDict()  # least recently used first
        self._hits = 0
        self._misses = 0

    def key(self, text: str) -> bytes:
        hasher = self._keyed.copy()
        hasher.update(text.encode("utf-8", "surrogatepass"))
        return hasher.digest()

    def get(self, key: bytes) -> ScanResult | None:
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

    def put(self, key: bytes, result: ScanResult) -> None:
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
