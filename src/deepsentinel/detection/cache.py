"""ScanCache: a bounded LRU of scan results keyed by a keyed hash of the text.

A chat sends its whole history on every turn; with the cache, turn N only pays for the new message. The key is a
hash keyed with a random secret, so the cache holds no raw text and its keys cannot be brute-forced back into short
values (a 9-digit SSN has only 10^9 candidates; an unkeyed hash would give it away), nor two texts be made to share
one by anyone who does not know the secret. Python's own string hash is such a hash (SipHash, keyed at random per
process) unless ``PYTHONHASHSEED`` fixes its key; then a BLAKE2b digest keyed per cache is used instead.
"""

from __future__ import annotations

import hashlib
import os
import sys
from collections import OrderedDict
from dataclasses import dataclass

from deepsentinel.detection.findings import ScanResult

__all__ = ["CacheInfo", "ScanCache"]

# Whether ``hash(str)`` is keyed with a secret of this process: not under a fixed PYTHONHASHSEED (0 turns the key
# off; any other number makes it one anybody who reads the deployment's environment knows). With ``-E`` the setting is
# ignored and the key random, but reading it here still chooses BLAKE2b: the safe way round.
STRING_HASH_KEYED = bool(sys.flags.hash_randomization) and os.environ.get("PYTHONHASHSEED", "random") == "random"


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

    def __init__(self, maxsize: int = 1024, *, string_hash: bool = STRING_HASH_KEYED) -> None:
        self.maxsize = maxsize
        # The string hash costs a call 20 µs less than BLAKE2b when the call around it has pushed hashlib out of the
        # CPU's caches (benchmarks/guard_in_the_cold.py): it is C the interpreter runs all the time, and needs no
        # encoded copy of the text. Its 64 bits suffice: to be handed another text's result, a text must share a
        # key with one of at most ``maxsize`` others it cannot see, a chance of about 2^-54 a try (and the engine
        # also compares the lengths).
        self._string_hash = string_hash
        # BLAKE2b keyed once: a copy of the keyed state hashes a text without parsing the key and its block again.
        self._keyed = hashlib.blake2b(digest_size=16, key=os.urandom(16))
        self._data: OrderedDict[int | bytes, ScanResult] = OrderedDict()  # least recently used first
        self._hits = 0
        self._misses = 0

    def key(self, text: str) -> int | bytes:
        if self._string_hash and type(text) is str:  # a subclass may define its own __hash__
            return hash(text)
        hasher = self._keyed.copy()
        hasher.update(text.encode("utf-8", "surrogatepass"))
        return hasher.digest()

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
