"""The body of a streamed answer (server-sent events, media), guarded chunk by chunk as the caller reads it
(``SyncBody``, ``AsyncBody``): under the call's deadline, cut where the guard cuts, and reopened when it broke
before any of it was shown. The call's audit record ends exactly once, however the stream ended.
"""

from __future__ import annotations

import contextlib
import random
import time
from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator, Iterable, Iterator
from typing import Any

import httpx2

from deepsentinel.errors import (
    DeepSentinelError,
    ProviderError,
    ProviderTimeoutError,
    StreamDisconnectedError,
    status_error_class,
)
from deepsentinel.providers.retry import parse_retry_after
from deepsentinel.read_ahead import AsyncReadAhead, ReadAhead, in_asyncio, readable_ahead
from deepsentinel.response_bodies import AnswerBody, in_callers_family
from deepsentinel.wire.body import BodyFilter, BrokeBeforeContent, EventBody
from deepsentinel.wire.exchange import Exchange

_LONGEST_RETRY_AFTER = 120.0  # seconds: a provider asking for longer is not retried (as the openai SDK does)


class _StreamBody(AnswerBody):
    """What both body streams share: reopening a stream that broke unseen, cuts, and ending the call once."""

    def __init__(self, upstream: httpx2.Response, filt: BodyFilter, deadline: float, request: httpx2.Request,
                 exchange: Exchange) -> None:
        super().__init__(upstream, filt, deadline, request, exchange)
        self.ended = False
        self.reopen: Any = None
        self._reopened = 0

    def broke_unseen(self, exc: BaseException) -> bool:
        """A stream that broke before any of it reached the caller (its opening events are held) may be reopened."""
        return (isinstance(exc, httpx2.TransportError) and isinstance(self.filter, EventBody)
                and not self.filter.events.sent and self.reopen is not None)

    def allow_reopen(self, reopen: Any) -> None:
        """Let a stream that breaks before any of it was shown be sent again through ``reopen()`` (the shell's)."""
        self.reopen = reopen
        self.filter.reopenable = self.can_reopen()

    def can_reopen(self) -> bool:
        """Whether a break now could be retried (this target's budget, or another target; before the deadline):
        only then does the guard hold the provider's own "try again" event for a reopen."""
        exchange = self.exchange
        return (self.reopen is not None and time.monotonic() < self.deadline
                and (self._reopened < self._retries() or exchange.index + 1 < len(exchange.attempts)))

    def reopen_after(self, answer: httpx2.Response | None = None) -> float | None:
        """After the stream broke unseen (``answer`` ``None``), or a reopen was answered with an error: the seconds
        to wait before sending the request again, or ``None`` to give up. This target is retried while its
        budget lasts and the provider does not say otherwise (as the SDKs decide: ``x-should-retry``, 408, 409,
        429, 5xx, no ``Retry-After`` past two minutes), backing off as they do or as ``Retry-After`` asks; then
        the next target is tried at once. Never past the call's deadline."""
        exchange = self.exchange
        retry_after = parse_retry_after(answer.headers) if answer is not None else None
        if _worth_another_try(answer, retry_after) and self._reopened < self._retries():
            perf = exchange.sentinel.performance
            wait = retry_after if retry_after is not None and retry_after > 0 else \
                backoff(self._reopened + 1, perf.retry_backoff, perf.retry_backoff_max)
            if time.monotonic() + wait >= self.deadline:
                return None
            self._reopened += 1
            if exchange.call is not None:
                exchange.call.attempts += 1
            return wait
        self._reopened = 0
        if not exchange.move_on(answer.status_code if answer is not None else None):
            return None
        return 0.0 if time.monotonic() < self.deadline else None

    def given_up(self, exc: httpx2.TransportError) -> bytes:
        """No reopen after all: what was held for one, to send now (the provider's own error event, which the
        caller's SDK raises on); a break of the network's own is raised as it is."""
        if not isinstance(exc, BrokeBeforeContent):
            raise exc
        return self.filter.give_up()

    def adopt(self, fresh: tuple[httpx2.Response, BodyFilter]) -> None:
        """Read the reopened answer from now on. What the guard found in the broken attempt's held opening (a
        tool's name) stays in the call's record as findings: the provider sent it, though the caller never saw it
        (so it decides nothing about the call's outcome)."""
        old, call = self.filter, self.exchange.call
        if call is not None and isinstance(old, EventBody):
            call.unshown_violations.extend(old.events.violations)
        self.upstream, self.filter = fresh
        self.filter.reopenable = self.can_reopen()

    def _retries(self) -> int:
        """This target's retry budget: its provider's own ``max_retries``; else what is left of the SDK call's
        (less the retries its SDK already took: ``X-Stainless-Retry-Count``), else of ours."""
        exchange = self.exchange
        entry = exchange.sentinel.router.providers.get(exchange.attempt.provider)
        if entry is not None and entry.max_retries is not None:
            return entry.max_retries
        scope = exchange.scope
        budget = scope.max_retries if scope is not None and scope.max_retries is not None else \
            exchange.sentinel.performance.max_retries
        taken = self.request.headers.get("x-stainless-retry-count", "0")
        return max(0, budget - (int(taken) if taken.isascii() and taken.isdigit() else 0))

    def check_cut(self) -> None:
        """Raise the block that cut the answer right after the output just sent (what preceded it is shown)."""
        if self.filter.error is not None:
            raise self.filter.error

    def translate(self, exc: BaseException) -> BaseException:
        """A network failure in the middle of a stream, as the error the caller catches (in its SDK's family)."""
        if isinstance(self.filter, EventBody) and isinstance(exc, httpx2.TransportError):
            if isinstance(exc, httpx2.TimeoutException):
                exc = ProviderTimeoutError(request=self.request, provider=self.provider)
            else:
                exc = StreamDisconnectedError(request=self.request, provider=self.provider)
        if type(exc) is ProviderError and (status := exc.status_code) is not None:
            # A translated stream's in-stream failure: the status error the caller's SDK would raise for it.
            answer = httpx2.Response(status, headers=self.upstream.headers, request=self.request)
            exc = status_error_class(status, "openai")(
                exc.message, response=answer, body=None, provider=exc.provider, status_code=status,
                error_type=exc.error_type, retry_after=exc.retry_after)
        if isinstance(exc, DeepSentinelError):
            in_callers_family(self.request, exc)
        return exc

    def finish(self, error: BaseException | None) -> None:
        if not self.ended:
            self.ended = True
            self.end_call(error)

    def __del__(self) -> None:
        # A stream dropped unread still ends its call once in the audit trail (no I/O here).
        if not getattr(self, "ended", True):
            self.finish(None)

    def incomplete(self) -> BaseException | None:
        if self.filter.complete:
            return None
        return StreamDisconnectedError(request=self.request, provider=self.provider)


class SyncBody(_StreamBody, httpx2.SyncByteStream):
    _ahead: ReadAhead | None = None

    def _source(self) -> Iterable[bytes]:
        """The upstream body: read ahead when it is a stream that can be (see ``read_ahead``), else as it is."""
        if not isinstance(self.filter, EventBody) or (sock := readable_ahead(self.upstream)) is None:
            return self.upstream.stream  # type: ignore[return-value]
        events = self.filter.events
        self._ahead = ReadAhead(self.upstream.stream, sock, self.deadline, lambda: events.shown)  # type: ignore[arg-type]
        return self._ahead

    def _let_go(self) -> None:
        ahead, self._ahead = self._ahead, None
        if ahead is not None:
            ahead.stop()
        self.upstream.close()

    def __iter__(self) -> Iterator[bytes]:
        error: BaseException | None = None
        try:
            while True:
                try:
                    for chunk in self._source():
                        out = self.filter.take(chunk)
                        if out:
                            yield out
                        self.check_cut()
                        self.check_time()
                    tail = self.filter.take_end()
                    if tail:
                        yield tail
                    self.check_cut()
                    break
                except httpx2.TransportError as exc:
                    if not self.broke_unseen(exc):
                        raise
                    self._let_go()
                    fresh = self.reopen()
                    if fresh is None:
                        held = self.given_up(exc)
                        if held:
                            yield held
                        self.check_cut()
                        break
                    self.adopt(fresh)
            error = self.incomplete()
            if error is not None:
                raise error
        except GeneratorExit:
            raise  # the caller stopped reading: what it saw was checked
        except BaseException as exc:
            error = self.translate(exc)
            if error is exc:
                raise
            raise error from exc
        finally:
            self._let_go()
            self.finish(error)

    def close(self) -> None:
        self._let_go()
        self.finish(None)


class AsyncBody(_StreamBody, httpx2.AsyncByteStream):
    _iteration: AsyncGenerator[bytes, None] | None = None
    _ahead: AsyncReadAhead | None = None

    def _source(self) -> AsyncIterable[bytes]:
        if isinstance(self.filter, EventBody) and readable_ahead(self.upstream) is not None and in_asyncio():
            events = self.filter.events
            self._ahead = AsyncReadAhead(self.upstream.stream, self.deadline, lambda: events.shown)  # type: ignore[arg-type]
            return self._ahead
        return self.upstream.stream  # type: ignore[return-value]

    async def _let_go(self) -> None:
        ahead, self._ahead = self._ahead, None
        if ahead is not None:
            await ahead.stop()
        await self.upstream.aclose()

    def __aiter__(self) -> AsyncIterator[bytes]:
        # Kept, so aclose() can close it on the caller's task: left to the garbage collector, it was finalized
        # twice at once (by the loop's hook and by httpx's own iterator over it).
        self._iteration = self._iterate()
        return self._iteration

    async def _iterate(self) -> AsyncGenerator[bytes, None]:
        error: BaseException | None = None
        try:
            while True:
                try:
                    async for chunk in self._source():
                        out = self.filter.take(chunk)
                        if out:
                            yield out
                        self.check_cut()
                        self.check_time()
                    tail = self.filter.take_end()
                    if tail:
                        yield tail
                    self.check_cut()
                    break
                except httpx2.TransportError as exc:
                    if not self.broke_unseen(exc):
                        raise
                    await self._let_go()
                    fresh = await self.reopen()
                    if fresh is None:
                        held = self.given_up(exc)
                        if held:
                            yield held
                        self.check_cut()
                        break
                    self.adopt(fresh)
            error = self.incomplete()
            if error is not None:
                raise error
        except GeneratorExit:
            raise
        except BaseException as exc:
            error = self.translate(exc)
            if error is exc:
                raise
            raise error from exc
        finally:
            await self._let_go()
            self.finish(error)

    async def aclose(self) -> None:
        iteration, self._iteration = self._iteration, None
        if iteration is not None:
            with contextlib.suppress(RuntimeError, ValueError):  # already running or closed elsewhere
                await iteration.aclose()
        await self._let_go()
        self.finish(None)


def _worth_another_try(answer: httpx2.Response | None, retry_after: float | None) -> bool:
    """Whether the same target is worth another try after a break (``None``) or after this error answer (whose
    ``Retry-After`` asked for ``retry_after`` seconds)."""
    if answer is None:
        return True
    if retry_after is not None and retry_after > _LONGEST_RETRY_AFTER:
        return False
    said = answer.headers.get("x-should-retry")
    if said in ("true", "false"):
        return said == "true"
    return answer.status_code in (408, 409, 429) or answer.status_code >= 500


def backoff(retry: int, initial: float, longest: float) -> float:
    """The wait before the ``retry``-th retry (from 1): doubling from ``initial`` up to ``longest``, less up to a
    quarter at random so that callers who failed together do not come back together (as the SDKs do)."""
    return min(initial * 2.0 ** (retry - 1), longest) * (1 - 0.25 * random.random())


__all__ = ["AsyncBody", "SyncBody", "backoff"]
