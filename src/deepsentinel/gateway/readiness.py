"""``GET /readyz``: can this gateway serve? It asks what the gateway depends on beyond its own process.

- the audit database, when the audit trail is in PostgreSQL (``DEEPSENTINEL_AUDIT_URL``): a ``SELECT 1`` on a
  fresh connection;
- Redis, when rate limits are shared through it (``DEEPSENTINEL_REDIS_URL``): a ``PING``.

Each probe is bounded by ``timeout`` seconds. A failed probe makes ``/readyz`` a 503 naming the dependency and
the kind of failure (an exception type or "timed out"), never a URL, host or message: a database error text
can quote the connection string. ``/healthz`` stays a plain liveness check.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from deepsentinel.audit.paths import is_postgres_url

Probe = Callable[[], Awaitable[object]]


@dataclass(frozen=True)
class Check:
    """One dependency's answer: ``detail`` is ``"ok"`` or why not (never a URL or a message)."""

    name: str
    ok: bool
    detail: str


class Readiness:
    """The probes of one gateway process, run together on each ``/readyz``."""

    def __init__(self, probes: dict[str, Probe] | None = None, timeout: float = 2.0) -> None:
        self.probes = dict(probes or {})
        self.timeout = timeout

    async def check(self) -> list[Check]:
        return list(await asyncio.gather(*(self._run(name, probe) for name, probe in self.probes.items())))

    async def _run(self, name: str, probe: Probe) -> Check:
        try:
            await asyncio.wait_for(probe(), self.timeout)
        except asyncio.TimeoutError:
            return Check(name, False, "timed out")
        except Exception as exc:  # any failure means not ready; only its type is shown
            return Check(name, False, f"unreachable ({type(exc).__name__})")
        return Check(name, True, "ok")

    async def answer(self) -> tuple[int, bytes]:
        """The status and JSON body of ``/readyz``."""
        checks = await self.check()
        ready = all(c.ok for c in checks)
        body = {"status": "ok" if ready else "unavailable", "checks": {c.name: c.detail for c in checks}}
        return (200 if ready else 503), json.dumps(body).encode()


def postgres_probe(url: str, timeout: float) -> Probe:
    """``SELECT 1`` on a new connection to ``url`` (psycopg's async connection)."""

    async def probe() -> None:
        import psycopg  # loads only when the audit trail is in PostgreSQL

        async with await psycopg.AsyncConnection.connect(url, connect_timeout=max(2, int(timeout)),
                                                         autocommit=True) as conn:
            await conn.execute("SELECT 1")

    return probe


def audit_probe(audit_url: str | None, audit_on: bool, timeout: float) -> dict[str, Probe]:
    """The audit store's probe, if it is a database the gateway reaches over the network."""
    if audit_on and audit_url and is_postgres_url(audit_url):
        return {"audit": postgres_probe(audit_url, timeout)}
    return {}


__all__ = ["Check", "Probe", "Readiness", "audit_probe", "postgres_probe"]
