"""The gateway's HTTP client to the upstreams: an httpx2 transport over aiohttp's connection pool.

The wire guard speaks httpx2 (``httpx2.Request`` in, ``httpx2.Response`` out); under it, this transport sends
each request with aiohttp, whose HTTP/1.1 parser is C (llhttp) and whose connections are asyncio protocols.
Against httpx2's own transport (httpcore and h11, pure Python) it took the upstream side of a call from
about 350 to about 150 us of CPU (see docs/performance.md). What the gateway relies on is kept:

- **errors** are httpx2's: a connection that cannot be made is ``httpx2.ConnectError``, a timeout one of
  ``httpx2.TimeoutException``'s, a connection cut mid-answer ``httpx2.RemoteProtocolError``/``ReadError``;
- **timeouts** come from the request's ``timeout`` extension (connect, read, pool), per request;
- **backpressure**: aiohttp stops reading the socket while ``READ_BUFFER`` bytes wait unread, so a slow
  client, which slows how fast the relay reads, makes the upstream's sender wait instead of filling memory;
- **keep-alive**: a pooled connection the server closed (or wrote to) while idle is not reused, even when
  the loop has not seen its FIN yet (aiohttp alone retries only idempotent methods; the gateway sends POSTs);
- **TLS** is verified as httpx2 verifies it (``httpx2.create_ssl_context``);
- the body goes out raw: no decompression, no added ``User-Agent``/``Accept``/``Accept-Encoding`` headers.
"""

from __future__ import annotations

import asyncio
import contextlib
import select
import socket
import ssl
import weakref
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import httpx2
from yarl import URL

#: Unread bytes of an answer after which its socket is not read until the relay catches up (twice aiohttp's
#: ``read_bufsize``, its high-water mark).
READ_BUFFER = 256 * 1024
_SKIPPED = ("User-Agent", "Accept", "Accept-Encoding")


class _FreshConnector(aiohttp.TCPConnector):
    """aiohttp's TCP pool, except that an idle connection the server closed or wrote to is dropped, not used."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._served: weakref.WeakSet[Any] = weakref.WeakSet()  # connections that were handed out before

    async def connect(self, req: Any, *args: Any, **kwargs: Any) -> aiohttp.connector.Connection:
        while True:
            conn = await super().connect(req, *args, **kwargs)
            protocol = conn.protocol
            if protocol not in self._served:  # a new connection: a TLS server may still be sending tickets
                self._served.add(protocol)
                _cap_receive_buffer(conn.transport)
                return conn
            if not _readable(conn.transport):
                return conn
            conn.close()  # the server closed it (or it holds stray bytes): never send a request on it


def _cap_receive_buffer(transport: asyncio.BaseTransport | None) -> None:
    # Linux grows a socket's receive buffer for a reader that keeps up (here up to tcp_rmem's maximum, 32 MB),
    # and a gateway that drains what has arrived looks like one: a slow client's stream could then park most of an
    # answer in the kernel, past READ_BUFFER. A set size stops the growing.
    sock = transport.get_extra_info("socket") if transport is not None else None
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, READ_BUFFER)


def _readable(transport: asyncio.BaseTransport | None) -> bool:
    # The loop may not have run since the server's FIN arrived: ask the socket itself, as httpcore does.
    sock = transport.get_extra_info("socket") if transport is not None else None
    if sock is None or sock.fileno() < 0:
        return True
    poller = select.poll()
    poller.register(sock.fileno(), select.POLLIN)
    return bool(poller.poll(0))


class AiohttpTransport(httpx2.AsyncBaseTransport):
    """``AiohttpTransport(limits, verify)``: HTTP/1.1 to any upstream, pooled by ``limits``. The aiohttp
    session is opened on the first request (it belongs to the running loop) and closed by ``aclose()``."""

    def __init__(self, limits: httpx2.Limits, verify: ssl.SSLContext | bool = True) -> None:
        self.limits = limits
        self.ssl = httpx2.create_ssl_context(verify)
        self._session: aiohttp.ClientSession | None = None
        self._urls: dict[str, URL] = {}  # yarl parses each upstream URL once (the gateway's routes are few)

    def _open(self) -> aiohttp.ClientSession:
        limits = self.limits
        keep_alive = limits.max_keepalive_connections != 0 and limits.keepalive_expiry != 0
        pool: dict[str, Any] = {"keepalive_timeout": limits.keepalive_expiry} if keep_alive else {"force_close": True}
        connector = _FreshConnector(limit=limits.max_connections or 0, ssl=self.ssl, **pool)
        self._session = aiohttp.ClientSession(
            connector=connector, cookie_jar=aiohttp.DummyCookieJar(), auto_decompress=False,
            skip_auto_headers=_SKIPPED, timeout=aiohttp.ClientTimeout(total=None), read_bufsize=READ_BUFFER // 2,
            trust_env=False, requote_redirect_url=False,
        )
        return self._session

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        session = self._session or self._open()
        body = await request.aread()
        timeouts = request.extensions.get("timeout") or {}
        connect, pool = timeouts.get("connect"), timeouts.get("pool")
        timeout = aiohttp.ClientTimeout(  # aiohttp's "connect" is the wait for a pooled connection plus connecting
            total=None, connect=None if connect is None or pool is None else connect + pool,
            sock_connect=connect, sock_read=timeouts.get("read"))
        raw = str(request.url)
        url = self._urls.get(raw)
        if url is None:
            url = URL(raw, encoded=True)
            if len(self._urls) < 256:  # the routes, not every query string a client sends
                self._urls[raw] = url
        try:
            answer = await session.request(request.method, url, headers=request.headers.multi_items(),
                                           data=body or None, allow_redirects=False, timeout=timeout)
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
            raise _translate(exc, request) from exc
        return httpx2.Response(answer.status, headers=answer.raw_headers, stream=_Body(answer, request),
                               request=request, extensions={"http_version": b"HTTP/1.1"})

    async def aclose(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()


class _Body(httpx2.AsyncByteStream):
    """An answer's body as it arrives; ``aclose()`` gives the connection back (or closes it, if unread)."""

    def __init__(self, answer: aiohttp.ClientResponse, request: httpx2.Request) -> None:
        self.answer = answer
        self.request = request

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self

    async def __anext__(self) -> bytes:
        # Everything that has arrived, however many HTTP chunks: when the provider's events come faster than the
        # gateway guards them, a burst is guarded in one pass (``EventGuard.feed_many``), which still sends what
        # precedes a cut in it. Nothing waits for more: a lone event goes on as soon as it arrives.
        try:
            chunk = await self.answer.content.readany()
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
            raise _translate(exc, self.request) from exc
        if not chunk:
            raise StopAsyncIteration
        return chunk

    async def aclose(self) -> None:
        self.answer.release()  # aiohttp closes the connection instead when the body was not read to its end


def _translate(exc: BaseException, request: httpx2.Request) -> httpx2.TransportError:
    """aiohttp's failure as the httpx2 error httpcore would have raised (the guard and the gateway map those)."""
    kind = type(exc).__name__  # never the message: it may quote the upstream's URL
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return httpx2.ConnectTimeout(f"connecting timed out ({kind})", request=request)
    if isinstance(exc, (aiohttp.ServerTimeoutError, asyncio.TimeoutError)):
        return httpx2.ReadTimeout(f"reading timed out ({kind})", request=request)
    if isinstance(exc, aiohttp.ClientConnectorError):
        return httpx2.ConnectError(f"connection failed ({kind})", request=request)
    if isinstance(exc, (aiohttp.ServerDisconnectedError, aiohttp.ClientPayloadError, aiohttp.ClientResponseError)):
        return httpx2.RemoteProtocolError(f"the upstream broke the exchange ({kind})", request=request)
    return httpx2.ReadError(f"the connection failed ({kind})", request=request)


__all__ = ["READ_BUFFER", "AiohttpTransport"]
