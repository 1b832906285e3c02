"""Anthropic's server-sent events translated to OpenAI chat-completion chunks."""

from __future__ import annotations

import json
from typing import Any

import pytest
from anthropic.types import (
    InputJSONDelta,
    Message,
    MessageDeltaUsage,
    RawContentBlockDeltaEvent,
    RawContentBlockStartEvent,
    RawContentBlockStopEvent,
    RawMessageDeltaEvent,
    RawMessageStartEvent,
    RawMessageStopEvent,
    TextBlock,
    TextDelta,
    ToolUseBlock,
    Usage,
)
from anthropic.types.raw_message_delta_event import Delta
from openai.types.chat import ChatCompletionChunk

from deepsentinel.errors import ProviderError
from deepsentinel.providers.anthropic import AnthropicAdapter
from deepsentinel.providers.base import ChatRequest

MODEL = "claude-3-opus-20240229"
NOW = 1_700_000_000.0
Event = tuple[str, str]


def ev(payload: dict[str, Any]) -> Event:
    return payload["type"], json.dumps(payload)


def start(input_tokens: int = 25, cache_read: int = 0) -> Event:
    usage = {"input_tokens": input_tokens, "output_tokens": 1, "cache_read_input_tokens": cache_read}
    message = {
        "id": "msg_stream",
        "type": "message",
        "role": "assistant",
        "model": MODEL,
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": usage,
    }
    return ev({"type": "message_start", "message": message})


def text_block(index: int, *pieces: str) -> list[Event]:
    events = [ev({"type": "content_block_start", "index": index, "content_block": {"type": "text", "text": ""}})]
    events += [
        ev({"type": "content_block_delta", "index": index, "delta": {"type": "text_delta", "text": p}}) for p in pieces
    ]
    return [*events, ev({"type": "content_block_stop", "index": index})]


def tool_block(index: int, tool_id: str, name: str, *json_pieces: str) -> list[Event]:
    block = {"type": "tool_use", "id": tool_id, "name": name, "input": {}}
    events = [ev({"type": "content_block_start", "index": index, "content_block": block})]
    events += [
        ev({"type": "content_block_delta", "index": index, "delta": {"type": "input_json_delta", "partial_json": p}})
        for p in json_pieces
    ]
    return [*events, ev({"type": "content_block_stop", "index": index})]


def end(stop_reason: str = "end_turn", output_tokens: int = 15) -> list[Event]:
    delta = {"type": "message_delta", "delta": {"stop_reason": stop_reason, "stop_sequence": None}, "usage": {"output_tokens": output_tokens}}
    return [ev(delta), ev({"type": "message_stop"})]


PING = ev({"type": "ping"})


def run(events: list[Event], include_usage: bool = False) -> tuple[list[ChatCompletionChunk], bool]:
    params = {"stream_options": {"include_usage": True}} if include_usage else {}
    adapter = AnthropicAdapter("k", clock=lambda: NOW)
    parser = adapter.stream_parser(ChatRequest(MODEL, [{"role": "user", "content": "hi"}], stream=True, params=params))
    chunks: list[ChatCompletionChunk] = []
    for event, data in events:
        chunks += parser.feed(event, data)
    return chunks, parser.done


def text_of(chunks: list[ChatCompletionChunk]) -> str:
    return "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)


def test_text_stream() -> None:
    """A text stream: a role chunk, one chunk per delta, a finish chunk; then done."""
    chunks, done = run([start(), PING, *text_block(0, "Hel", "lo", "!"), PING, *end()])
    assert done
    assert chunks[0].choices[0].delta.role == "assistant"
    assert [c.choices[0].delta.content for c in chunks[1:4]] == ["Hel", "lo", "!"]
    assert text_of(chunks) == "Hello!"
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert all(c.choices and c.usage is None for c in chunks)  # no empty-choices chunk unless asked
    assert {(c.id, c.object, c.created, c.model) for c in chunks} == {("msg_stream", "chat.completion.chunk", int(NOW), MODEL)}
    assert [c.choices[0].finish_reason for c in chunks[:-1]] == [None] * (len(chunks) - 1)


def test_include_usage_adds_a_final_usage_chunk() -> None:
    """With stream_options.include_usage, one last chunk has no choices and the summed usage."""
    chunks, _ = run([start(input_tokens=25, cache_read=5), *text_block(0, "x"), *end(output_tokens=15)], include_usage=True)
    last = chunks[-1]
    assert last.choices == [] and last.usage is not None
    assert (last.usage.prompt_tokens, last.usage.completion_tokens, last.usage.total_tokens) == (30, 15, 45)
    assert chunks[-2].choices[0].finish_reason == "stop"
    assert sum(1 for c in chunks if not c.choices) == 1


def test_tool_use_stream_becomes_tool_call_deltas() -> None:
    """Text then two tool_use blocks: tool-call deltas indexed 0 and 1, arguments streamed in pieces."""
    events = [
        start(),
        *text_block(0, "Checking."),
        *tool_block(1, "toolu_a", "get_weather", "", '{"city": ', '"Paris"}'),
        *tool_block(2, "toolu_b", "get_weather", '{"city": "Rome"}'),
        *end("tool_use"),
    ]
    chunks, done = run(events)
    assert done and text_of(chunks) == "Checking."
    calls = [call for c in chunks if c.choices for call in c.choices[0].delta.tool_calls or []]
    heads = [(c.index, c.id, c.type, c.function.name, c.function.arguments) for c in calls if c.id]  # type: ignore[union-attr]
    assert heads == [(0, "toolu_a", "function", "get_weather", ""), (1, "toolu_b", "function", "get_weather", "")]
    arguments: dict[int, str] = {}
    for call in calls:
        arguments[call.index] = arguments.get(call.index, "") + (call.function.arguments or "")  # type: ignore[union-attr]
    assert {i: json.loads(a) for i, a in arguments.items()} == {0: {"city": "Paris"}, 1: {"city": "Rome"}}
    assert chunks[-1].choices[0].finish_reason == "tool_calls"


@pytest.mark.parametrize(
    ("stop_reason", "finish_reason"),
    [("max_tokens", "length"), ("stop_sequence", "stop"), ("refusal", "content_filter"), ("pause_turn", "stop")],
)
def test_stream_stop_reasons(stop_reason: str, finish_reason: str) -> None:
    """message_delta's stop_reason becomes the last chunk's finish_reason."""
    chunks, _ = run([start(), *text_block(0, "x"), *end(stop_reason)])
    assert chunks[-1].choices[0].finish_reason == finish_reason


def test_missing_message_delta_still_finishes() -> None:
    """A stream that ends with message_stop but no message_delta still gets one finish chunk."""
    chunks, done = run([start(), *text_block(0, "x"), ev({"type": "message_stop"})])
    assert done and chunks[-1].choices[0].finish_reason == "stop"
    assert sum(1 for c in chunks if c.choices[0].finish_reason) == 1


def test_thinking_deltas_and_unknown_events_yield_nothing() -> None:
    """Thinking, signature and future event types are skipped without error."""
    thinking = [
        ev({"type": "content_block_start", "index": 0, "content_block": {"type": "thinking", "thinking": ""}}),
        ev({"type": "content_block_delta", "index": 0, "delta": {"type": "thinking_delta", "thinking": "plan"}}),
        ev({"type": "content_block_delta", "index": 0, "delta": {"type": "signature_delta", "signature": "s"}}),
        ev({"type": "content_block_stop", "index": 0}),
        ev({"type": "brand_new_event", "stuff": 1}),
    ]
    chunks, _ = run([start(), *thinking, *text_block(1, "ok"), *end()])
    assert text_of(chunks) == "ok" and len(chunks) == 3


def test_events_after_done_and_blank_data_are_ignored() -> None:
    """Nothing is produced after message_stop, nor for keep-alive blank data."""
    chunks, _ = run([start(), ("", ""), *text_block(0, "x"), *end(), *text_block(0, "late")])
    assert text_of(chunks) == "x"


def test_error_event_raises_the_mapped_error() -> None:
    """An error event mid-stream raises a ProviderError carrying the type and the implied status."""
    overloaded = ev({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}})
    with pytest.raises(ProviderError) as info:
        run([start(), *text_block(0, "x"), overloaded])
    assert (info.value.provider, info.value.status_code, info.value.error_type) == ("anthropic", 529, "overloaded_error")
    limited = ev({"type": "error", "error": {"type": "rate_limit_error", "message": "slow down"}})
    with pytest.raises(ProviderError) as info:
        run([start(), limited])
    assert info.value.status_code == 429
    odd = ev({"type": "error", "error": {"type": "cosmic_ray_error", "message": "?"}})
    with pytest.raises(ProviderError) as info:
        run([odd])
    assert info.value.status_code is None and info.value.error_type == "cosmic_ray_error"


@pytest.mark.parametrize(
    "events",
    [
        [("message_start", "{not json")],
        [("message_start", "[1, 2]")],
        [("message_start", json.dumps({"type": "message_start"}))],
        [ev({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "x"}})],
        [start(), ev({"type": "content_block_delta", "index": 3, "delta": {"type": "input_json_delta", "partial_json": "{"}})],
        [start(), ev({"type": "content_block_start", "content_block": {"type": "text", "text": ""}})],
        [start(), ev({"type": "content_block_delta", "index": 0, "delta": "text"})],
    ],
)
def test_malformed_events_raise_provider_error(events: list[Event]) -> None:
    """Bad JSON, wrong shapes, events before message_start and tool input for an unknown block all raise."""
    with pytest.raises(ProviderError) as info:
        run(events)
    assert info.value.provider == "anthropic"


def test_event_name_is_used_when_the_payload_has_no_type() -> None:
    """The SSE event name stands in for a missing payload type."""
    chunks, done = run([start(), ("message_stop", "{}")])
    assert done and chunks[-1].choices[0].finish_reason == "stop"


def test_stream_built_from_the_official_sdk_event_models() -> None:
    """Events serialised from the SDK's Raw*Event models translate to the expected chunks."""
    sdk_events = [
        RawMessageStartEvent(
            type="message_start",
            message=Message(
                id="msg_sdk",
                type="message",
                role="assistant",
                model=MODEL,
                content=[],
                stop_reason=None,
                stop_sequence=None,
                usage=Usage(input_tokens=9, output_tokens=1),
            ),
        ),
        RawContentBlockStartEvent(type="content_block_start", index=0, content_block=TextBlock(type="text", text="")),
        RawContentBlockDeltaEvent(type="content_block_delta", index=0, delta=TextDelta(type="text_delta", text="Hi")),
        RawContentBlockStopEvent(type="content_block_stop", index=0),
        RawContentBlockStartEvent(
            type="content_block_start", index=1, content_block=ToolUseBlock(type="tool_use", id="toolu_s", name="f", input={})
        ),
        RawContentBlockDeltaEvent(
            type="content_block_delta", index=1, delta=InputJSONDelta(type="input_json_delta", partial_json='{"a": 1}')
        ),
        RawContentBlockStopEvent(type="content_block_stop", index=1),
        RawMessageDeltaEvent(
            type="message_delta",
            delta=Delta(stop_reason="tool_use", stop_sequence=None),
            usage=MessageDeltaUsage(output_tokens=6),
        ),
        RawMessageStopEvent(type="message_stop"),
    ]
    chunks, done = run([(e.type, e.to_json()) for e in sdk_events], include_usage=True)
    assert done and {c.id for c in chunks} == {"msg_sdk"}
    assert text_of(chunks) == "Hi"
    calls = [call for c in chunks if c.choices for call in c.choices[0].delta.tool_calls or []]
    assert calls[0].id == "toolu_s" and calls[1].function is not None and calls[1].function.arguments == '{"a": 1}'
    assert chunks[-2].choices[0].finish_reason == "tool_calls"
    assert chunks[-1].usage is not None and chunks[-1].usage.total_tokens == 15
