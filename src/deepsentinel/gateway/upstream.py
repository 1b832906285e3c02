"""The gateway's way upstream: the SDK's wire guard over one connection pool.

Every request goes through ``AsyncSentinelTransport`` (check, route, translate, fall back, filter the answer)
over one shared connection pool sized by ``PerformanceConfig``. Each client key gets a guard of its own
(``Sentinel.with_policies``, with the key's policies or the gateway's) over the same pool: the request names the key
and its policies in extensions. So what a guard keeps between calls (the numbering of placeholders, the values
behind them) is one key's: no client sees a number another's value took.

Requests go to the transport directly, not through an ``httpx2.AsyncClient``: the client's layers (default
headers, cookies, auth, redirects, event hooks) do nothing for a proxy, and cost about a tenth of the hop.

Only a few client headers go upstream (the API version and beta flags, our routing headers); the client's
own ``Authorization``/``x-api-key`` never do: the gateway's provider keys replace them.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Mapping

import httpx2

from deepsentinel.config import SentinelConfig
from deepsentinel.gateway.network import AiohttpTransport
from deepsentinel.sentinel import Sentinel
from deepsentinel.transport import AsyncSentinelTransport

#: The request extension naming the policy set (a tuple of names; ``()``: the gateway's own policies).
POLICIES_EXTENSION = "deepsentinel_policies"
#: The request extension naming the client key (its digest; absent or ``""``: no keys, every caller one client).
CLIENT_EXTENSION = "deepsentinel_client"
# Past this many keys seen, the least recently used key's guard is let go (and made anew, its placeholders numbered
# afresh). Each guard's placeholder book holds up to vault.MAX_ENTRIES values (about 11 MB when full), so this bounds
# what keys that fill theirs can hold: about 2.8 GB at worst, against 11 MB for one shared book.
_MAX_GUARDS = 256
_PASSED = ("content-type", "accept", "anthropic-version", "anthropic-beta", "openai-beta",
           "x-deepsentinel-provider", "x-deepsentinel-fallbacks")
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})  # sent with a length even when empty, as httpx2 does
OPENAI_DEFAULT = "https://api.openai.com/v1"
ANTHROPIC_DEFAULT = "https://api.anthropic.com"


class _PolicyTransport(httpx2.AsyncBaseTransport):
    """Hands each request to its client key's guard; all guards share one pool."""

    def __init__(self, sentinel: Sentinel, twin: Callable[[tuple[str, ...]], Sentinel],
                 inner: httpx2.AsyncBaseTransport) -> None:
        self.twin = twin
        self.inner = inner
        self.shared = AsyncSentinelTransport(sentinel, inner)  # without client keys
        self.guards: OrderedDict[tuple[str, tuple[str, ...]], AsyncSentinelTransport] = OrderedDict()

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        client = request.extensions.get(CLIENT_EXTENSION, "")
        names = request.extensions.get(POLICIES_EXTENSION, ())
        if not client and not names:
            return await self.shared.handle_async_request(request)
        guard = self.guards.get((client, names))
        if guard is None:  # a key first seen: its guard is built once (unknown names raise ConfigurationError)
            guard = self.guards[(client, names)] = AsyncSentinelTransport(self.twin(names), self.inner)
            if len(self.guards) > _MAX_GUARDS:
                self.guards.popitem(last=False)
        else:
            self.guards.move_to_end((client, names))
        return await guard.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


class Upstream:
    """Builds upstream requests and sends them through the guard."""

    def __init__(self, sentinel: Sentinel, twin: Callable[[tuple[str, ...]], Sentinel]) -> None:
        perf = sentinel.performance
        limits = httpx2.Limits(
            max_connections=perf.connection_pool_size,
            max_keepalive_connections=perf.connection_pool_size if perf.keep_alive else 0,
            keepalive_expiry=perf.keepalive_expiry if perf.keep_alive else 0,
        )
        inner = AiohttpTransport(limits)
        # The transport's whole-call deadline is the longest of these: PerformanceConfig bounds every call.
        timeout = httpx2.Timeout(connect=perf.connection_timeout, read=perf.read_timeout, write=perf.write_timeout,
                                 pool=perf.pool_timeout)
        self.timeout = timeout.as_dict()  # what an AsyncClient would put in each request's extensions
        self.transport = _PolicyTransport(sentinel, twin, inner)
        config = sentinel.config
        self.openai_base = (config.openai_base_url or OPENAI_DEFAULT).rstrip("/")
        self.anthropic_base = (config.anthropic_base_url or ANTHROPIC_DEFAULT).rstrip("/")
        self.openai_auth = _bearer(config)
        self.anthropic_key = config.anthropic_api_key.get_secret_value() if config.anthropic_api_key else None
        self._urls: dict[str, httpx2.URL] = {}  # parsed once per upstream URL (the gateway's routes are few)

    def build(self, method: str, path: str, query: bytes, headers: Mapping[str, str], body: bytes,
              policies: tuple[str, ...], client: str = "") -> httpx2.Request:
        """The upstream request for a client's ``method path``: the provider's URL and key, the client's body.
        ``client``: the client key's digest (its guard), ``""`` without keys."""
        out = {k: headers[k] for k in _PASSED if k in headers}
        if path.startswith("/v1/messages"):
            url = self.anthropic_base + path
            out.setdefault("anthropic-version", "2023-06-01")
            if self.anthropic_key:
                out["x-api-key"] = self.anthropic_key
        else:
            url = self.openai_base + path.removeprefix("/v1")
            if self.openai_auth:
                out["authorization"] = self.openai_auth
        extensions: dict[str, object] = {"timeout": self.timeout}
        if policies:
            extensions[POLICIES_EXTENSION] = policies
        if client:
            extensions[CLIENT_EXTENSION] = client
        if query:
            parsed = httpx2.URL(url + "?" + query.decode("latin-1"))
        elif url in self._urls:
            parsed = self._urls[url]
        else:
            parsed = self._urls[url] = httpx2.URL(url)
        # The headers httpx2 adds for content=body, in its order, given ready-made with the body as a stream:
        # Request(content=...) builds its header list three times over, a sizeable part of the hop.
        raw = [(b"Host", parsed.netloc), *((k.encode("latin-1"), v.encode("latin-1")) for k, v in out.items())]
        if body:
            raw.append((b"Content-Length", str(len(body)).encode()))
        elif method in _BODY_METHODS:
            raw.insert(1, (b"Content-Length", b"0"))
        request = httpx2.Request(method, parsed, headers=raw, stream=httpx2.ByteStream(body), extensions=extensions)
        request.read()  # the body is in memory already: the request is "read", as with content=
        return request

    async def send(self, request: httpx2.Request) -> httpx2.Response:
        """The guarded answer, its body not read yet (``aread()``/``aiter_raw()``, then ``aclose()``)."""
        return await self.transport.handle_async_request(request)

    async def aclose(self) -> None:
        await self.transport.aclose()


def _bearer(config: SentinelConfig) -> str | None:
    return f"Bearer {config.openai_api_key.get_secret_value()}" if config.openai_api_key else None


__all__ = ["CLIENT_EXTENSION", "POLICIES_EXTENSION", "Upstream"]
