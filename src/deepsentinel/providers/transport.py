"""The only code that talks to the network: sends an adapter's ``HttpRequest`` with httpx2, with retries.

``SyncTransport`` and ``AsyncTransport`` are thin shells over the same pure pieces: ``client_options`` (pool
and timeouts from ``PerformanceConfig``), ``convert_transport_error`` (httpx2 errors to ours), and
``RetryPolicy`` (when and how long to wait). Neither shell knows any provider's wire format.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx2

from deepsentinel.config import PerformanceConfig
from deepsentinel.errors import (
    ProviderConnectionError,
    ProviderError,
    ProviderTimeoutError,
    StreamDisconnectedError,
)
from deepsentinel.providers.base import HttpRequest
from deepsentinel.providers.retry import RetryPolicy

log = logging.getLogger("deepsentinel.transport")

ErrorParser = Callable[[int, dict[str, str], bytes], ProviderError]
# (event, data) pairs: the SSE framing is httpx2's, the meaning of each event is the adapter's.
SSEPair = tuple[str, str]


def client_options(perf: PerformanceConfig) -> dict[str, Any]:
    """httpx2 client keyword arguments for a performance configuration."""
    return {
        "timeout": httpx2.Timeout(
            connect=perf.connection_timeout, read=perf.read_timeout, write=perf.write_timeout, pool=perf.pool_timeout
        ),
        "limits": httpx2.Limits(
            max_connections=perf.connection_pool_size,
            max_keepalive_connections=perf.connection_pool_size if perf.keep_alive else 0,
            keepalive_expiry=perf.keepalive_expiry if perf.keep_alive else 0,
        ),
        "follow_redirects": False,
        "trust_env": False,  # proxies from the environment must not silently reroute sensitive traffic
    }


def retry_policy(perf: PerformanceConfig, max_retries: int | None = None) -> RetryPolicy:
    return RetryPolicy(
        max_retries=perf.max_retries if max_retries is None else max_retries,
        base_delay=perf.retry_backoff,
        max_delay=perf.retry_backoff_max,
    )


def convert_transport_error(exc: Exception, provider: str, *, streaming: bool = False) -> ProviderError:
    """Map an httpx2 exception onto the DeepSentinel tree; the message never carries request content."""
    if isinstance(exc, httpx2.PoolTimeout):  # not the network: every pooled connection is busy (or never closed)
        return ProviderTimeoutError(
            f"no free connection to {provider} in the pool (connection_pool_size); close streams you stop reading",
            provider=provider,
        )
    if isinstance(exc, httpx2.TimeoutException):
        kind = "connect" if isinstance(exc, httpx2.ConnectTimeout) else "read"
        return ProviderTimeoutError(f"{kind} timeout talking to {provider}", provider=provider)
    if streaming and isinstance(exc, (httpx2.RemoteProtocolError, httpx2.ReadError, httpx2.StreamError)):
        return StreamDisconnectedError("Connection closed while streaming response", provider=provider)
    if isinstance(exc, httpx2.TransportError):
        return ProviderConnectionError(f"could not reach {provider}: {type(exc).__name__}", provider=provider)
    return ProviderError(f"unexpected transport failure: {type(exc).__name__}", provider=provider)


def _to_httpx(client: httpx2.Client | httpx2.AsyncClient, req: HttpRequest) -> httpx2.Request:
    content = json.dumps(req.json, separators=(",", ":")).encode() if req.json is not None else None
    if req.timeout is not None:
        return client.build_request(
            req.method, req.url, headers=dict(req.headers), content=content, timeout=httpx2.Timeout(req.timeout)
        )
    return client.build_request(req.method, req.url, headers=dict(req.headers), content=content)


def _headers(response: httpx2.Response) -> dict[str, str]:
    return {k.lower(): v for k, v in response.headers.items()}


def next_delay(retry: RetryPolicy, error: ProviderError, attempt: int) -> float:
    """Seconds to wait before attempt ``attempt + 1``; raises ``error`` when the policy says stop."""
    if not retry.should_retry(error, attempt, content_delivered=False):
        raise error
    delay = retry.delay(error, attempt)
    log.info("retrying %s after %s in %.2fs (attempt %d)", error.provider, type(error).__name__, delay, attempt + 1)
    return delay


class SyncTransport:
    """Blocking transport over one pooled ``httpx2.Client``."""

    def __init__(self, perf: PerformanceConfig, http_client: httpx2.Client | None = None) -> None:
        self.perf = perf
        self._client = http_client or httpx2.Client(**client_options(perf))

    def _send(
        self, req: HttpRequest, provider: str, parse_error: ErrorParser, retry: RetryPolicy, stream: bool
    ) -> httpx2.Response:
        attempt = 0
        while True:
            try:
                response = self._client.send(_to_httpx(self._client, req), stream=stream)
                if response.status_code < 400:
                    return response
                try:
                    body = response.read()
                finally:
                    response.close()
                error = parse_error(response.status_code, _headers(response), body)
            except httpx2.HTTPError as exc:
                error = convert_transport_error(exc, provider)
            time.sleep(next_delay(retry, error, attempt))
            attempt += 1

    def request(self, req: HttpRequest, provider: str, parse_error: ErrorParser, retry: RetryPolicy) -> tuple[bytes, float]:
        """Send ``req`` and return ``(body, seconds)`` of a 2xx reply; retries per ``retry``."""
        started = time.perf_counter()
        response = self._send(req, provider, parse_error, retry, stream=False)
        return response.content, time.perf_counter() - started

    def open_stream(self, req: HttpRequest, provider: str, parse_error: ErrorParser, retry: RetryPolicy) -> httpx2.Response:
        """Open a streaming response with a 2xx status (retrying before any content); caller closes it."""
        return self._send(req, provider, parse_error, retry, stream=True)

    @staticmethod
    def iter_events(response: httpx2.Response, provider: str) -> Iterator[SSEPair]:
        try:
            for sse in httpx2.EventSource(response):
                yield sse.event, sse.data
        except httpx2.HTTPError as exc:
            raise convert_transport_error(exc, provider, streaming=True) from exc

    def close(self) -> None:
        self._client.close()


class AsyncTransport:
    """Asyncio transport over one pooled ``httpx2.AsyncClient``; the twin of ``SyncTransport``."""

    def __init__(self, perf: PerformanceConfig, http_client: httpx2.AsyncClient | None = None) -> None:
        self.perf = perf
        self._client = http_client or httpx2.AsyncClient(**client_options(perf))

    async def _send(
        self, req: HttpRequest, provider: str, parse_error: ErrorParser, retry: RetryPolicy, stream: bool
    ) -> httpx2.Response:
        attempt = 0
        while True:
            try:
                response = await self._client.send(_to_httpx(self._client, req), stream=stream)
                if response.status_code < 400:
                    return response
                try:
                    body = await response.aread()
                finally:
                    await response.aclose()
                error = parse_error(response.status_code, _headers(response), body)
            except httpx2.HTTPError as exc:
                error = convert_transport_error(exc, provider)
            await asyncio.sleep(next_delay(retry, error, attempt))
            attempt += 1

    async def request(
        self, req: HttpRequest, provider: str, parse_error: ErrorParser, retry: RetryPolicy
    ) -> tuple[bytes, float]:
        started = time.perf_counter()
        response = await self._send(req, provider, parse_error, retry, stream=False)
        return response.content, time.perf_counter() - started

    async def open_stream(
        self, req: HttpRequest, provider: str, parse_error: ErrorParser, retry: RetryPolicy
    ) -> httpx2.Response:
        return await self._send(req, provider, parse_error, retry, stream=True)

    @staticmethod
    async def iter_events(response: httpx2.Response, provider: str) -> AsyncIterator[SSEPair]:
        try:
            async for sse in httpx2.EventSource(response):
                yield sse.event, sse.data
        except httpx2.HTTPError as exc:
            raise convert_transport_error(exc, provider, streaming=True) from exc

    async def close(self) -> None:
        await self._client.aclose()
