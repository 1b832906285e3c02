"""Anthropic's wire shapes: messages (JSON and the event sequence) and models."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

from deepsentinel.testing.replies import Reply, ToolCall, Usage
from deepsentinel.testing.wire import CallFacts, SseEvent, json_event, usage_for

# OpenAI finish reasons (the Reply's vocabulary) to Anthropic stop reasons; others pass through.
_STOP_REASONS = {"stop": "end_turn", "length": "max_tokens", "tool_calls": "tool_use", "content_filter": "refusal"}


def stop_reason(reply: Reply) -> str:
    """The Anthropic ``stop_reason`` for ``reply``."""
    if reply.refusal is not None and reply.finish_reason is None:
        return "refusal"
    reason = reply.resolved_finish_reason()
    return _STOP_REASONS.get(reason, reason)


def message_id(facts: CallFacts) -> str:
    """A stable id for the request's message."""
    return f"msg_fake{facts.request_number:06d}"


def _tool_id(call: ToolCall, facts: CallFacts, index: int) -> str:
    return call.id or f"toolu_fake{facts.request_number:04d}x{index}"


def _tool_input(call: ToolCall) -> Any:
    try:
        return json.loads(call.arguments or "{}")
    except ValueError:
        return {}


def _text(reply: Reply) -> str:
    return reply.content_text() + (reply.refusal or "")


def _usage(usage: Usage, *, output_tokens: int | None = None) -> dict[str, Any]:
    return {
        "input_tokens": usage.prompt_tokens,
        "output_tokens": usage.completion_tokens if output_tokens is None else output_tokens,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
        "service_tier": "standard",
    }


def message(reply: Reply, facts: CallFacts) -> dict[str, Any]:
    """A ``message`` object: a text block (if any text) then one ``tool_use`` block per tool call."""
    content: list[dict[str, Any]] = []
    if _text(reply) or not reply.tool_calls:
        content.append({"type": "text", "text": _text(reply)})
    content += [
        {"type": "tool_use", "id": _tool_id(call, facts, j), "name": call.name, "input": _tool_input(call)}
        for j, call in enumerate(reply.tool_calls)
    ]
    return {
        "id": message_id(facts),
        "type": "message",
        "role": "assistant",
        "model": facts.model,
        "content": content,
        "stop_reason": stop_reason(reply),
        "stop_sequence": None,
        "usage": _usage(usage_for(reply, facts)),
    }


def stream_events(reply: Reply, facts: CallFacts) -> Iterator[SseEvent]:
    """The full event sequence, from ``message_start`` to ``message_stop``."""
    usage = usage_for(reply, facts)
    start = {**message(reply, facts), "content": [], "stop_reason": None, "usage": _usage(usage, output_tokens=1)}
    yield json_event({"type": "message_start", "message": start}, event="message_start")
    index = 0
    pinged = False

    def block_start(block: dict[str, Any]) -> Iterator[SseEvent]:
        nonlocal pinged
        yield json_event({"type": "content_block_start", "index": index, "content_block": block},
                         event="content_block_start")
        if not pinged:  # the real API pings once, right after the first block opens
            pinged = True
            yield json_event({"type": "ping"}, event="ping")

    def delta(body: dict[str, Any]) -> SseEvent:
        return json_event({"type": "content_block_delta", "index": index, "delta": body},
                          event="content_block_delta", is_delta=True)

    def block_stop() -> SseEvent:
        return json_event({"type": "content_block_stop", "index": index}, event="content_block_stop")

    pieces = reply.content_chunks() + _refusal_pieces(reply)
    if pieces or not reply.tool_calls:
        yield from block_start({"type": "text", "text": ""})
        for piece in pieces:
            yield delta({"type": "text_delta", "text": piece})
        yield block_stop()
        index += 1
    for j, call in enumerate(reply.tool_calls):
        yield from block_start({"type": "tool_use", "id": _tool_id(call, facts, j), "name": call.name, "input": {}})
        for piece in call.stream_pieces():
            yield delta({"type": "input_json_delta", "partial_json": piece})
        yield block_stop()
        index += 1
    yield json_event(
        {
            "type": "message_delta",
            "delta": {"stop_reason": stop_reason(reply), "stop_sequence": None},
            "usage": {"output_tokens": usage.completion_tokens},
        },
        event="message_delta",
    )
    yield json_event({"type": "message_stop"}, event="message_stop")


def _refusal_pieces(reply: Reply) -> list[str]:
    if reply.refusal is None:
        return []
    return Reply(text=reply.refusal, chunk_size=reply.chunk_size).content_chunks()


def model_object(model_id: str) -> dict[str, Any]:
    """One Anthropic ``model`` object."""
    return {
        "type": "model",
        "id": model_id,
        "display_name": model_id.replace("-", " ").title(),
        "created_at": "2025-01-01T00:00:00Z",
    }


def model_list(model_ids: Sequence[str]) -> dict[str, Any]:
    """Anthropic's page of models."""
    data = [model_object(m) for m in model_ids]
    return {
        "data": data,
        "has_more": False,
        "first_id": data[0]["id"] if data else None,
        "last_id": data[-1]["id"] if data else None,
    }
