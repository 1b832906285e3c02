"""Body filters: an upstream response body in, the caller's body out, chunk by chunk. Sans-IO.

``feed(chunk) -> bytes`` and ``end() -> bytes``; either may raise ``ComplianceViolationError`` (the response
is cut there). The shells call ``take(chunk)`` and ``take_end()``: the same, for the bytes as the upstream sent
them, inflated first when the body came compressed (see ``encoding.py``). ``close(error)`` ends the call's
audit record exactly once, however the body ended: read to the end, cut, closed early by the caller, or broken
by the network.
"""

from __future__ import annotations

import codecs
import re
import time
from typing import TYPE_CHECKING, Any

import httpx2

from deepsentinel.calls import CallRecord
from deepsentinel.errors import ComplianceViolationError, ProviderError
from deepsentinel.guard.blocking import block_error
from deepsentinel.guard.stream_guard import GuardResult, StreamGuard
from deepsentinel.policy.decision import Violation
from deepsentinel.providers.base import TRANSIENT_STATUS
from deepsentinel.wire.encoding import Inflater
from deepsentinel.wire.event_guard import EventGuard
from deepsentinel.wire.guard import RequestCheck, WireGuard
from deepsentinel.wire.json_io import dumps, parse
from deepsentinel.wire.sse import Event, SSEDecoder

if TYPE_CHECKING:
    from deepsentinel.wire.exchange import Attempt


#: ``BodyFilter.parsed`` of a body no parse of which is handed on.
NOT_PARSED: Any = object()


class BrokeBeforeContent(httpx2.TransportError):
    """A stream failed (overloaded, rate limited) before any of it was shown: as safe to retry as a disconnect.
    ``failure``: the provider's error, when a translated stream reported one (raised if it is not retried)."""

    def __init__(self, message: str, failure: ProviderError | None = None) -> None:
        super().__init__(message)
        self.failure = failure


class BodyFilter:
    """Passes bytes through; subclasses check, translate and rewrite them."""

    #: Decided whole: nothing is released before the end, so a shell may read the body at once and answer with
    #: the bytes ``end()`` gives.
    buffered = False
    #: Set when the body came compressed: what undoes its coding before ``feed`` reads it.
    inflater: Inflater | None = None
    #: The provider's ``Content-Length`` as sent, when it gave one and no coding: the length its headers declare.
    declared_length: bytes | None = None
    #: Whether the body's end is marked (chunked, or a declared length), not only the connection's close, which a
    #: break looks like too.
    delimited = True
    #: Set by a ``buffered`` filter that parsed the body ``end`` gave, as ``json.loads`` would have: the caller's
    #: SDK may take it instead of parsing the same bytes again (``NOT_PARSED``: no such parse).
    parsed: Any = NOT_PARSED
    #: Set by the shell while a stream that fails before any of it was shown could be sent again: only then is
    #: the provider's own "try again" held back for it.
    reopenable = False

    def __init__(self, call: CallRecord | None) -> None:
        self.call = call
        self.cut = False
        # Set when a chunk's output ends where the answer is cut: the shell sends that output, then raises this.
        self.error: Exception | None = None

    def feed(self, chunk: bytes) -> bytes:
        return chunk

    def end(self) -> bytes:
        return b""

    def take(self, chunk: bytes) -> bytes:
        """``feed`` for a chunk as the upstream sent it (inflated first, when the body came compressed)."""
        return self.feed(chunk if self.inflater is None else self.inflater.decompress(chunk))

    def take_end(self) -> bytes:
        """``end``, once the upstream's body ended (what the inflater still held is fed first)."""
        if self.inflater is None:
            return self.end()
        out = self.feed(tail) if (tail := self.inflater.flush()) else b""
        return out if self.error is not None else out + self.end()  # cut in the tail: nothing after it

    @property
    def complete(self) -> bool:
        """Whether the body ended the way the provider ends a whole answer (a stream's end marker)."""
        return True

    def unchanged(self, out: bytes) -> bool:
        """Whether ``out`` (what ``end`` gave, for a ``buffered`` filter) is the body as the provider sent it."""
        return False

    def give_up(self) -> bytes:
        """A stream that failed before any of it was shown is not reopened after all: what was held for the
        reopen, to send now (the provider's error event, which the caller's SDK raises on). A translated
        stream's provider error becomes the error raised after it."""
        return b""

    def close(self, error: BaseException | None = None) -> None:
        call = self.call
        if call is None:
            return
        if error is not None:
            call.finish_with_error(error)
        else:
            call.finish(call.outcome_for_success())


class PassBody(BodyFilter):
    """A body nothing needs to check (a request that carried no JSON)."""


class _Buffered(BodyFilter):
    """A body that is decided whole: nothing of it is released before its end."""

    buffered = True

    def __init__(self, call: CallRecord | None) -> None:
        super().__init__(call)
        self._parts: list[bytes] = []
        self._read: bytes | None = None

    def feed(self, chunk: bytes) -> bytes:
        self._parts.append(chunk)
        return b""

    def whole(self) -> bytes:
        body, self._parts = b"".join(self._parts), []
        self._read = body
        return body

    def unchanged(self, out: bytes) -> bool:
        """Whether ``out`` (what ``end`` gave) is the body exactly as the provider sent it (not inflated)."""
        return out is self._read and self.inflater is None


class JsonBody(_Buffered):
    """A whole JSON answer: buffered, translated if needed, checked, then released at once."""

    def __init__(self, guard: WireGuard, check: RequestCheck, attempt: Attempt, call: CallRecord | None) -> None:
        super().__init__(call)
        self.guard, self.check, self.attempt = guard, check, attempt

    def end(self) -> bytes:
        body = self.whole()
        started = _clock()
        if self.attempt.chat is not None:
            completion = self.attempt.adapter.parse_chat_response(body, self.attempt.chat.model)
            body = completion.model_dump_json(exclude_unset=True).encode()
        try:
            payload, exact = parse(body)
        except (ValueError, RecursionError):
            payload, exact = None, False
        usage = self.check.codec.usage(payload) if payload is not None else None
        if self.call is not None and usage is not None:
            self.call.usage = usage
        checked, decision = self.guard.check_response(self.check, body, payload)
        if self.call is not None:
            self.call.response_violations.extend(decision.violations)
            self.call.own_seconds += _clock() - started
        if exact and checked is body:
            self.parsed = payload
        return checked


class EventBody(BodyFilter):
    """A server-sent event stream: decoded, translated if needed, guarded event by event, re-encoded."""

    def __init__(self, guard: WireGuard, check: RequestCheck, attempt: Attempt, call: CallRecord | None) -> None:
        super().__init__(call)
        self.decoder = SSEDecoder()
        self.events = EventGuard(guard, check, attempt.secrets)
        self.guard, self.secrets = guard, attempt.secrets
        self.parser = attempt.adapter.stream_parser(attempt.chat) if attempt.chat is not None else None
        self.provider = attempt.provider

    @property
    def reopenable(self) -> bool:
        return self.events.may_reopen

    @reopenable.setter
    def reopenable(self, value: bool) -> None:
        self.events.may_reopen = value

    def feed(self, chunk: bytes) -> bytes:
        return self._emit(self.decoder.feed(chunk))

    def end(self) -> bytes:
        return self._emit(self.decoder.flush()) + self._encode(self.events.finish(self.delimited))

    @property
    def complete(self) -> bool:
        # An error event ends a stream too: the caller's SDK raises on it, and the call is recorded as failed.
        return self.events.ended or self.events.errored or not self.events.codec.has_end_marker()

    def close(self, error: BaseException | None = None) -> None:
        if self.call is not None:
            self.call.response_violations.extend(v for v in self.events.violations if v not in self.call.response_violations)
            if self.events.usage is not None:
                self.call.usage = self.events.usage
        if error is None and self.events.errored:
            # The provider ended the stream with its error event, which the caller's SDK raises: the call failed,
            # whatever came before. (Its own text stays out of the record: it may quote the prompt.)
            error = ProviderError("the provider ended the stream with an error event", provider=self.provider)
        super().close(error)

    def _emit(self, events: list[Event]) -> bytes:
        if not events:
            return b""
        started = _clock()
        try:
            events, cut = self._read_strays(events)
            upstream, failure = self._translate(events)
            out, self.error = self.events.feed_many(upstream)
            if cut is not None and self.error is None:
                self.error = cut
            if failure is not None and self.error is None:
                # A stream that failed (overloaded, rate limited) before any of it was sent may be reopened.
                retry = self.reopenable and not self.events.sent and failure.status_code in TRANSIENT_STATUS
                self.error = BrokeBeforeContent(failure.message, failure) if retry else failure
            elif self.error is None and self.events.retry_event is not None:
                # The provider's own error event said "try again" before anything was sent: held back (the
                # caller's SDK would raise on it) while the shell may reopen the stream; else sent on now, and
                # the stream read on to its end.
                if self.reopenable:
                    self.error = BrokeBeforeContent("the provider's stream failed before any of it was shown")
                else:
                    out += self.events.release()
        finally:
            if self.call is not None:
                self.call.chunks += len(events)
                self.call.own_seconds += _clock() - started
        return self._encode(out)

    def _read_strays(self, events: list[Event]) -> tuple[list[Event], ComplianceViolationError | None]:
        """Events whose lines other than ``event:``/``data:`` (a comment, a body that is not events at all: NDJSON
        answering a stream asked for) are read as text before anything passes: kept as they came when clean; when
        a value was hidden in them, left behind (or, when they are all the event holds, sent rewritten); the events
        cut before the one that holds a blocked value."""
        if not any(event.stray or (event.event and not _EVENT_NAME.fullmatch(event.event)) for event in events):
            return events, None
        kept: list[Event] = []
        try:
            for event in events:
                name = event.event
                if name and not _EVENT_NAME.fullmatch(name):  # an event's name is shown to a caller reading bytes
                    new = self.events.check_whole(name, "body")
                    if new != name:
                        event = Event(new, event.data, None, event.stray)
                if event.stray and (new := self.events.check_whole(event.stray, "body")) != event.stray:
                    # Rebuilt from its fields, the stray lines stay behind; an event of nothing else (a body that
                    # is not events: NDJSON) leaves as they read rewritten.
                    event = Event(event.event, event.data) if event.data or event.event else \
                        Event("", "", new.encode() + b"\n\n")
                kept.append(event)
        except ComplianceViolationError as cut:
            return kept, cut
        return kept, None

    def give_up(self) -> bytes:
        failure = self.error.failure if isinstance(self.error, BrokeBeforeContent) else None
        self.error = failure
        held = self.events.release()
        # A translated stream's failure is raised with nothing before it (a gateway may still answer it with a
        # status); the provider's own error event goes after the opening it followed.
        return b"" if failure is not None else self._encode(held)

    def _translate(self, events: list[Event]) -> tuple[list[Event], ProviderError | None]:
        """The events in the caller's format, and the provider's error event that ended them, if one did."""
        if self.parser is None:
            return events, None
        out: list[Event] = []
        for event in events:
            try:
                chunks = self.parser.feed(event.event, event.data)
            except ProviderError as exc:  # an error event: raised as ours, with its status and type
                # The provider's text may echo the prompt or the key: redacted before anything is built from it.
                exc.message = self.guard.redact(exc.message, self.secrets)
                exc.args = (exc.message,)
                exc.__cause__ = exc.__context__ = None
                return out, exc
            out += [Event("", c.model_dump_json(exclude_unset=True)) for c in chunks]
            if self.parser.done:
                out.append(Event("", "[DONE]"))
        return out, None

    @staticmethod
    def _encode(events: list[Event]) -> bytes:
        return b"".join(e.encode() for e in events)


class TextBody(BodyFilter):
    """An answer that is neither one JSON document nor events (a file's JSONL or CSV, text): checked as it
    streams, through a stream guard, so a download is never held whole (a 60 MB file took four times its size).
    From the first bytes that are not UTF-8 (a PDF, an archive) it passes as it is, as a binary answer does; the
    text held before them is checked whole first."""

    def __init__(self, guard: WireGuard, check: RequestCheck, call: CallRecord | None) -> None:
        super().__init__(call)
        self.text: StreamGuard | None = guard.stream_guard(check.restore, location="body")
        self.decoder = codecs.getincrementaldecoder("utf-8")()
        self.binary = False
        self.violations: list[Violation] = []

    def feed(self, chunk: bytes) -> bytes:
        if self.binary or self.error is not None:
            return chunk if self.error is None else b""
        pending = self.decoder.getstate()[0]
        try:
            text = self.decoder.decode(chunk)
        except UnicodeDecodeError:
            return self._binary(pending + chunk)
        return self._released(self.text.feed(text) if self.text is not None else None, text)

    def end(self) -> bytes:
        if self.binary or self.error is not None:
            return b""
        pending = self.decoder.getstate()[0]
        try:
            text = self.decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return self._binary(pending)
        out = self._released(self.text.feed(text) if self.text is not None else None, text)
        if self.error is not None or self.text is None:
            return out
        return out + self._released(self.text.flush(), "")

    def _binary(self, raw: bytes) -> bytes:
        """Bytes that are not text arrived: what was held is checked whole and released, then all passes."""
        self.binary = True
        out = self._released(self.text.flush(), "") if self.text is not None else b""
        return out if self.error is not None else out + raw

    def _released(self, result: GuardResult | None, text: str) -> bytes:
        if result is None:  # no policy reads answers
            return text.encode()
        self.violations += result.violations
        if result.blocked:
            self.error = block_error(result.violations or self.violations, "response")
        return result.text.encode()

    def close(self, error: BaseException | None = None) -> None:
        if self.call is not None:
            self.call.response_violations.extend(v for v in self.violations if v not in self.call.response_violations)
        super().close(error)


class ErrorBody(_Buffered):
    """An error answer: buffered, translated to the caller's format, and redacted before anyone reads it."""

    def __init__(self, guard: WireGuard, attempt: Attempt, call: CallRecord | None, status: int, *,
                 finish: bool, secrets: tuple[str, ...]) -> None:
        super().__init__(call)
        self.guard, self.attempt, self.status, self.finish, self.secrets = guard, attempt, status, finish, secrets

    def end(self) -> bytes:
        body = self.whole()
        if self.attempt.chat is not None:
            error = self.attempt.adapter.parse_error(self.status, {}, body)
            body = dumps({"error": {"message": error.message, "type": error.error_type or "api_error", "code": None}}).encode()
        return self.guard.redact_error(body, self.secrets)

    def close(self, error: BaseException | None = None) -> None:
        # Inside an SDK call the SDK may retry this status; its final error ends the call (see CallScope).
        if self.call is not None and self.finish:
            self.call.finish_with_error(error or ProviderError(f"HTTP {self.status}", status_code=self.status,
                                                               provider=self.attempt.provider or "unknown"))


_clock = time.perf_counter
_EVENT_NAME = re.compile(r"[a-z_.]{1,64}")  # the names providers give their events: no value fits in one


__all__ = ["BodyFilter", "ErrorBody", "EventBody", "JsonBody", "PassBody", "TextBody"]
