"""The gateway's own answers, in the wire format of the API the client called (pure ASGI, no framework).

Error bodies and stream error events come from the wire codecs (``Codec.error_body``/``error_event``), so an
OpenAI client reads ``{"error": {...}}`` and an Anthropic client ``{"type": "error", "error": {...}}``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from deepsentinel.errors import ComplianceViolationError
from deepsentinel.wire.anthropic_codec import AnthropicCodec
from deepsentinel.wire.codec import Codec, codec_for

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

#: status -> (OpenAI error type, Anthropic error type)
_TYPES = {
    400: ("invalid_request_error", "invalid_request_error"),
    401: ("invalid_request_error", "authentication_error"),
    403: ("permission_error", "permission_error"),
    404: ("invalid_request_error", "not_found_error"),
    413: ("invalid_request_error", "request_too_large"),
    429: ("rate_limit_error", "rate_limit_error"),
    500: ("internal_error", "api_error"),
    502: ("upstream_error", "api_error"),
    503: ("unavailable", "overloaded_error"),
    504: ("timeout", "timeout_error"),
}
COMPLIANCE_TYPE = "compliance_violation"


def codec_of(path: str) -> Codec:
    """The codec whose error format a client of ``path`` reads (``count_tokens`` is Anthropic's too)."""
    return AnthropicCodec() if path.startswith("/v1/messages") else codec_for(path)


def error_type(status: int, codec: Codec) -> str:
    openai_type, anthropic_type = _TYPES.get(status, ("api_error", "api_error"))
    return anthropic_type if codec.api == "anthropic" else openai_type


def compliance_message(exc: ComplianceViolationError) -> tuple[str, list[str]]:
    """A message and the violation types of a block; never the values."""
    types = sorted({v.type for v in exc.violations})
    what = "request" if exc.direction == "request" else "response"
    listed = ", ".join(types) or "policy"
    return f"The {what} was blocked by a compliance policy ({listed}).", types


async def send_json(send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]] | None = None) -> None:
    extra = headers or []
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *extra]})
    await send({"type": "http.response.body", "body": body, "more_body": False})


async def send_error(send: Send, codec: Codec, status: int, message: str, *, code: str | None = None,
                     kind: str | None = None, headers: list[tuple[bytes, bytes]] | None = None, **extra: Any) -> None:
    """A complete error response in ``codec``'s format."""
    body = codec.error_body(message, kind or error_type(status, codec), code, **extra)
    await send_json(send, status, body, headers)


async def send_compliance(send: Send, codec: Codec, exc: ComplianceViolationError) -> None:
    message, types = compliance_message(exc)
    await send_error(send, codec, 400, message, code=COMPLIANCE_TYPE, kind=COMPLIANCE_TYPE, violations=types)


__all__ = ["COMPLIANCE_TYPE", "Receive", "Scope", "Send", "codec_of", "compliance_message", "error_type",
           "send_compliance", "send_error", "send_json"]
