"""``Exchange``: one HTTP request through the guard, from the caller's request to the caller's response. Sans-IO.

The transports (sync, async) and the gateway only move bytes; everything they decide comes from here:

1. ``Exchange.open(sentinel, method, url, headers, body)`` checks the body (raising on a block, with the call
   recorded), picks the targets (the request as sent, or other providers for routing and fallbacks) and builds
   each target's outgoing request;
2. for each attempt, ``next_target(status or error)`` says whether to move on to the next target;
3. ``body_for(status, raw headers)`` gives the ``BodyFilter`` that turns the upstream body into the
   caller's: translated (Anthropic to OpenAI), checked, rewritten, or cut; it ends the call's audit record.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit

from deepsentinel.calls import CallRecord
from deepsentinel.errors import ComplianceViolationError, ConfigurationError, ValidationError
from deepsentinel.policy.decision import Decision
from deepsentinel.providers.base import TRANSIENT_STATUS, ChatRequest
from deepsentinel.providers.routing import Router, Target
from deepsentinel.sentinel import Sentinel
from deepsentinel.wire.body import BodyFilter, ErrorBody, EventBody, JsonBody, PassBody, TextBody
from deepsentinel.wire.codec import codec_for
from deepsentinel.wire.encoding import inflater_for
from deepsentinel.wire.guard import RequestCheck
from deepsentinel.wire.headers import UNCOMPRESSED, SendHeaders
from deepsentinel.wire.json_io import dumps_bytes, loads
from deepsentinel.wire.scope import CallScope, current_scope

#: The key a SentinelClient built without an OpenAI key gives the SDK, which needs one: never sent (see _keyless).
PLACEHOLDER_KEY = "unset"
#: Out-of-band routing for one call (``provider=``, ``fallbacks=``): read and removed here, never sent.
PROVIDER_HEADER = "x-deepsentinel-provider"
FALLBACKS_HEADER = "x-deepsentinel-fallbacks"


@dataclass(frozen=True)
class Outgoing:
    """One request to send upstream. ``headers`` may hold keys: never log them."""

    method: str
    url: str
    headers: Mapping[str, str] = field(repr=False)
    body: bytes = field(repr=False)
    timeout: float | None = None  # the provider's own (``ProviderConfig.timeout``): no single wait is longer

    def __repr__(self) -> str:
        return f"Outgoing({self.method} {self.url})"


@dataclass(frozen=True)
class Attempt:
    """One target of a call: where it goes, and the translation its answer needs (``None``: same format)."""

    provider: str
    model: str
    request: Outgoing
    chat: ChatRequest | None = None  # set when the answer is translated into an OpenAI chat completion
    adapter: Any = None
    secrets: tuple[str, ...] = field(default=(), repr=False)  # the key sent: blanked if a provider echoes it


class Exchange:
    """A call's request side and its targets; one per request the caller sends."""

    def __init__(self, sentinel: Sentinel, check: RequestCheck | None, call: CallRecord | None,
                 attempts: list[Attempt], scope: CallScope | None, url: str = "") -> None:
        self.sentinel = sentinel
        self.url = url  # as the caller's SDK built it
        self.check = check
        self.call = call
        self.attempts = attempts
        self.scope = scope
        self.index = 0
        # The first target's request is the caller's own, byte for byte, but for ``accept-encoding``: the shell
        # may send the caller's request object instead of building another (a sizeable part of a call).
        self.as_sent = False
        self.identity = False  # whether the caller's request already asks for an uncompressed answer
        # Whether the caller's SDK parses a whole answer as soon as it has it (an openai or anthropic SDK's plain
        # call: it marks the raw and streamed-response forms, and the gateway passes on none of its headers). Only
        # then is the guard's parse of the answer handed on for its json(): a response nobody parses would hold it.
        self.parses_at_once = False

    @classmethod
    def open(cls, sentinel: Sentinel, method: str, url: str, path: str, headers: Mapping[str, str], body: bytes) -> Exchange:
        """Check and route one request (``headers`` by lower-case name). Raises ``ComplianceViolationError`` or
        ``ValidationError`` (recorded) when it must not be sent, ``ConfigurationError`` when no provider can take
        it."""
        identity = headers.get("accept-encoding") == UNCOMPRESSED
        parses_at_once = headers.get(_SDK_LANGUAGE) is not None and headers.get(_SDK_RAW_RESPONSE) is None
        provider = headers.get(PROVIDER_HEADER)
        fallbacks = _fallbacks(headers.get(FALLBACKS_HEADER))
        secrets = _credentials(headers)
        sendable = SendHeaders(headers, _NOT_SENT)
        scope = current_scope()
        if method.upper() in ("GET", "HEAD", "DELETE", "OPTIONS") or not body:
            # Nothing to check on the way out, but a stored answer read back (``responses.retrieve``,
            # ``chat.completions.retrieve``) is model output like any other: its body is checked.
            check = RequestCheck(codec_for(path.rsplit("/", 1)[0]), body, {}, Decision())
            headers = _keyless(sentinel, check.codec.api, url, sendable)
            exchange = cls(sentinel, check, None, [Attempt("", "", Outgoing(method, url, headers, body), secrets=secrets)], scope, url)
            exchange.as_sent = provider is None and fallbacks is None and headers is sendable
            exchange.identity, exchange.parses_at_once = identity, parses_at_once
            return exchange
        if scope is not None and scope.check is not None and scope.body == body:
            check, call = scope.check, scope.call  # a retry: the same body, already checked
        else:
            check, call = _check(sentinel, path, body)
            if scope is not None:
                scope.check, scope.body, scope.call = check, body, call
        assert call is not None
        call.attempts += 1
        try:
            attempts = _route(sentinel, check, method, url, sendable, provider, fallbacks, secrets)
        except (ConfigurationError, ValidationError):
            call.discard()  # nothing was sent: an invalid call leaves no audit event
            if scope is not None:
                scope.call = scope.check = None
            raise
        call.provider = attempts[0].provider or call.provider
        call.sent_at = time.perf_counter()
        exchange = cls(sentinel, check, call, attempts, scope, url)
        first = attempts[0].request
        exchange.as_sent = (provider is None and fallbacks is None and first.headers is sendable and first.body is body
                            and first.url == url and first.method == method)
        exchange.identity, exchange.parses_at_once = identity, parses_at_once
        return exchange

    @property
    def attempt(self) -> Attempt:
        return self.attempts[self.index]

    def move_on(self, status: int | None) -> bool:
        """After the current target answered ``status`` (``None``: no connection): whether to try the next one."""
        health = self.sentinel.router.health
        failed = status is None or status in TRANSIENT_STATUS
        if not failed:
            if health is not None and self.attempt.provider:
                health.record_success(self.attempt.provider)
            return False
        if health is not None and self.attempt.provider:
            health.record_failure(self.attempt.provider)
        if self.index + 1 >= len(self.attempts):
            return False
        self.index += 1
        if self.call is not None:
            self.call.attempts += 1
        return True

    def body_for(self, status: int, headers: list[tuple[bytes, bytes]]) -> BodyFilter:
        """The filter for the current target's response body (``headers``: the response's raw pairs)."""
        # One pass over the raw pairs: four lookups in httpx's headers cost more than the filter.
        content_types, content_codings, transfer_codings, lengths = [], [], [], []
        for name, value in headers:
            name = name.lower()
            if name == b"content-type":  # repeated, joined as httpx joins them: any line may say a stream or media
                content_types.append(value.decode("latin-1"))
            elif name == b"content-encoding":
                content_codings.append(value.decode("latin-1"))
            elif name == b"transfer-encoding":
                transfer_codings.append(value.decode("latin-1"))
            elif name == b"content-length":
                lengths.append(value)
        filt = self._filter(status, ", ".join(content_types))
        # The guard asked for no coding, but a provider may compress anyway: inflated before it is read. (A
        # transfer coding other than chunked, too: aiohttp, under the gateway, leaves it on the body.)
        if content_codings or transfer_codings:
            filt.inflater = inflater_for(content_codings + transfer_codings, self.attempt.provider or "unknown", status)
        elif len(lengths) == 1:
            filt.declared_length = lengths[0]
        filt.delimited = bool(lengths) or any("chunked" in coding.lower() for coding in transfer_codings)
        return filt

    def _filter(self, status: int, content_type: str) -> BodyFilter:
        call, attempt = self.call, self.attempt
        if call is not None and len(self.attempts) > 1:
            call.target = f"{attempt.provider}/{attempt.model}"
            call.provider = attempt.provider
        guard = self.sentinel.guard
        if status >= 400:
            owner = self.scope is None  # inside a scope the SDK may retry: its last error ends the call
            return ErrorBody(guard, attempt, call, status, finish=owner, secrets=attempt.secrets)
        check = self.check
        if check is None or attempt.request.method == "HEAD":
            return PassBody(call)  # a HEAD answer has no body
        if "text/event-stream" in content_type or check.stream:
            # A stream asked for comes as events whatever its type says (text/plain, JSON, none): its SDK reads
            # any answer to a streamed request as events, as they arrive.
            return EventBody(guard, check, attempt, call)
        if attempt.chat is None and (_text_stream(content_type) or (_media(content_type) and not check.codec.known)):
            # Text that is not one JSON document, and media from an endpoint that makes it (speech, a file's bytes):
            # read as it streams. Real media passes at its first bytes that are not UTF-8; a JSON answer that
            # only claims to be an image is read all the same, as its SDK parses it all the same. (An API that
            # answers in text is read as JSON whatever type its answer claims.)
            return TextBody(guard, check, call)
        return JsonBody(guard, check, attempt, call)

    def fail(self, error: BaseException) -> None:
        """The call ended before any response (connection failure, cancellation): record it unless the SDK may
        retry."""
        if self.call is not None and self.scope is None:
            self.call.finish_with_error(error)


# Sent by every call of the openai and anthropic SDKs (Stainless-built), and by their raw and streamed-response forms.
_SDK_LANGUAGE = "x-stainless-lang"
_SDK_RAW_RESPONSE = "x-stainless-raw-response"
# Not sent upstream: the routing headers (read here), and a length the guard's rewrite may change (recomputed).
_NOT_SENT = frozenset({PROVIDER_HEADER, FALLBACKS_HEADER, "content-length"})
_MEDIA = ("audio/", "image/", "video/")  # answers that are media, not text (text-to-speech, image bytes)


def _media(content_type: str) -> bool:
    """Whether an answer is media: every Content-Type line (joined by commas) says so, so that no line of a
    provider's can make a text answer skip the guard."""
    if "," not in content_type:  # one line, as nearly every answer has
        return content_type.lstrip().lower().startswith(_MEDIA)
    return all(part.strip().lower().startswith(_MEDIA) for part in content_type.split(","))


_TEXT_STREAMS = frozenset({"application/octet-stream", "application/jsonl", "application/x-ndjson",
                           "application/x-jsonlines", "application/jsonlines"})


def _text_stream(content_type: str) -> bool:
    """Whether an answer is text (or bytes) read as it streams rather than one JSON document: plain text, a
    transcript, a file's contents (JSONL, CSV, octet-stream). An answer with no type may be JSON: read whole."""
    kind = content_type.split(";", 1)[0].strip().lower()
    return kind in _TEXT_STREAMS or (kind.startswith("text/") and kind != "text/event-stream")


def _check(sentinel: Sentinel, path: str, body: bytes) -> tuple[RequestCheck, CallRecord]:
    guard = sentinel.guard
    call = CallRecord(sentinel.sink, guard.key, codec_for(path).operation, "", "",
                      policies=guard.names)
    try:
        check = guard.check_request(path, body)
    except (ComplianceViolationError, ValidationError) as exc:
        call.model = _model_of(body)
        call.finish_with_error(exc)
        raise
    call.operation = check.codec.operation
    call.model = check.model
    call.streamed = check.stream
    call.request_decision = check.decision
    call.texts = check.texts
    if check.redacted:
        call.stored_text = "\n".join(check.redacted)
    return check, call


def _route(sentinel: Sentinel, check: RequestCheck, method: str, url: str, headers: SendHeaders,
           provider: str | None, fallbacks: list[str] | None, secrets: tuple[str, ...]) -> list[Attempt]:
    """The targets of a call: the request as sent, unless routing (a Claude model through an OpenAI client,
    ``provider=``, fallbacks, a configured default provider or alias) sends it elsewhere."""
    native, model = check.codec.api, check.model
    same = Attempt(native, model, Outgoing(method, url, headers, check.body), secrets=secrets)
    attempts = [same]
    router = sentinel.router
    if check.codec.name == "chat" and native == "openai" and model and (
            provider is not None or fallbacks is not None or router.fallbacks or _elsewhere(router, router.primary(model), same)):
        targets = router.select(model, provider=provider, fallbacks=fallbacks)
        attempts = [_attempt(sentinel, check, t, same) for t in targets]
    if native in sentinel.missing_keys and any(a.provider == native for a in attempts):
        keyless = _keyless(sentinel, native, url, headers)
        attempts = [replace(a, request=replace(a.request, headers=keyless)) if a.request.headers is headers else a
                    for a in attempts]
    return attempts


def _elsewhere(router: Router, primary: Target, same: Attempt) -> bool:
    """Whether a call that names no provider goes to another target than the caller's own. A model whose name alone
    points to another provider (``claude-*``) stays at the caller's URL when that provider has no key here, as the
    raw client would send it: an OpenAI-compatible proxy may serve it (LiteLLM, a company gateway)."""
    if primary.provider != same.provider:
        return router.has_key(primary.provider)
    return primary.model != same.model


def _keyless(sentinel: Sentinel, api: str, url: str, headers: SendHeaders) -> SendHeaders:
    """``headers`` for a request to ``url`` (an ``api`` endpoint) that carries the SDK's placeholder key, from a
    client built without one: without it (a keyless OpenAI-compatible server needs none), or, for OpenAI itself,
    ``ConfigurationError`` naming the missing key. A key the caller gave later (``with_options``, headers, httpx
    auth) is sent as it is."""
    if api not in sentinel.missing_keys or headers.get("authorization") != _PLACEHOLDER_AUTH:
        return headers
    # The URL the SDK built, not the router's idea of it: a copy (with_options) may point elsewhere.
    host = (urlsplit(url).hostname or "").rstrip(".")
    if host == _OPENAI_HOST or host.endswith("." + _OPENAI_HOST):  # regional hosts (eu., us.) too
        raise sentinel.router.missing_key(api)
    return headers.without("authorization")


_PLACEHOLDER_AUTH = f"Bearer {PLACEHOLDER_KEY}"
_OPENAI_HOST = "api.openai.com"


def _attempt(sentinel: Sentinel, check: RequestCheck, target: Target, same: Attempt) -> Attempt:
    payload = dict(check.payload)
    if target.provider == same.provider:  # the request as the caller's SDK built it, perhaps another model
        if target.model == same.model:
            return same
        payload["model"] = target.model
        body = dumps_bytes(payload)
        return Attempt(target.provider, target.model, Outgoing(same.request.method, same.request.url, same.request.headers, body), secrets=same.secrets)
    adapter = sentinel.router.adapter(target.provider)
    params = {k: v for k, v in payload.items() if k not in ("model", "messages", "stream")}
    messages: Any = payload.get("messages")  # checked by its translation (a typed error if not a list)
    chat = ChatRequest(target.model, messages, payload.get("stream") is True, params)
    http = adapter.build_chat_request(chat)
    headers = {k.lower(): v for k, v in http.headers.items()}
    headers["accept-encoding"] = UNCOMPRESSED
    body = dumps_bytes(http.json)
    key = getattr(adapter, "api_key", None)
    translated = sentinel.router.providers[target.provider].kind != "openai"
    return Attempt(target.provider, target.model, Outgoing(http.method, http.url, headers, body, http.timeout),
                   chat=chat if translated else None, adapter=adapter if translated else None,
                   secrets=(key,) if key else ())


def _model_of(body: bytes) -> str:
    """The model a body names, for the record of a call refused before its body was understood."""
    try:
        model = loads(body).get("model")
    except (ValueError, AttributeError, RecursionError):
        return ""
    return model if isinstance(model, str) else ""


def _fallbacks(raw: str | None) -> list[str] | None:
    if raw is None:
        return None
    try:
        value = loads(raw)
    except ValueError:
        raise ValidationError("fallbacks must be a list of 'provider/model' strings") from None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValidationError("fallbacks must be a list of 'provider/model' strings")
    return value


def _credentials(headers: Mapping[str, str]) -> tuple[str, ...]:
    found = []
    for name in ("authorization", "x-api-key", "api-key"):
        value = headers.get(name)
        if value:
            found.append(value.split(" ", 1)[-1] if value.lower().startswith("bearer ") else value)
    return tuple(found)


__all__ = ["FALLBACKS_HEADER", "PLACEHOLDER_KEY", "PROVIDER_HEADER", "Attempt", "Exchange", "Outgoing"]
