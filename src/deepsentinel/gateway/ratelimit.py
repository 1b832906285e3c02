"""Per-key rate limits: requests per minute in fixed one-minute windows.

With ``DEEPSENTINEL_REDIS_URL`` the counters live in Redis, shared by every worker and node; otherwise they
are kept in this process. If Redis cannot be reached the process's own counters take over (logged): a rate
limit is a fairness control, and refusing every call while Redis restarts would be worse.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

log = logging.getLogger("deepsentinel.gateway")

_WINDOW = 60


@dataclass(frozen=True)
class Verdict:
    """Whether a request may go on; ``retry_after`` seconds until the window resets when not."""

    allowed: bool
    retry_after: int = 0


class MemoryLimiter:
    """Counters in this process."""

    def __init__(self) -> None:
        self._counts: dict[tuple[str, int], int] = {}

    async def hit(self, name: str, limit: int) -> Verdict:
        now = time.time()
        window = int(now // _WINDOW)
        if len(self._counts) > 10_000:  # forget windows that have passed
            self._counts = {k: v for k, v in self._counts.items() if k[1] >= window}
        count = self._counts.get((name, window), 0) + 1
        self._counts[(name, window)] = count
        return _verdict(count, limit, now)

    async def close(self) -> None:
        return None


class RedisLimiter:
    """Counters in Redis (``INCR`` + ``EXPIRE`` in one transaction), shared by every gateway process."""

    def __init__(self, url: str) -> None:
        import redis.asyncio as aioredis  # loads only when configured

        self._redis: Any = aioredis.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0)
        self._fallback = MemoryLimiter()

    async def hit(self, name: str, limit: int) -> Verdict:
        now = time.time()
        key = f"deepsentinel:rl:{name}:{int(now // _WINDOW)}"
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                count, _ = await pipe.incr(key).expire(key, _WINDOW + 1).execute()
        except Exception as exc:  # redis.RedisError, OSError, timeouts: degrade, do not refuse
            log.warning("rate limit store unreachable (%s); counting in this process", type(exc).__name__)
            return await self._fallback.hit(name, limit)
        return _verdict(int(count), limit, now)

    async def ping(self) -> None:
        """Raises unless Redis answers (the readiness probe: no fallback here)."""
        await self._redis.ping()

    async def close(self) -> None:
        await self._redis.aclose()


def _verdict(count: int, limit: int, now: float) -> Verdict:
    if limit <= 0 or count <= limit:
        return Verdict(True)
    return Verdict(False, max(1, int(_WINDOW - now % _WINDOW + 0.999)))


Limiter = MemoryLimiter | RedisLimiter


def limiter_for(redis_url: str | None) -> Limiter:
    return RedisLimiter(redis_url) if redis_url else MemoryLimiter()


__all__ = ["Limiter", "MemoryLimiter", "RedisLimiter", "Verdict", "limiter_for"]
