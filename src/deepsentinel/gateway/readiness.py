"""``GET /readyz``: can this gateway serve? It asks what the gateway depends on beyond its own process.

- the audit database, when the audit trail is in PostgreSQL (``DEEPSENTINEL_AUDIT_URL``): a ``SELECT 1`` on a
  connection kept for the probes (opened again after any failure), and one query for all the ``/readyz``
  calls that arrive while it runs: an unauthenticated endpoint must not open a database connection per call;
- Redis, when rate limits are shared through it (``DEEPSENTINEL_REDIS_URL``): a ``PING``.

Each probe is bounded by ``timeout`` seconds. A failed probe makes ``/readyz`` a 503 naming the dependency and
the kind of failure (an exception type or "timed out"), never a URL, host or message: a database error text
can quote the connection string. ``/healthz`` stays a plain liveness check.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

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

    async def aclose(self) -> None:
        """Close what the probes keep open (the database connection)."""
        for probe in self.probes.values():
            if isinstance(probe, PostgresProbe):
                await probe.aclose()

    async def answer(self) -> tuple[int, bytes]:
        """The status and JSON body of ``/readyz``."""
        checks = await self.check()
        ready = all(c.ok for c in checks)
        body = {"status": "ok" if ready else "unavailable", "checks": {c.name: c.detail for c in checks}}
        return (200 if ready else 503), json.dumps(body).encode()


class PostgresProbe:
    """``await probe()``: ``SELECT 1`` on a kept connection to ``url`` (psycopg's async connection), raising
    unless the database answers within ``timeout`` seconds. Calls made while a query runs wait for that one."""

    def __init__(self, url: str, timeout: float) -> None:
        self.url = url
        self.timeout = timeout
        self._conn: Any = None  # a psycopg.AsyncConnection, once opened (psycopg loads only when needed)
        self._running: asyncio.Future[None] | None = None

    async def __call__(self) -> None:
        if self._running is None:
            self._running = asyncio.ensure_future(self._select())
            self._running.add_done_callback(self._done)
        await asyncio.shield(self._running)  # a caller that gives up does not cancel the others' query

    def _done(self, running: asyncio.Future[None]) -> None:
        self._running = None
        if not running.cancelled():
            running.exception()  # seen by the callers that waited; none may be left to see it

    async def _select(self) -> None:
        import psycopg  # loads only when the audit trail is in PostgreSQL

        try:
            if self._conn is None:
                self._conn = await psycopg.AsyncConnection.connect(
                    self.url, connect_timeout=max(2, int(self.timeout)), autocommit=True)
            await asyncio.wait_for(self._conn.execute("SELECT 1"), self.timeout)
        except BaseException:
            await self._drop()  # broken, timed out or cancelled mid-query: the next probe connects afresh
            raise

    async def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                await conn.close()

    async def aclose(self) -> None:
        running = self._running
        if running is not None:
            running.cancel()
            with contextlib.suppress(BaseException):
                await running
        await self._drop()


def audit_probe(audit_url: str | None, audit_on: bool, timeout: float) -> dict[str, Probe]:
    """The audit store's probe, if it is a database the gateway reaches over the network."""
    if audit_on and audit_url and is_postgres_url(audit_url):
        return {"audit": PostgresProbe(audit_url, timeout)}
    return {}


__all__ = ["Check", "PostgresProbe", "Probe", "Readiness", "audit_probe"]
