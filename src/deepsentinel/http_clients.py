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
    """A new httpx2 client whose transports guard ``client``'s (its pools are shared): the default one and each
    mounted one (proxies, from ``proxy=``, ``mounts=`` or the environment), with ``client``'s settings (base URL,
    default headers and query parameters, auth, timeout, redirects, event hooks) and its very cookie jar."""
    if isinstance(client, httpx2.AsyncClient):
        guard: Any = AsyncSentinelTransport
        cls: Any = httpx2.AsyncClient
    elif isinstance(client, httpx2.Client):
        guard, cls = SentinelTransport, httpx2.Client
    else:
        raise ConfigurationError(f"cannot guard a {type(client).__name__}: pass an httpx2.Client or httpx2.AsyncClient")
    headers = httpx2.Headers(client.headers)
    headers["accept-encoding"] = UNCOMPRESSED
    # A mount of None sends its URLs through the default transport (a NO_PROXY host): guarded as that is.
    # Already guarded transports (a client built on ours) are kept; only the others get a guard. A request the guard
    # sends elsewhere (a fallback) goes through the transport ``client`` would pick for its URL.
    route = client._transport_for_url

    def guarded_(inner: Any) -> Any:
        return inner if isinstance(inner, (SentinelTransport, AsyncSentinelTransport)) else guard(sentinel, inner, route)

    mounts = {pattern.pattern: None if inner is None else guarded_(inner) for pattern, inner in client._mounts.items()}
    guarded = cls(
        transport=guarded_(client._transport), mounts=mounts, timeout=client.timeout, headers=headers,
        params=client.params, base_url=client.base_url, follow_redirects=client.follow_redirects,
        max_redirects=client.max_redirects, auth=client._auth, event_hooks=client.event_hooks,
        default_encoding=client._default_encoding,
        trust_env=False,  # the environment's proxies, if ``client`` trusted it, are among its mounts already
    )
    guarded._cookies = client._cookies  # one jar: cookies either client receives, both send
    guarded._deepsentinel_origin = client  # keeps the original alive: its finalizer would close the shared pool
    return guarded


def new_http_client(sentinel: Sentinel, sync: bool, sdk_timeout: httpx2.Timeout,
                    sdk_limits: httpx2.Limits) -> httpx2.Client | httpx2.AsyncClient:
    """The guarded client of a ``SentinelClient`` given no ``http_client``: as the SDK's own default, it honours the
    environment's proxies (``HTTPS_PROXY``, ``NO_PROXY``...) and certificates (``SSL_CERT_FILE``). Its timeouts and
    pool are the SDK's defaults (``sdk_timeout``, ``sdk_limits``) but for what ``PerformanceConfig`` sets."""
    perf = sentinel.performance
    # Asked for uncompressed answers from the start, a request needs no header rewritten per call.
    options: dict[str, Any] = {"timeout": explicit_timeout(perf, sdk_timeout) or sdk_timeout, "follow_redirects": True,
                               "limits": limits_of(perf, sdk_limits), "headers": {"accept-encoding": UNCOMPRESSED}}
    plain = httpx2.Client(**options) if sync else httpx2.AsyncClient(**options)
    guarded: httpx2.Client | httpx2.AsyncClient = guard_http_client(plain, sentinel)
    return guarded


_TIMEOUT_FIELDS = frozenset({"connection_timeout", "read_timeout", "write_timeout", "pool_timeout"})


def explicit_timeout(perf: PerformanceConfig, sdk_timeout: httpx2.Timeout) -> httpx2.Timeout | None:
    """The timeouts ``perf`` was given (each one it was not given is the SDK's), or None if it was given none: the
    SDK then keeps its own default, which some of its checks compare against (anthropic refuses a non-streamed
    request too long for it only under its default timeout)."""
    chosen = perf.model_fields_set
    if not chosen & _TIMEOUT_FIELDS:
        return None
    return httpx2.Timeout(
        connect=perf.connection_timeout if "connection_timeout" in chosen else sdk_timeout.connect,
        read=perf.read_timeout if "read_timeout" in chosen else sdk_timeout.read,
        write=perf.write_timeout if "write_timeout" in chosen else sdk_timeout.write,
        pool=perf.pool_timeout if "pool_timeout" in chosen else sdk_timeout.pool,
    )


def limits_of(perf: PerformanceConfig, sdk_limits: httpx2.Limits) -> httpx2.Limits:
    """The SDK's connection limits, but for the pool settings ``perf`` was given."""
    chosen = perf.model_fields_set
    size = perf.connection_pool_size if "connection_pool_size" in chosen else None
    keepalive = sdk_limits.max_keepalive_connections if size is None else size
    expiry = perf.keepalive_expiry if "keepalive_expiry" in chosen else sdk_limits.keepalive_expiry
    return httpx2.Limits(max_connections=sdk_limits.max_connections if size is None else size,
                         max_keepalive_connections=keepalive if perf.keep_alive else 0,
                         keepalive_expiry=expiry if perf.keep_alive else 0)


def sentinel_of(client: Any) -> Sentinel | None:
    """The guard of an httpx2 client whose every transport is guarded (a proxy mount too), else None."""
    transport = getattr(client, "_transport", None)
    if not isinstance(transport, (SentinelTransport, AsyncSentinelTransport)):
        return None
    mounted = getattr(client, "_mounts", {}).values()
    if any(t is not None and not isinstance(t, (SentinelTransport, AsyncSentinelTransport)) for t in mounted):
        return None
    return transport.sentinel


__all__ = ["explicit_timeout", "guard_http_client", "limits_of", "new_http_client", "sentinel_of"]
