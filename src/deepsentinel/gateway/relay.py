"""Relaying the guarded answer to the client, and turning the guard's exceptions into answers.

The status line waits for the first byte the guard releases (at most ``KEEPALIVE`` seconds; then comments keep the
stream alive until it comes), so a block or failure found before it becomes a proper error response; after it,
the API's error event ends the stream.

A stream is read by a second task (``_pump``) into a small window, and the client is sent whatever the window
holds at once: when the upstream's events arrive faster than they are relayed (a burst, or a busy gateway),
they leave in one write instead of one system call and one client wake-up each; when they arrive one at a
time, each is sent as soon as it is released. The window holds at most ``WINDOW`` bytes: past that the pump
waits, so it stops reading the upstream until the client has taken what was released (a slow client slows
the provider, it does not grow a buffer).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterable

import httpx2

from deepsentinel.errors import (
    ComplianceViolationError,
    ConfigurationError,
    ProviderConnectionError,
    ProviderError,
    ProviderTimeoutError,
    StreamDisconnectedError,
    UnreadableResponseError,
    ValidationError,
)
from deepsentinel.gateway.replies import (
    Send,
    compliance_message,
    error_type,
    send_compliance,
    send_error,
    send_json,
)
from deepsentinel.wire.codec import Codec

log = logging.getLogger("deepsentinel.gateway")

#: Released bytes not yet sent to the client, at most (then the upstream is not read until they are).
WINDOW = 64 * 1024
#: Seconds released bytes may wait for more to join them before the pump lets the relay send them.
HOLD = 0.002
#: Seconds a stream's status line waits for its first released byte (a failure before then still gets an error
#: status); then, until that byte comes, an SSE comment (which every reader skips) goes out this often, so a
#: client's read timeout and a proxy's idle timeout see the stream alive while its opening is held for a reopen.
KEEPALIVE = 0.5
_KEEPALIVE_COMMENT = b": waiting for the provider\n\n"
_DROPPED = frozenset({b"connection", b"keep-alive", b"date", b"server", b"transfer-encoding", b"content-length"})


class _Window:
    """Chunks between the pump (which fills it) and the relay (which empties it whole)."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self.size = 0
        self.ended = False
        self.error: Exception | None = None
        self.since = 0.0  # when the oldest chunk in the window arrived
        self._ready = asyncio.Event()
        self._room = asyncio.Event()
        self._room.set()

    async def put(self, chunk: bytes) -> None:
        now = time.monotonic()
        if not self.chunks:
            self.since = now
        self.chunks.append(chunk)
        self.size += len(chunk)
        self._ready.set()
        if self.size >= WINDOW:
            self._room.clear()
            await self._room.wait()
        elif now - self.since >= HOLD:
            await asyncio.sleep(0)  # one turn of the loop: the relay (already woken) sends what is here

    def end(self, error: Exception | None) -> None:
        self.ended = True
        self.error = error
        self._ready.set()

    async def ready_within(self, seconds: float) -> bool:
        """Whether something was released (or the stream ended) within ``seconds``."""
        try:
            await asyncio.wait_for(self._ready.wait(), seconds)
        except asyncio.TimeoutError:
            return False
        return True

    async def take(self) -> list[bytes]:
        """Everything released so far (waiting for something); empty once the stream ended."""
        await self._ready.wait()
        chunks, self.chunks, self.size = self.chunks, [], 0
        if not self.ended:
            self._ready.clear()
        self._room.set()
        return chunks


async def _pump(body: AsyncIterable[bytes], window: _Window) -> None:
    error: Exception | None = None
    try:
        async for chunk in body:
            if chunk:
                await window.put(chunk)
    except Exception as exc:  # the relay answers it, after what was released before it
        error = exc
    finally:
        window.end(error)


async def relay(response: httpx2.Response, codec: Codec, send: Send, only: tuple[str, ...] = ()) -> None:
    """Send the guarded answer. ``only``: a model list is cut down to these models (a key's allow-list)."""
    started = False
    streamed = "text/event-stream" in response.headers.get("content-type", "")
    headers = [(k, v) for k, v in ((k.lower(), v) for k, v in response.headers.raw) if k not in _DROPPED]
    # The guard's own body stream: httpx2's iterators over it would add a generator, a chunker and a
    # decoder per chunk for nothing (the guard's answer is never content-encoded).
    stream = response.stream
    assert isinstance(stream, httpx2.AsyncByteStream)
    pump: asyncio.Future[None] | None = None
    try:
        if not streamed:  # one JSON body (released whole by the guard): sent with its length
            body = b"".join([chunk async for chunk in stream])
            if only and response.status_code == 200:
                body = _only_models(body, only)
            started = True
            await send_json(send, response.status_code, body, [h for h in headers if h[0] != b"content-type"])
            return
        window = _Window()
        pump = asyncio.ensure_future(_pump(stream, window))
        released = False
        while True:
            if not released and not await window.ready_within(KEEPALIVE):
                chunks = [_KEEPALIVE_COMMENT]  # nothing released yet (an opening held for a reopen)
            else:
                chunks = await window.take()
                if not chunks:
                    break
                released = True
            if not started:
                await send({"type": "http.response.start", "status": response.status_code, "headers": headers})
                started = True
            await send({"type": "http.response.body", "body": b"".join(chunks), "more_body": True})
        if window.error is not None:
            raise window.error
        if not started:
            await send({"type": "http.response.start", "status": response.status_code, "headers": headers})
        await send({"type": "http.response.body", "body": b"", "more_body": False})
    except Exception as exc:
        if not started:
            await refuse(send, codec, exc)
            return
        await send({"type": "http.response.body", "body": _error_event(codec, exc), "more_body": False})
    finally:
        if pump is not None and not pump.done():
            pump.cancel()  # the client left: stop reading the upstream (its body closes in finally)
            with contextlib.suppress(asyncio.CancelledError):
                await pump


async def refuse(send: Send, codec: Codec, exc: Exception) -> None:
    """An error answer for a call that failed before any byte of its answer was sent."""
    if isinstance(exc, ComplianceViolationError):
        await send_compliance(send, codec, exc)
        return
    status, message = _failure(exc)
    await send_error(send, codec, status, message)


def _failure(exc: Exception) -> tuple[int, str]:
    """Status and message for a failure other than a block. Messages are ours: never the exception's text."""
    if isinstance(exc, ValidationError):
        return 400, str(exc)  # our own validation messages name fields, not values
    if isinstance(exc, (ProviderTimeoutError, httpx2.TimeoutException)):
        return 504, "The provider did not answer in time."
    if isinstance(exc, UnreadableResponseError):
        return 502, "The provider's answer came in a form the gateway cannot read; none of it was sent."
    if isinstance(exc, (ProviderConnectionError, httpx2.TransportError)):
        return 502, "The provider could not be reached."
    if isinstance(exc, StreamDisconnectedError):
        return 502, "The provider's stream broke before it ended."
    if isinstance(exc, ProviderError) and exc.status_code is not None and 400 <= exc.status_code < 600:
        # A translated stream's in-stream failure (an overload): its status, and its kind if it is a plain name.
        kind = exc.error_type if isinstance(exc.error_type, str) and exc.error_type.isidentifier() else None
        return exc.status_code, f"The provider reported an error ({kind})." if kind else "The provider reported an error."
    if isinstance(exc, ConfigurationError):
        log.error("gateway configuration error: %s", exc)
        return 500, "The gateway cannot route this request (configuration)."
    log.error("compliance check failed (%s); request refused", type(exc).__name__, exc_info=exc)
    return 500, "The compliance check failed; the request was refused."


def _error_event(codec: Codec, exc: Exception) -> bytes:
    if isinstance(exc, ComplianceViolationError):
        message, types = compliance_message(exc)
        return codec.error_event(message, "compliance_violation", "compliance_violation", violations=types).encode()
    status, message = _failure(exc)
    return codec.error_event(message, error_type(status, codec)).encode()


def _only_models(body: bytes, allowed: tuple[str, ...]) -> bytes:
    try:
        listing = json.loads(body)
        listing["data"] = [m for m in listing["data"] if isinstance(m, dict) and m.get("id") in allowed]
    except (ValueError, KeyError, TypeError):
        return body
    return json.dumps(listing).encode()


__all__ = ["HOLD", "KEEPALIVE", "WINDOW", "refuse", "relay"]
