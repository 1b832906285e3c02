"""Anthropic Messages API replies translated to the ``openai`` package's ``ChatCompletion`` and chunks. No I/O.

Text blocks become ``message.content``, ``tool_use`` blocks become ``tool_calls``, ``stop_reason`` becomes
``finish_reason`` and usage is summed the way OpenAI counts it (cached input tokens are prompt tokens).
Not translated: thinking blocks, citations, server-tool blocks (web search, code execution) and
``stop_sequence`` (which sequence matched); they are dropped from the OpenAI shape.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pydantic
from openai.types.chat import ChatCompletion, ChatCompletionChunk

from deepsentinel.errors import ProviderError
from deepsentinel.providers.base import error_message, load_json
from deepsentinel.providers.retry import error_for_status

FINISH_REASONS: Mapping[str, str] = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "pause_turn": "stop",  # a server tool paused the turn; to an OpenAI caller the answer simply ended
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
}
# Anthropic's documented error types and the HTTP status each comes with; used for errors that arrive
# inside a 200 stream, where the status line cannot tell us.
ERROR_STATUS: Mapping[str, int] = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "billing_error": 402,
    "permission_error": 403,
    "not_found_error": 404,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "api_error": 500,
    "timeout_error": 504,
    "overloaded_error": 529,
}


def finish_reason(stop_reason: Any) -> str:
    """OpenAI's ``finish_reason`` for an Anthropic ``stop_reason``; unknown reasons read as a normal stop."""
    return FINISH_REASONS.get(stop_reason, "stop") if isinstance(stop_reason, str) else "stop"


def error_from_payload(
    payload: Any, status_code: int | None, headers: Mapping[str, str], provider: str
) -> ProviderError:
    """The DeepSentinel error for Anthropic's ``{"type": "error", "error": {...}}`` envelope."""
    message, kind = error_message(payload, f"HTTP {status_code}" if status_code else "provider reported an error")
    status = status_code if status_code is not None else ERROR_STATUS.get(kind or "")
    if status is None:
        error = ProviderError(message, provider=provider, error_type=kind)
    else:
        error = error_for_status(status, headers, message, provider, kind)
    return error


def usage_dict(usage: Mapping[str, Any]) -> dict[str, Any]:
    """OpenAI usage from Anthropic usage: cache writes and reads are input the model read, so prompt tokens."""
    cache_read = _int(usage.get("cache_read_input_tokens"))
    prompt = _int(usage.get("input_tokens")) + _int(usage.get("cache_creation_input_tokens")) + cache_read
    completion = _int(usage.get("output_tokens"))
    out: dict[str, Any] = {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }
    if cache_read:
        out["prompt_tokens_details"] = {"cached_tokens": cache_read}
    return out


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def parse_message(payload: Any, model: str, provider: str, clock: Callable[[], float] = time.time) -> ChatCompletion:
    """A decoded Messages API reply as a ``ChatCompletion``. Raises ``ProviderError`` on an error or bad shape."""
    if isinstance(payload, Mapping) and payload.get("type") == "error":
        raise error_from_payload(payload, None, {}, provider)
    if not isinstance(payload, Mapping) or not isinstance(payload.get("content"), list):
        raise ProviderError("provider returned a malformed message", provider=provider)
    texts: list[str] = []
    tool_calls: list[dict[str, Any]] = []
    for block in payload["content"]:
        if not isinstance(block, Mapping):
            raise ProviderError("provider returned a malformed content block", provider=provider)
        if block.get("type") == "text":
            texts.append(str(block.get("text", "")))
        elif block.get("type") == "tool_use":
            tool_calls.append(
                {
                    "id": block.get("id"),
                    "type": "function",
                    "function": {"name": block.get("name"), "arguments": json.dumps(block.get("input") or {})},
                }
            )
    message: dict[str, Any] = {
        "role": "assistant",
        # OpenAI sends null content on a tool-call-only reply, and "" for an empty answer
        "content": "".join(texts) if texts or not tool_calls else None,
    }
    if tool_calls:
        message["tool_calls"] = tool_calls
    completion: dict[str, Any] = {
        "id": payload.get("id") or "",
        "object": "chat.completion",
        "created": int(clock()),
        "model": payload.get("model") or model,
        "choices": [
            {"index": 0, "message": message, "finish_reason": finish_reason(payload.get("stop_reason")), "logprobs": None}
        ],
    }
    if isinstance(payload.get("usage"), Mapping):
        completion["usage"] = usage_dict(payload["usage"])
    try:
        return ChatCompletion.model_validate(completion)
    except pydantic.ValidationError as exc:
        raise ProviderError("provider returned a malformed message", provider=provider) from exc


@dataclass
class AnthropicStreamParser:
    """Turns the Messages API's server-sent events into ``ChatCompletionChunk`` objects, one event at a time.

    Event order: ``message_start``, then per content block ``content_block_start``/``_delta``/``_stop``, then
    ``message_delta`` (stop reason, output usage) and ``message_stop``; ``ping`` may come anywhere and ``error``
    ends the stream. With ``include_usage`` an extra last chunk carries usage and no choices, as OpenAI does.
    """

    provider: str
    model: str
    include_usage: bool = False
    clock: Callable[[], float] = time.time
    done: bool = False
    _id: str | None = field(default=None, repr=False)
    _created: int = field(default=0, repr=False)
    _usage: dict[str, Any] = field(default_factory=dict, repr=False)
    _tool_index: dict[int, int] = field(default_factory=dict, repr=False)  # content block -> tool call
    _finished: bool = field(default=False, repr=False)

    def feed(self, event: str, data: str) -> list[ChatCompletionChunk]:
        """Parse one event; returns the chunks it produces. Raises ``ProviderError`` on an error event."""
        if self.done or not data.strip():
            return []
        payload = load_json(data.encode(), self.provider)
        if not isinstance(payload, Mapping):
            raise ProviderError("provider sent a malformed stream event", provider=self.provider)
        kind = payload.get("type") or event
        if kind == "error":
            self.done = True
            raise error_from_payload(payload, None, {}, self.provider)
        if kind == "ping":
            return []
        if kind == "message_start":
            return self._start(payload)
        if self._id is None:
            raise ProviderError(f"provider sent {kind!r} before message_start", provider=self.provider)
        if kind == "content_block_start":
            return self._block_start(payload)
        if kind == "content_block_delta":
            return self._block_delta(payload)
        if kind == "message_delta":
            return self._message_delta(payload)
        if kind == "message_stop":
            self.done = True
            return [] if self._finished else self._finish(None)
        return []  # content_block_stop and event types added after this was written carry nothing for us

    def _start(self, payload: Mapping[str, Any]) -> list[ChatCompletionChunk]:
        message = payload.get("message")
        if not isinstance(message, Mapping):
            raise ProviderError("provider sent a malformed message_start", provider=self.provider)
        self._id = str(message.get("id") or "")
        self.model = str(message.get("model") or self.model)
        self._created = int(self.clock())
        if isinstance(message.get("usage"), Mapping):
            self._usage.update(message["usage"])
        return [self._chunk({"role": "assistant", "content": ""})]

    def _block_start(self, payload: Mapping[str, Any]) -> list[ChatCompletionChunk]:
        block, index = payload.get("content_block"), payload.get("index")
        if not isinstance(block, Mapping) or not isinstance(index, int):
            raise ProviderError("provider sent a malformed content_block_start", provider=self.provider)
        if block.get("type") == "text" and block.get("text"):
            return [self._chunk({"content": str(block["text"])})]
        if block.get("type") == "tool_use":
            call_index = len(self._tool_index)
            self._tool_index[index] = call_index
            call = {
                "index": call_index,
                "id": block.get("id"),
                "type": "function",
                "function": {"name": block.get("name"), "arguments": ""},
            }
            return [self._chunk({"tool_calls": [call]})]
        return []

    def _block_delta(self, payload: Mapping[str, Any]) -> list[ChatCompletionChunk]:
        delta, index = payload.get("delta"), payload.get("index")
        if not isinstance(delta, Mapping) or not isinstance(index, int):
            raise ProviderError("provider sent a malformed content_block_delta", provider=self.provider)
        if delta.get("type") == "text_delta":
            text = delta.get("text")
            return [self._chunk({"content": text})] if isinstance(text, str) and text else []
        if delta.get("type") == "input_json_delta":
            if index not in self._tool_index:
                raise ProviderError("provider sent tool input for an unknown block", provider=self.provider)
            partial = delta.get("partial_json")
            if not isinstance(partial, str) or not partial:
                return []
            call = {"index": self._tool_index[index], "function": {"arguments": partial}}
            return [self._chunk({"tool_calls": [call]})]
        return []  # thinking, signature and citation deltas have no OpenAI field

    def _message_delta(self, payload: Mapping[str, Any]) -> list[ChatCompletionChunk]:
        if isinstance(payload.get("usage"), Mapping):
            # message_delta usage is cumulative; keys it omits keep their message_start values
            self._usage.update({k: v for k, v in payload["usage"].items() if v is not None})
        delta = payload.get("delta")
        stop_reason = delta.get("stop_reason") if isinstance(delta, Mapping) else None
        if self._finished or stop_reason is None:
            return []
        return self._finish(stop_reason)

    def _finish(self, stop_reason: Any) -> list[ChatCompletionChunk]:
        self._finished = True
        chunks = [self._chunk({}, finish_reason(stop_reason))]
        if self.include_usage:
            chunks.append(self._make([], usage_dict(self._usage)))
        return chunks

    def _chunk(self, delta: dict[str, Any], finish: str | None = None) -> ChatCompletionChunk:
        return self._make([{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}], None)

    def _make(self, choices: list[dict[str, Any]], usage: dict[str, Any] | None) -> ChatCompletionChunk:
        chunk = {
            "id": self._id or "",
            "object": "chat.completion.chunk",
            "created": self._created,
            "model": self.model,
            "choices": choices,
            "usage": usage,
        }
        try:
            return ChatCompletionChunk.model_validate(chunk)
        except pydantic.ValidationError as exc:
            raise ProviderError("provider sent a malformed stream event", provider=self.provider) from exc
