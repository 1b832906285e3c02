"""The httpx2 transports that run the wire guard: the SDK's only network seam.

``SentinelTransport`` (sync) and ``AsyncSentinelTransport`` (async) wrap the real transport. Each request goes
through an ``Exchange`` (``wire/exchange.py``): checked, routed, sent to one target after another while they
fail over, and answered with a body filtered by the guard. Both shells only move bytes; the decisions are the
exchange's, so the gateway makes the same ones.

Any SDK built on httpx2 can use them: ``httpx2.Client(transport=SentinelTransport(sentinel))``, or
``deepsentinel.protect(httpx2.Client())``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar, cast

import anyio
import httpx2

from deepsentinel.errors import DeepSentinelError, ProviderTimeoutError
from deepsentinel.response_bodies import PROVIDER_EXTENSION, WholeBody, caller_response, in_callers_family
from deepsentinel.sentinel import Sentinel
from deepsentinel.stream_bodies import AsyncBody, SyncBody
from deepsentinel.wire.body import BodyFilter
from deepsentinel.wire.exchange import Exchange
from deepsentinel.wire.headers import UNCOMPRESSED, CallerHeaders
from deepsentinel.wire.scope import current_scope


class SentinelTransport(httpx2.BaseTransport):
    """A sync transport that guards every request and response passing through ``inner``."""

    def __init__(self, sentinel: Sentinel, inner: httpx2.BaseTransport | None = None,
                 route: Callable[[httpx2.URL], httpx2.BaseTransport] | None = None) -> None:
        self.sentinel = sentinel
        self.inner = inner if inner is not None else httpx2.HTTPTransport()
        # The transport for a request the guard sends to another URL than the caller's (a fallback, a routed
        # provider): the one the caller's client would pick for that URL (its proxy, or none), not this one's.
        self.route = route

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        try:
            return self._handle(request)
        except DeepSentinelError as exc:
            in_callers_family(request, exc)
            raise

    def _handle(self, request: httpx2.Request) -> httpx2.Response:
        body = request.read()
        exchange = Exchange.open(self.sentinel, request.method, str(request.url), request.url.path, CallerHeaders(request.headers.raw), body)
        deadline = _deadline(request)
        while True:
            try:
                out = _outgoing(request, exchange, deadline)
                response = _transport_for(self.inner, self.route, out, request).handle_request(out)
            except BaseException as exc:  # no connection: the next target; anything else (interrupted) ends the call
                if isinstance(exc, httpx2.TransportError) and exchange.move_on(None):
                    continue
                exchange.fail(exc)
                raise
            if exchange.move_on(response.status_code):
                response.close()
                continue
            break
        filt = exchange.body_for(response.status_code, response.headers.raw)
        if filt.buffered:
            whole, source = WholeBody(response, filt, deadline, request, exchange), cast(httpx2.SyncByteStream, response.stream)
            try:
                for chunk in source:
                    whole.take(chunk)
                return whole.answer()
            except BaseException as exc:
                whole.fail(exc)
                raise
            finally:
                source.close()  # the connection goes back to the pool
        stream = SyncBody(response, filt, deadline, request, exchange)

        def reopen() -> tuple[httpx2.Response, BodyFilter] | None:
            """After a stream broke before any of it was shown: the same target again, or the next one."""
            answer: httpx2.Response | None = None
            while (wait := stream.reopen_after(answer)) is not None:
                time.sleep(wait)
                try:
                    out = _outgoing(request, exchange, deadline)
                    fresh = _transport_for(self.inner, self.route, out, request).handle_request(out)
                except httpx2.TransportError:
                    answer = None
                    continue
                if fresh.status_code < 400:
                    return fresh, exchange.body_for(fresh.status_code, fresh.headers.raw)
                answer = fresh
                fresh.close()
            return None

        stream.allow_reopen(reopen)
        return caller_response(response, request, exchange, stream=stream)

    def close(self) -> None:
        self.inner.close()


class AsyncSentinelTransport(httpx2.AsyncBaseTransport):
    """The asyncio twin of ``SentinelTransport``."""

    def __init__(self, sentinel: Sentinel, inner: httpx2.AsyncBaseTransport | None = None,
                 route: Callable[[httpx2.URL], httpx2.AsyncBaseTransport] | None = None) -> None:
        self.sentinel = sentinel
        self.inner = inner if inner is not None else httpx2.AsyncHTTPTransport()
        self.route = route  # as in SentinelTransport

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        try:
            return await self._handle(request)
        except DeepSentinelError as exc:
            in_callers_family(request, exc)
            raise

    async def _handle(self, request: httpx2.Request) -> httpx2.Response:
        body = await request.aread()
        exchange = Exchange.open(self.sentinel, request.method, str(request.url), request.url.path, CallerHeaders(request.headers.raw), body)
        deadline = _deadline(request)
        while True:
            try:
                out = _outgoing(request, exchange, deadline)
                response = await _transport_for(self.inner, self.route, out, request).handle_async_request(out)
            except BaseException as exc:  # no connection: the next target; anything else (interrupted) ends the call
                if isinstance(exc, httpx2.TransportError) and exchange.move_on(None):
                    continue
                exchange.fail(exc)
                raise
            if exchange.move_on(response.status_code):
                await response.aclose()
                continue
            break
        filt = exchange.body_for(response.status_code, response.headers.raw)
        if filt.buffered:
            whole, source = WholeBody(response, filt, deadline, request, exchange), cast(httpx2.AsyncByteStream, response.stream)
            try:
                async for chunk in source:
                    whole.take(chunk)
                return whole.answer()
            except BaseException as exc:
                whole.fail(exc)
                raise
            finally:
                await source.aclose()  # the connection goes back to the pool
        stream = AsyncBody(response, filt, deadline, request, exchange)

        async def reopen() -> tuple[httpx2.Response, BodyFilter] | None:
            """After a stream broke before any of it was shown: the same target again, or the next one."""
            answer: httpx2.Response | None = None
            while (wait := stream.reopen_after(answer)) is not None:
                await anyio.sleep(wait)  # asyncio or trio, as the caller runs
                try:
                    out = _outgoing(request, exchange, deadline)
                    fresh = await _transport_for(self.inner, self.route, out, request).handle_async_request(out)
                except httpx2.TransportError:
                    answer = None
                    continue
                if fresh.status_code < 400:
                    return fresh, exchange.body_for(fresh.status_code, fresh.headers.raw)
                answer = fresh
                await fresh.aclose()
            return None

        stream.allow_reopen(reopen)
        return caller_response(response, request, exchange, stream=stream)

    async def aclose(self) -> None:
        await self.inner.aclose()


_T = TypeVar("_T")


def _transport_for(inner: _T, route: Callable[[httpx2.URL], _T] | None, out: httpx2.Request,
                   request: httpx2.Request) -> _T:
    """``inner``; for a request the guard sends to another origin than the caller's, the transport ``route`` picks."""
    if route is None or out is request or (out.url.scheme, out.url.netloc) == (request.url.scheme, request.url.netloc):
        return inner
    return route(out.url)


def _deadline(request: httpx2.Request) -> float:
    """When this attempt must end, its answer read (a stream included): its scope's deadline when one was set for the
    whole call (``call_scope(timeout)``), else now plus the request's longest timeout. No read or write limit
    (``Timeout(None, connect=2)``) sets none. Each attempt the SDK makes (its retries) has a deadline of its own, as
    each has its own timeout in the SDK; the targets and reopens within one attempt share it."""
    scope = current_scope()
    if scope is not None and scope.deadline is not None:
        return scope.deadline
    timeouts = request.extensions.get("timeout") or {}
    budget = -1.0
    for k, v in timeouts.items():
        if v is None and k in ("read", "write"):  # no read (or write) limit; None for connect or pool lifts no bound
            budget = _UNBOUNDED
            break
        if isinstance(v, (int, float)) and v > budget:
            budget = v
    if budget < 0:
        budget = 600.0
    return time.monotonic() + budget


#: "No deadline": a week, finite so that every wait computed from it stays a number the OS takes.
_UNBOUNDED = 7 * 24 * 3600.0


def _outgoing(request: httpx2.Request, exchange: Exchange, deadline: float) -> httpx2.Request:
    out = exchange.attempt.request
    extensions = dict(request.extensions)
    left = deadline - time.monotonic()
    if left <= 0:
        raise ProviderTimeoutError("The call ran past its timeout.", request=request,
                                   provider=exchange.attempt.provider or "unknown")
    cap = min(left, out.timeout) if out.timeout is not None else left
    timeouts = extensions.get("timeout")
    if isinstance(timeouts, dict):  # no single wait may outlast the whole call (or the provider's own timeout)
        extensions["timeout"] = {k: (min(v, cap) if isinstance(v, (int, float)) else cap) for k, v in timeouts.items()}
    if exchange.as_sent and out is exchange.attempts[0].request:
        if not exchange.identity:  # the guard reads the body: no compressed bytes to decode
            request.headers["accept-encoding"] = UNCOMPRESSED
        request.extensions = extensions
        return request
    # The caller's own URL object when the target is unchanged: parsing it again is a sizeable part of a request.
    url = request.url if out.url == exchange.url else out.url
    return httpx2.Request(out.method, url, headers=[(k.encode("latin-1"), _header_bytes(v)) for k, v in out.headers.items()],
                          content=out.body, extensions=extensions)


def _header_bytes(value: str) -> bytes:
    """A header value as sent: the caller's own bytes back (they were read as Latin-1); a value of ours that
    Latin-1 cannot hold as UTF-8. (httpx would encode a string as ASCII, and refuse the caller's non-ASCII bytes.)"""
    try:
        return value.encode("latin-1")
    except UnicodeEncodeError:
        return value.encode("utf-8")


__all__ = ["PROVIDER_EXTENSION", "AsyncSentinelTransport", "SentinelTransport"]
