"""What the transports answer with: the caller's response, and the body read whole before it answers.

A body decided whole (a JSON answer, an error) is read by the shell before it answers (``WholeBody``): the caller
gets the checked bytes. A stream is filtered as the caller reads it (``stream_bodies.py``). Either way the call's
audit record ends exactly once, however the body ended (``AnswerBody.end_call``).
"""

from __future__ import annotations

import json
import sys
import time
from functools import partial
from typing import Any
from urllib.parse import urlsplit

import httpx2

from deepsentinel.errors import (
    DeepSentinelError,
    ProviderTimeoutError,
)
from deepsentinel.wire.body import NOT_PARSED, BodyFilter
from deepsentinel.wire.exchange import Exchange
from deepsentinel.wire.scope import current_scope

#: The extension on each response naming the provider that answered (``response.extensions[...]``).
PROVIDER_EXTENSION = "deepsentinel_provider"


class AnswerBody:
    """What every answer body holds: its upstream response and filter, the call's deadline, and how it ends the
    call's record."""

    def __init__(self, upstream: httpx2.Response, filt: BodyFilter, deadline: float, request: httpx2.Request,
                 exchange: Exchange) -> None:
        self.upstream, self.filter, self.deadline = upstream, filt, deadline
        self.request, self.exchange = request, exchange

    @property
    def provider(self) -> str:
        return self.exchange.attempt.provider or "unknown"

    def check_time(self) -> None:
        if time.monotonic() > self.deadline:
            raise ProviderTimeoutError("The call ran past its timeout.", request=self.request, provider=self.provider)

    def end_call(self, error: BaseException | None) -> None:
        """End the call's record once its body ended (read, cut, dropped or broken)."""
        if (isinstance(error, httpx2.TransportError) and self.exchange.scope is not None
                and current_scope() is self.exchange.scope):
            # Read inside the SDK's request(): it may retry the call, which goes on in this record; if it gives
            # up, the scope records the error it raises.
            return
        # A caller that stops right after the output before a cut never pulls the cut itself: the call still ends
        # as cut, not as allowed.
        self.filter.close(error if error is not None else self.filter.error)


class WholeBody(AnswerBody):
    """A body decided whole (a JSON answer, an error), read by the shell before it answers: the caller gets the
    checked bytes, with no stream of ours left to drive (a call's commonest path, kept short)."""

    def take(self, chunk: bytes) -> None:
        self.filter.take(chunk)
        self.check_time()

    def answer(self) -> httpx2.Response:
        """The caller's response, once the body is read (the shell closes the upstream body after this)."""
        content = self.filter.take_end()
        self.end_call(None)
        upstream = self.upstream
        declared = self.filter.declared_length
        # A HEAD answer's length is the body a GET would get: it has none, and its headers stand as they are.
        same_length = declared is not None and (declared.strip() == b"%d" % len(content)
                                                or (not content and self.request.method == "HEAD"))
        if same_length and self.filter.unchanged(content) and not _elsewhere(self.exchange):
            # The provider's bytes under the provider's headers, which already describe them (their one length, no
            # coding, no chunked framing): the upstream response is the caller's, its body the bytes read (building
            # another, headers and all, was a sizeable part of a call). Any other body goes back with its length.
            upstream.stream = httpx2.ByteStream(content)
            upstream.extensions[PROVIDER_EXTENSION] = self.provider
            response = upstream
        else:
            response = caller_response(upstream, self.request, self.exchange, content=content)
        if self.filter.parsed is not NOT_PARSED and self.exchange.parses_at_once:
            response.json = _ParsedJson(self.filter.parsed, content)  # type: ignore[method-assign]
        return response

    def fail(self, error: BaseException) -> None:
        self.end_call(error)


class _ParsedJson:
    """A response's ``json()`` when the guard parsed its body already, as ``json.loads`` would: that parse, the
    first time (the SDK's own parse would cost as much as the guard's again). Later calls, and calls with options,
    parse the body as httpx does, so no two callers share an object. (It holds the body, not the response: no
    reference cycle.)"""

    __slots__ = ("content", "payload")

    def __init__(self, payload: Any, content: bytes) -> None:
        self.payload, self.content = payload, content

    def __call__(self, **kwargs: Any) -> Any:
        payload, self.payload = self.payload, NOT_PARSED
        return json.loads(self.content, **kwargs) if payload is NOT_PARSED or kwargs else payload

    def __reduce__(self) -> tuple[Any, ...]:
        # A copy (pickle, deepcopy) parses its body afresh: it carries neither the parse nor the marker of one taken.
        return partial, (json.loads, self.content)


def in_callers_family(request: httpx2.Request, error: DeepSentinelError) -> None:
    """Make ``error`` an anthropic error too when an anthropic SDK sent ``request`` (it sends ``anthropic-version``):
    that SDK re-raises its own errors and wraps, after retrying, anything else."""
    if "anthropic-version" in request.headers and "anthropic" in sys.modules:
        from deepsentinel.anthropic_flavor import as_anthropic

        as_anthropic(error)


def caller_response(upstream: httpx2.Response, request: httpx2.Request, exchange: Exchange, *, stream: Any = None,
              content: bytes | None = None) -> httpx2.Response:
    """The caller's response: the upstream one's status and headers, with our ``stream`` or the ``content`` read."""
    extensions = {**upstream.extensions, PROVIDER_EXTENSION: exchange.attempt.provider or "unknown"}
    # The body may change: its length and encoding are recomputed. (Raw pairs: decoding them to build the new
    # response's headers again cost more than the filter.)
    # A HEAD answer has no body: its length and codings describe the one a GET would get, and stand as they are.
    dropped = _RECOMPUTED if request.method != "HEAD" else frozenset()
    if _elsewhere(exchange):
        # Answered by another host than the one the caller asked (a fallback): its cookies are not the caller's
        # host's, and the caller's client would file them under that host.
        dropped = dropped | {b"set-cookie"}
    headers = [(k, v) for k, v in upstream.headers.raw if k.lower() not in dropped]
    return httpx2.Response(upstream.status_code, headers=headers, stream=stream, content=content, request=request,
                           extensions=extensions)


_RECOMPUTED = frozenset({b"content-length", b"content-encoding", b"transfer-encoding"})


def _elsewhere(exchange: Exchange) -> bool:
    """Whether the answer came from another origin than the one the caller asked (a fallback, a routed provider)."""
    sent = exchange.attempt.request.url
    if sent == exchange.url:
        return False
    a, b = urlsplit(sent), urlsplit(exchange.url)
    return (a.scheme, a.netloc) != (b.scheme, b.netloc)


__all__ = ["PROVIDER_EXTENSION", "AnswerBody", "WholeBody", "caller_response", "in_callers_family"]
