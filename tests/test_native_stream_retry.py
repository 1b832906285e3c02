"""A native stream (OpenAI chat, the Responses API, Anthropic messages) whose provider sends its own error event
before any text, saying "try again" (an overload, a rate limit, a server error): the same as a 5xx before content.
The stream is reopened (this target's retries, then the next fallback target); the caller sees only the answer
that came through, its opening events once. With every attempt spent, the caller's SDK raises on the provider's
event, as it did before."""

from __future__ import annotations

import inspect
from typing import Any

import anthropic
import openai
import pytest

from deepsentinel import AsyncSentinelAnthropic, ProviderError, SentinelAnthropic
from deepsentinel.audit import MemorySink, Outcome
from deepsentinel.config import PerformanceConfig, SentinelConfig
from deepsentinel.testing import FakeLLMServer, Reply
from tests.raw_sse import RawSSEServer, sse

from .conftest import collect, create, user

_CONFIG = SentinelConfig(performance_config=PerformanceConfig(max_retries=1, retry_backoff=0))


async def _text(stream: Any) -> str:
    return "".join(c.choices[0].delta.content or "" for c in await collect(stream) if c.choices)


async def test_an_overload_event_before_any_text_reopens_a_chat_stream(
        make_client: Any, fake_server: FakeLLMServer, sink: MemorySink) -> None:
    fake_server.enqueue(Reply(text="lost answer", error_after=0), Reply(text="Second try."))
    stream = await create(make_client(config=_CONFIG), model="gpt-4o", messages=user("hi"), stream=True)
    assert await _text(stream) == "Second try."
    assert fake_server.request_count() == 2
    assert [e.outcome for e in sink.events] == [Outcome.ALLOWED]


async def test_an_error_event_held_back_for_nothing_is_raised_by_the_sdk_as_before(
        make_client: Any, fake_server: FakeLLMServer, sink: MemorySink) -> None:
    """Every attempt (the first and one retry) fails the same way: the SDK raises the provider's error."""
    fake_server.enqueue(*(Reply(text="lost", error_after=0, error_message="overloaded now") for _ in range(2)))
    stream = await create(make_client(config=_CONFIG), model="gpt-4o", messages=user("hi"), stream=True)
    with pytest.raises(openai.APIError, match="overloaded now"):
        await collect(stream)
    assert fake_server.request_count() == 2
    assert [(e.outcome, e.error_type) for e in sink.events] == [(Outcome.PROVIDER_ERROR, "ProviderError")]


@pytest.mark.parametrize("reply", [
    Reply(chunks=["Hello there.", " The sky", " is blue", " today."], error_after=3),  # after text was shown
    Reply(text="x", error_after=0, error_type="invalid_request_error"),  # a request error: it would fail again
], ids=["after-text", "request-error"])
async def test_an_error_event_is_not_retried_after_text_or_for_a_request_error(
        make_client: Any, fake_server: FakeLLMServer, reply: Reply) -> None:
    fake_server.enqueue(reply, Reply(text="unused"))
    stream = await create(make_client(config=_CONFIG), model="gpt-4o", messages=user("hi"), stream=True)
    with pytest.raises(openai.APIError):
        await collect(stream)
    assert fake_server.request_count() == 1


async def test_an_overload_event_moves_to_the_next_fallback_target(
        make_client: Any, fake_server: FakeLLMServer, sink: MemorySink) -> None:
    """This target's retries spent, the next target answers (here Claude, translated)."""
    fake_server.enqueue(*(Reply(text="lost", error_after=0) for _ in range(2)), Reply(text="From the fallback."))
    stream = await create(make_client(config=_CONFIG), model="gpt-4o", messages=user("hi"), stream=True,
                          fallbacks=["anthropic/claude-3-5-haiku-20241022"])
    assert await _text(stream) == "From the fallback."
    assert [r.path for r in fake_server.requests][-1].endswith("/messages")
    assert [e.outcome for e in sink.events] == [Outcome.ALLOWED]


async def test_an_overload_event_before_any_text_reopens_a_responses_stream(
        make_client: Any, fake_server: FakeLLMServer) -> None:
    fake_server.enqueue(Reply(text="lost", error_after=0), Reply(text="Second try."))
    client = make_client(config=_CONFIG)
    stream = client.responses.create(model="gpt-4o", input="hi", stream=True)
    stream = await stream if inspect.isawaitable(stream) else stream
    events = await collect(stream)
    assert "".join(e.delta for e in events if e.type == "response.output_text.delta") == "Second try."
    assert fake_server.request_count() == 2


@pytest.mark.parametrize("client_class", [SentinelAnthropic, AsyncSentinelAnthropic])
async def test_an_overload_event_before_any_text_reopens_an_anthropic_stream(
        fake_server: FakeLLMServer, client_class: type) -> None:
    fake_server.enqueue(Reply(text="lost", error_after=0), Reply(text="Second try."),
                        *(Reply(text="lost", error_after=0, error_message="still overloaded") for _ in range(2)))
    sink = MemorySink()
    client = client_class(anthropic_api_key="k", base_url=fake_server.anthropic_base_url, audit=sink, config=_CONFIG)
    try:
        kwargs: dict[str, Any] = {"model": "claude-3-5-haiku-20241022", "max_tokens": 64, "messages": user("hi")}
        if client_class is SentinelAnthropic:
            with client.messages.stream(**kwargs) as stream:
                assert stream.get_final_text() == "Second try."
            with pytest.raises(anthropic.APIStatusError, match="still overloaded"), client.messages.stream(**kwargs) as stream:
                stream.get_final_text()
        else:
            async with client.messages.stream(**kwargs) as stream:
                assert await stream.get_final_text() == "Second try."
            with pytest.raises(anthropic.APIStatusError, match="still overloaded"):
                async with client.messages.stream(**kwargs) as stream:
                    await stream.get_final_text()
    finally:
        closed = client.close()
        if inspect.isawaitable(closed):
            await closed
    assert fake_server.request_count() == 4
    assert [e.outcome for e in sink.events] == [Outcome.ALLOWED, Outcome.PROVIDER_ERROR]


async def test_a_translated_stream_whose_retries_are_spent_raises_the_providers_error(
        make_client: Any, fake_server: FakeLLMServer, sink: MemorySink) -> None:
    """Claude's overload event on every attempt: the caller gets the provider's error (529), not a disconnect."""
    fake_server.enqueue(*(Reply(text="lost", error_after=0) for _ in range(2)))
    stream = await create(make_client(config=_CONFIG), model="claude-3-5-haiku-20241022", messages=user("hi"),
                          stream=True)
    with pytest.raises(ProviderError) as info:
        await collect(stream)
    assert info.value.status_code == 529 and fake_server.request_count() == 2
    assert [e.outcome for e in sink.events] == [Outcome.PROVIDER_ERROR]


def _anthropic_stream(text: str) -> bytes:
    message = {"id": "msg_1", "type": "message", "role": "assistant", "model": "claude-3-5-haiku-20241022",
               "content": [], "stop_reason": None, "stop_sequence": None, "usage": {"input_tokens": 1, "output_tokens": 1}}
    return b"".join([
        sse("message_start", {"type": "message_start", "message": message}),
        sse("content_block_start", {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
        sse("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": text}}),
        sse("content_block_stop", {"type": "content_block_stop", "index": 0}),
        sse("message_delta", {"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                              "usage": {"output_tokens": 2}}),
        sse("message_stop", {"type": "message_stop"})])


def test_an_error_event_read_in_the_final_flush_is_retried_then_raised() -> None:
    """An error event the provider ends without its blank line is read only when the body ends (the decoder's
    final flush): it is held for a reopen like any other, and raised by the SDK once the retries are spent."""
    overloaded = (sse("message_start", {"type": "message_start", "message": {"id": "m", "type": "message", "role": "assistant",
                                                                              "model": "c", "content": [], "usage": {}}})
                  + b'event: error\ndata: {"type": "error", "error": {"type": "overloaded_error", "message": "busy now"}}\n',
                  b"")
    server = RawSSEServer(overloaded, (_anthropic_stream("Second try."), b""), overloaded, overloaded)
    kwargs: dict[str, Any] = {"model": "claude-3-5-haiku-20241022", "max_tokens": 64, "messages": user("hi")}
    try:
        with SentinelAnthropic(api_key="k", base_url=server.url.removesuffix("/v1"), config=_CONFIG,
                               audit=False) as client:
            with client.messages.stream(**kwargs) as stream:
                assert stream.get_final_text() == "Second try."
            with pytest.raises(anthropic.APIStatusError, match="busy now"), client.messages.stream(**kwargs) as stream:
                stream.get_final_text()
    finally:
        server.close()
    assert server.requests == 4


@pytest.mark.parametrize("client_class", [SentinelAnthropic, AsyncSentinelAnthropic])
async def test_a_tool_stream_reopened_after_an_overload_has_one_block(
        fake_server: FakeLLMServer, client_class: type) -> None:
    from deepsentinel.testing import ToolCall

    weather = ToolCall("get_weather", '{"city": "Paris"}', argument_chunks=['{"city":', ' "Paris"}'])
    fake_server.enqueue(Reply(tool_calls=[weather], error_after=1), Reply(tool_calls=[weather]))
    kwargs: dict[str, Any] = {"model": "claude-3-5-haiku-20241022", "max_tokens": 64, "messages": user("hi"),
                              "tools": [{"name": "get_weather", "input_schema": {"type": "object"}}]}
    client = client_class(anthropic_api_key="k", base_url=fake_server.anthropic_base_url, audit=False, config=_CONFIG)
    try:
        if client_class is SentinelAnthropic:
            with client.messages.stream(**kwargs) as stream:
                message = stream.get_final_message()
        else:
            async with client.messages.stream(**kwargs) as stream:
                message = await stream.get_final_message()
    finally:
        closed = client.close()
        if inspect.isawaitable(closed):
            await closed
    assert [(b.type, b.name, b.input) for b in message.content] == [("tool_use", "get_weather", {"city": "Paris"})]
    assert fake_server.request_count() == 2
