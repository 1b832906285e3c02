"""OpenAI's Responses API wire shapes: the ``response`` object and its SSE event sequence.

A :class:`~deepsentinel.testing.replies.Reply` becomes output items: one ``message`` item
(``output_text``, or a ``refusal`` part) when it has text, then one ``function_call`` item per tool
call. Streaming follows the real order: ``response.created``, ``response.in_progress``, per item
``output_item.added`` (and ``content_part.added`` for a message), the deltas, their ``.done``
events, ``output_item.done``, then ``response.completed`` (or ``response.incomplete`` for a
``length`` finish) carrying the full snapshot. Every event has ``type`` and ``sequence_number``.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Iterator
from typing import Any

from deepsentinel.testing.replies import Reply, split_text
from deepsentinel.testing.wire import (
    CallFacts,
    SseEvent,
    json_event,
    obfuscation,
    usage_for,
    wants_obfuscation,
)


def response_id(facts: CallFacts) -> str:
    """A stable id for the request's response."""
    return f"resp_fake{facts.request_number:06d}"


def _message_id(facts: CallFacts) -> str:
    return f"msg_fake{facts.request_number:06d}"


def _function_ids(reply: Reply, facts: CallFacts, index: int) -> tuple[str, str]:
    """The output item id and the ``call_id`` of the ``index``-th tool call."""
    call = reply.tool_calls[index]
    return f"fc_fake{facts.request_number:04d}x{index}", call.id or f"call_fake{facts.request_number:04d}x{index}"


def _content_part(reply: Reply) -> dict[str, Any]:
    if reply.refusal is not None:
        return {"type": "refusal", "refusal": reply.refusal}
    return {"type": "output_text", "text": reply.content_text(), "annotations": [], "logprobs": []}


def has_message(reply: Reply) -> bool:
    """Whether the reply renders a ``message`` output item (text or refusal, or nothing else to say)."""
    return bool(reply.content_text()) or reply.refusal is not None or not reply.tool_calls


def output_items(reply: Reply, facts: CallFacts) -> list[dict[str, Any]]:
    """The finished output items of ``reply``."""
    items: list[dict[str, Any]] = []
    if has_message(reply):
        items.append({"id": _message_id(facts), "type": "message", "status": "completed", "role": "assistant",
                      "content": [_content_part(reply)]})
    for index, call in enumerate(reply.tool_calls):
        item_id, call_id = _function_ids(reply, facts, index)
        items.append({"id": item_id, "type": "function_call", "status": "completed", "call_id": call_id,
                      "name": call.name, "arguments": call.arguments})
    return items


def _usage(reply: Reply, facts: CallFacts) -> dict[str, Any]:
    usage = usage_for(reply, facts)
    return {
        "input_tokens": usage.prompt_tokens,
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": usage.completion_tokens,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": usage.prompt_tokens + usage.completion_tokens,
    }


def _status(reply: Reply) -> tuple[str, dict[str, str] | None]:
    if reply.resolved_finish_reason() == "length":
        return "incomplete", {"reason": "max_output_tokens"}
    if reply.resolved_finish_reason() == "content_filter":
        return "incomplete", {"reason": "content_filter"}
    return "completed", None


def response(reply: Reply, facts: CallFacts, request: dict[str, Any], *, final: bool = True) -> dict[str, Any]:
    """The ``response`` object: finished (``final``) or the empty in-progress snapshot streams start with."""
    status, incomplete = _status(reply) if final else ("in_progress", None)
    text = request.get("text") if isinstance(request.get("text"), dict) else None
    return {
        "id": response_id(facts),
        "object": "response",
        "created_at": facts.created,
        "status": status,
        "background": False,
        "error": None,
        "incomplete_details": incomplete,
        "instructions": request.get("instructions"),
        "max_output_tokens": request.get("max_output_tokens"),
        "metadata": request.get("metadata") or {},
        "model": facts.model,
        "output": output_items(reply, facts) if final else [],
        "parallel_tool_calls": request.get("parallel_tool_calls", True),
        "previous_response_id": request.get("previous_response_id"),
        "reasoning": {"effort": None, "summary": None},
        "service_tier": "default",
        "store": request.get("store", True),
        "temperature": request.get("temperature", 1.0),
        "text": text or {"format": {"type": "text"}},
        "tool_choice": request.get("tool_choice", "auto"),
        "tools": request.get("tools") or [],
        "top_p": request.get("top_p", 1.0),
        "truncation": request.get("truncation", "disabled"),
        "usage": _usage(reply, facts) if final else None,
        "user": None,
    }


class _Sequencer:
    """Numbers the events of one stream and renders them as named SSE events."""

    def __init__(self, pad: random.Random | None = None) -> None:
        self.number = 0
        self._pad = pad  # OpenAI's ``obfuscation`` padding on delta events, unless the request turned it off

    def event(self, type_: str, *, is_delta: bool = False, **fields: Any) -> SseEvent:
        payload = {"type": type_, "sequence_number": self.number, **fields}
        if is_delta and self._pad is not None:
            payload["obfuscation"] = obfuscation(self._pad)
        self.number += 1
        return json_event(payload, event=type_, is_delta=is_delta)


def stream_events(reply: Reply, facts: CallFacts, request: dict[str, Any]) -> Iterator[SseEvent]:
    """The SSE events of a streamed response, ending with the full snapshot."""
    seq = _Sequencer(random.Random(facts.request_number) if wants_obfuscation(request) else None)
    start = response(reply, facts, request, final=False)
    yield seq.event("response.created", response=start)
    yield seq.event("response.in_progress", response=start)
    finished = output_items(reply, facts)
    index = 0
    if has_message(reply):
        yield from _message_events(seq, reply, finished[0])
        index = 1
    for call_number in range(len(reply.tool_calls)):
        yield from _function_events(seq, reply, finished[index], index, call_number)
        index += 1
    final = response(reply, facts, request)
    done_type = "response.completed" if final["status"] == "completed" else "response.incomplete"
    yield seq.event(done_type, response=final)


def _message_events(seq: _Sequencer, reply: Reply, item: dict[str, Any]) -> Iterator[SseEvent]:
    where = {"item_id": item["id"], "output_index": 0}
    yield seq.event("response.output_item.added", output_index=0,
                    item={**item, "status": "in_progress", "content": []})
    part = item["content"][0]
    empty = {"type": "refusal", "refusal": ""} if part["type"] == "refusal" else {**part, "text": ""}
    yield seq.event("response.content_part.added", **where, content_index=0, part=empty)
    if part["type"] == "refusal":
        for piece in split_text(reply.refusal or "", reply.chunk_size):
            yield seq.event("response.refusal.delta", is_delta=True, **where, content_index=0, delta=piece)
        yield seq.event("response.refusal.done", **where, content_index=0, refusal=reply.refusal)
    else:
        for piece in reply.content_chunks():
            yield seq.event("response.output_text.delta", is_delta=True, **where, content_index=0, delta=piece,
                            logprobs=[])
        yield seq.event("response.output_text.done", **where, content_index=0, text=part["text"], logprobs=[])
    yield seq.event("response.content_part.done", **where, content_index=0, part=part)
    yield seq.event("response.output_item.done", output_index=0, item=item)


def _function_events(seq: _Sequencer, reply: Reply, item: dict[str, Any], output_index: int,
                     call_number: int) -> Iterator[SseEvent]:
    added = copy.deepcopy(item)
    added.update(status="in_progress", arguments="")
    yield seq.event("response.output_item.added", output_index=output_index, item=added)
    where = {"item_id": item["id"], "output_index": output_index}
    for piece in reply.tool_calls[call_number].stream_pieces():
        yield seq.event("response.function_call_arguments.delta", is_delta=True, **where, delta=piece)
    yield seq.event("response.function_call_arguments.done", **where, name=item["name"],
                    arguments=item["arguments"])
    yield seq.event("response.output_item.done", output_index=output_index, item=item)


def stream_error(message: str | None, type_: str | None, number: int) -> SseEvent:
    """The Responses API's in-stream ``error`` event."""
    payload = {"type": "error", "sequence_number": number, "code": type_ or "server_error",
               "message": message or "The server had an error while processing your request.", "param": None}
    return json_event(payload, event="error")
