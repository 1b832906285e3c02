"""Streamed chat completions: ``Stream`` and ``AsyncStream`` over one I/O-free ``StreamSession``.

The session turns provider events into guarded ``ChatCompletionChunk`` objects; the two stream classes only
move bytes and always close the upstream response in ``finally``. Exactly one audit event is recorded when a
stream ends, whether it was exhausted, closed early, cut by the guard or broken by the network.

>>> with client.chat.completions.create(model="gpt-4o", messages=msgs, stream=True) as stream:
...     for chunk in stream:
...         print(chunk.choices[0].delta.content or "", end="")
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Generator, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx2
from openai.types.chat import ChatCompletionChunk

from deepsentinel.calls import CallRecord
from deepsentinel.errors import DeepSentinelError, ProviderError, StreamDisconnectedError
from deepsentinel.guard.chunk_guard import ChunkGuard
from deepsentinel.providers.base import StreamParser
from deepsentinel.providers.health import HealthTracker
from deepsentinel.providers.routing import is_fallback_worthy
from deepsentinel.providers.transport import AsyncTransport, SyncTransport

if TYPE_CHECKING:
    from deepsentinel.core import PreparedTarget


@dataclass(frozen=True)
class Emission:
    """What the session lets through for one event: chunks to yield, then possibly an error to raise."""

    chunks: tuple[ChatCompletionChunk, ...] = ()
    error: DeepSentinelError | None = None


class StreamSession:
    """Per-stream state shared by the sync and async streams: parse, guard, count, audit."""

    def __init__(
        self,
        target: PreparedTarget,
        new_guard: Callable[[], ChunkGuard | None],
        call: CallRecord,
        *,
        include_usage: bool,
        fallbacks: Sequence[PreparedTarget] = (),
        health: HealthTracker | None = None,
    ) -> None:
        self.target = target
        self.fallbacks = tuple(fallbacks)  # where to go when this target breaks before any content
        self.health = health
        self.new_guard = new_guard
        self.parser: StreamParser = target.adapter.stream_parser(target.request)
        self.guard = new_guard()
        self.call = call
        self.include_usage = include_usage
        self.provider = target.provider
        self.ended = False
        self.yielded = False  # once content reached the caller, a broken stream is never retried
        self.attempt = 0

    def reconnect_delay(self, error: BaseException, *, spent: bool = False) -> float | None:
        """After a disconnect, a timeout or a retryable in-stream error (Anthropic's ``overloaded_error``) before
        anything was yielded: seconds to wait before reopening the stream (parser and guard start afresh), or
        ``None`` when ``error`` must reach the caller. When this target's retries are used up (or ``spent``: its
        reopening failed after the transport's own retries), the stream moves to the next fallback target."""
        if self.yielded or not isinstance(error, ProviderError):
            return None
        retry = self.target.retry
        if not spent and retry.should_retry(error, self.attempt, content_delivered=False):
            delay = retry.delay(error, self.attempt)
            self.attempt += 1
        elif self.fallbacks and is_fallback_worthy(error):
            if self.health is not None:
                self.health.record_failure(self.provider)
            self.target, self.fallbacks = self.fallbacks[0], self.fallbacks[1:]
            self.provider = self.call.provider = self.target.provider
            self.call.target = str(self.target.target)
            self.attempt, delay = 0, 0.0
        else:
            return None
        if self.guard is not None:
            self.call.response_violations.extend(self.guard.violations)
        self.parser = self.target.adapter.stream_parser(self.target.request)
        self.guard = self.new_guard()
        return delay

    @property
    def done(self) -> bool:
        return self.parser.done

    def on_event(self, event: str, data: str) -> Emission:
        started = time.perf_counter()
        try:
            return self._on_event(event, data)
        finally:
            self.call.own_seconds += time.perf_counter() - started

    def _on_event(self, event: str, data: str) -> Emission:
        chunks: list[ChatCompletionChunk] = []
        for chunk in self.parser.feed(event, data):
            self.call.chunks += 1
            if chunk.usage is not None:
                self.call.usage = chunk.usage
            if self.guard is None:
                chunks.append(chunk)
                continue
            guarded = self.guard.process(chunk)
            chunks.extend(guarded.chunks)
            if guarded.error is not None:
                return Emission(self._visible(chunks), guarded.error)
        return Emission(self._visible(chunks))

    def on_end(self) -> Emission:
        """Upstream ended. Without the provider's end marker that is a disconnect, not a completion: the guard's
        held tail (possibly the first part of a value the provider never finished) is dropped, not released,
        exactly as when the connection breaks."""
        started = time.perf_counter()
        try:
            return self._on_end()
        finally:
            self.call.own_seconds += time.perf_counter() - started

    def _on_end(self) -> Emission:
        if not self.parser.done:
            return Emission((), StreamDisconnectedError("Connection closed while streaming response", provider=self.provider))
        tail = self.guard.finish() if self.guard is not None else None
        chunks = self._visible(list(tail.chunks)) if tail else ()
        if tail is not None and tail.error is not None:
            return Emission(chunks, tail.error)
        return Emission(chunks)

    def _visible(self, chunks: list[ChatCompletionChunk]) -> tuple[ChatCompletionChunk, ...]:
        # The tutorial indexes chunk.choices[0] unguarded: choice-less chunks only when the caller asked.
        visible = tuple(c for c in chunks if c.choices or self.include_usage)
        self.yielded = self.yielded or any(_has_content(c) for c in visible)
        return visible

    def end(self, error: BaseException | None = None) -> None:
        if self.ended:
            return
        self.ended = True
        if self.guard is not None:
            self.call.response_violations.extend(self.guard.violations)
        if self.parser.done and self.health is not None:
            self.health.record_success(self.provider)  # the provider that answered, a fallback included
        if isinstance(error, Exception):
            self.call.finish_with_error(error)
        else:
            # A caller that stops reading early (or is interrupted: Ctrl-C, task cancellation) has seen only
            # released, checked text: the call is allowed.
            self.call.finish(self.call.outcome_for_success())


def _has_content(chunk: ChatCompletionChunk) -> bool:
    """Whether a chunk shows the caller any text; a role-only opening chunk does not."""
    return any(c.delta.content or c.delta.refusal or c.delta.tool_calls for c in chunk.choices)


class _Pump:
    """The reading half of a ``Stream``: the upstream response and the loop over its events.

    The generator holds this, never the ``Stream`` itself, so a stream the caller drops (``break`` without
    ``close()``) is freed at once and ``Stream.__del__`` gives the connection back. With the generator holding
    the ``Stream``, the pair formed a reference cycle and the connection stayed checked out of the pool until
    the garbage collector ran: a small pool then timed out on the next call.
    """

    def __init__(self, response: httpx2.Response, transport: SyncTransport, session: StreamSession) -> None:
        self.response = response
        self.transport = transport
        self.session = session

    def iterate(self) -> Generator[ChatCompletionChunk, None, None]:
        session = self.session
        error: BaseException | None = None
        try:
            while True:
                try:
                    for event, data in self.transport.iter_events(self.response, session.provider):
                        out = session.on_event(event, data)
                        yield from out.chunks
                        if out.error is not None:
                            raise out.error
                        if session.done:
                            break
                    out = session.on_end()
                    yield from out.chunks
                    if out.error is not None:
                        raise out.error
                    break
                except ProviderError as exc:
                    self.reopen(exc)
        except GeneratorExit:
            raise
        except BaseException as exc:
            error = exc
            raise
        finally:
            self.response.close()
            session.end(error)

    def reopen(self, error: ProviderError) -> None:
        """Reopen after ``error`` (the same target, or the next fallback); re-raise the last error when not."""
        spent = False
        while (delay := self.session.reconnect_delay(error, spent=spent)) is not None:
            self.response.close()
            time.sleep(delay)
            t = self.session.target
            try:
                self.response = self.transport.open_stream(t.http, t.provider, t.adapter.parse_error, t.retry)
                return
            except ProviderError as exc:
                error, spent = exc, True
        raise error


class Stream(Iterator[ChatCompletionChunk]):
    """A streamed chat completion: iterate it for ``ChatCompletionChunk`` objects; close it when done early."""

    def __init__(self, response: httpx2.Response, transport: SyncTransport, session: StreamSession) -> None:
        self._pump = _Pump(response, transport, session)
        self._session = session
        self._iterator = self._pump.iterate()

    @property
    def response(self) -> httpx2.Response:
        """The current upstream response (a new one after a reconnection)."""
        return self._pump.response

    def __iter__(self) -> Stream:
        return self

    def __next__(self) -> ChatCompletionChunk:
        return next(self._iterator)

    def close(self) -> None:
        """Stop reading and release the connection; safe to call more than once."""
        self._iterator.close()
        self.response.close()
        self._session.end()

    def __enter__(self) -> Stream:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        # A caller who breaks out of a loop and drops the stream still gets the connection back.
        if not self._session.ended:
            self.close()


class _AsyncPump:
    """The reading half of an ``AsyncStream`` (see ``_Pump``): the generator never holds the stream itself."""

    def __init__(self, response: httpx2.Response, transport: AsyncTransport, session: StreamSession) -> None:
        self.response = response
        self.transport = transport
        self.session = session

    async def iterate(self) -> AsyncGenerator[ChatCompletionChunk, None]:
        session = self.session
        error: BaseException | None = None
        try:
            while True:
                try:
                    async for event, data in self.transport.iter_events(self.response, session.provider):
                        out = session.on_event(event, data)
                        for chunk in out.chunks:
                            yield chunk
                        if out.error is not None:
                            raise out.error
                        if session.done:
                            break
                    out = session.on_end()
                    for chunk in out.chunks:
                        yield chunk
                    if out.error is not None:
                        raise out.error
                    break
                except ProviderError as exc:
                    await self.reopen(exc)
        except GeneratorExit:
            raise
        except BaseException as exc:
            error = exc
            raise
        finally:
            await self.response.aclose()
            session.end(error)

    async def reopen(self, error: ProviderError) -> None:
        """Reopen after ``error`` (the same target, or the next fallback); re-raise the last error when not."""
        spent = False
        while (delay := self.session.reconnect_delay(error, spent=spent)) is not None:
            await self.response.aclose()
            await asyncio.sleep(delay)
            t = self.session.target
            try:
                self.response = await self.transport.open_stream(t.http, t.provider, t.adapter.parse_error, t.retry)
                return
            except ProviderError as exc:
                error, spent = exc, True
        raise error


class AsyncStream(AsyncIterator[ChatCompletionChunk]):
    """The asyncio twin of ``Stream``: ``async for chunk in stream``, ``await stream.close()``."""

    def __init__(self, response: httpx2.Response, transport: AsyncTransport, session: StreamSession) -> None:
        self._pump = _AsyncPump(response, transport, session)
        self._session = session
        self._iterator = self._pump.iterate()

    @property
    def response(self) -> httpx2.Response:
        """The current upstream response (a new one after a reconnection)."""
        return self._pump.response

    def __aiter__(self) -> AsyncStream:
        return self

    async def __anext__(self) -> ChatCompletionChunk:
        return await self._iterator.__anext__()

    async def close(self) -> None:
        """Stop reading and release the connection; safe to call more than once."""
        await self._iterator.aclose()
        await self.response.aclose()
        self._session.end()

    async def __aenter__(self) -> AsyncStream:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    def __del__(self) -> None:
        # Dropped unclosed: the call still ends once in the audit trail. The response cannot be awaited here;
        # a started iteration is closed by the event loop's async-generator finalizer as soon as the generator
        # is freed (it holds no reference back to this stream), and the client's pool reclaims the rest.
        if not self._session.ended:
            self._session.end()
