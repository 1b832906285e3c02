"""The guarded httpx2 clients under the SDK clients: a new one with our transport, or one wrapping a user's own."""

from __future__ import annotations

from typing import Any

import httpx2

from deepsentinel.config import PerformanceConfig
from deepsentinel.errors import ConfigurationError
from deepsentinel.sentinel import Sentinel
from deepsentinel.transport import AsyncSentinelTransport, SentinelTransport
from deepsentinel.wire.headers import UNCOMPRESSED


def guard_http_client(client: Any, sentinel: Sentinel) -> Any:
    """A new httpx2 client whose transport guards ``client``'s transport (its pool is shared)."""
    if isinstance(client, httpx2.AsyncClient):
        transport: Any = AsyncSentinelTransport(sentinel, client._transport)
        cls: Any = httpx2.AsyncClient
    elif isinstance(client, httpx2.Client):
        transport = SentinelTransport(sentinel, client._transport)
        cls = httpx2.Client
    else:
        raise ConfigurationError(f"cannot guard a {type(client).__name__}: pass an httpx2.Client or httpx2.AsyncClient")
    headers = httpx2.Headers(client.headers)
    headers["accept-encoding"] = UNCOMPRESSED
    guarded = cls(
        transport=transport, timeout=client.timeout, headers=headers, base_url=client.base_url,
        follow_redirects=client.follow_redirects, auth=client._auth, event_hooks=client.event_hooks, trust_env=False,
    )
    guarded._deepsentinel_origin = client  # keeps the original alive: its finalizer would close the shared pool
    return guarded


def new_http_client(sentinel: Sentinel, sync: bool) -> httpx2.Client | httpx2.AsyncClient:
    perf = sentinel.performance
    limits = httpx2.Limits(
        max_connections=perf.connection_pool_size,
        max_keepalive_connections=perf.connection_pool_size if perf.keep_alive else 0,
        keepalive_expiry=perf.keepalive_expiry if perf.keep_alive else 0,
    )
    # Asked for uncompressed answers from the start, a request needs no header rewritten per call.
    options: dict[str, Any] = {"timeout": timeout_of(perf), "follow_redirects": True, "trust_env": False,
                               "headers": {"accept-encoding": UNCOMPRESSED}}
    if sync:
        return httpx2.Client(transport=SentinelTransport(sentinel, httpx2.HTTPTransport(limits=limits)), **options)
    return httpx2.AsyncClient(transport=AsyncSentinelTransport(sentinel, httpx2.AsyncHTTPTransport(limits=limits)), **options)


def timeout_of(perf: PerformanceConfig) -> httpx2.Timeout:
    return httpx2.Timeout(connect=perf.connection_timeout, read=perf.read_timeout, write=perf.write_timeout,
                          pool=perf.pool_timeout)


def sentinel_of(client: Any) -> Sentinel | None:
    transport = getattr(client, "_transport", None)
    return transport.sentinel if isinstance(transport, (SentinelTransport, AsyncSentinelTransport)) else None


__all__ = ["guard_http_client", "new_http_client", "sentinel_of", "timeout_of"]
