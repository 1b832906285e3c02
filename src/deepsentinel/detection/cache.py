"""ScanCache: a bounded LRU of scan results keyed by a keyed hash of the text.

A chat sends its whole history on every turn; with the cache, turn N only pays for the new message. The key is
a BLAKE2b digest keyed with a random per-cache secret, so the cache holds no raw text and its keys cannot be
brute-forced back into short values (a 9-digit SSN has only 10^9 candidates; an unkeyed hash would give it away).
"""

from __future__ import annotations

import hashlib
import os
import threading
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
    """Thread-safe LRU mapping ``hash(text) -> ScanResult``."""

    def __init__(self, maxsize: int = 1024) -> None:
        self.maxsize = maxsize
        # Keyed once: a copy of the keyed state hashes a text without parsing the key and its block again (a
        # third of a key's cost, more when the call around it has pushed hashlib out of the CPU's caches).
        self._keyed = hashlib.blake2b(digest_size=16, key=os.urandom(16))
        self._data: OrderedDict[bytes, ScanResult] = OrderedDict()
        self._lock = threading.Lock()
        self._hits = 0
        self._misses = 0

    def key(self, text: str) -> bytes:
        hasher = self._keyed.copy()
        hasher.update(text.encode("utf-8", "surrogatepass"))
        return hasher.digest()

    def get(self, key: bytes) -> ScanResult | None:
        with self._lock:
            result = self._data.get(key)
            if result is None:
                self._misses += 1
                return None
            self._data.move_to_end(key)
            self._hits += 1
            return result

    def put(self, key: bytes, result: ScanResult) -> None:
        with self._lock:
            self._data[key] = result
            self._data.move_to_end(key)
            while len(self._data) > self.maxsize:
                self._data.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
            self._hits = self._misses = 0

    def info(self) -> CacheInfo:
        with self._lock:
            return CacheInfo(self._hits, self._misses, len(self._data), self.maxsize)
