"""Who is calling: the client key from ``Authorization: Bearer`` or ``x-api-key``, checked against the
environment's keys and the key database.

Database answers are cached for a few seconds (found and not found alike), so a flood of unknown keys does
not become a flood of queries, and a revoked key stops working on every node within that time.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Mapping

from deepsentinel.gateway.keys import ClientKey, KeyStore, digest

CACHE_SECONDS = 5.0  # how long a revoked key may still work on a node
_CACHE_SIZE = 10_000


def presented_key(headers: Mapping[str, str]) -> str | None:
    """The key a request carries (header names lower-case), or None."""
    auth = headers.get("authorization", "")
    if auth[:7].lower() == "bearer " and auth[7:].strip():
        return auth[7:].strip()
    return headers.get("x-api-key") or None


class Authenticator:
    """Resolves a presented key to a ``ClientKey`` (or None)."""

    def __init__(self, env_keys: Mapping[str, ClientKey], store: KeyStore | None, *,
                 cache_seconds: float = CACHE_SECONDS) -> None:
        self.env_keys = dict(env_keys)
        self.store = store
        self.cache_seconds = cache_seconds
        self._cache: OrderedDict[str, tuple[float, ClientKey | None]] = OrderedDict()

    @property
    def empty(self) -> bool:
        """No key at all: neither in the environment nor (if there is one) in the database."""
        if self.env_keys:
            return False
        return self.store is None or not any(not k.revoked for k in self.store.list())

    async def lookup(self, key: str) -> ClientKey | None:
        d = digest(key)
        found = self.env_keys.get(d)
        if found is not None or self.store is None:
            return found
        now = time.monotonic()
        cached = self._cache.get(d)
        if cached is not None and cached[0] > now:
            return cached[1]
        found = await asyncio.to_thread(self.store.find, d)
        self._cache[d] = (now + self.cache_seconds, found)
        self._cache.move_to_end(d)
        while len(self._cache) > _CACHE_SIZE:
            self._cache.popitem(last=False)
        return found


__all__ = ["CACHE_SECONDS", "Authenticator", "presented_key"]
