"""A stream reopened before any text shows only the attempt that came through. What a stream sends before its
first text (OpenAI's role chunk, a tool call's id and name, Anthropic's message_start and content_block_start) waits
for that text: shown from the failed attempt too, the SDKs' accumulators merged both attempts into one answer
(role "assistantassistant", tool "get_weatherget_weather", a second empty tool_use block)."""

from __future__ import annotations

import inspect
import json
from typing import Any

import httpx2
import pytest

from deepsentinel import AsyncSentinelAnthropic, SentinelAnthropic
from deepsentinel.config import PerformanceConfig, SentinelConfig
from deepsentinel.testing import FakeLLMServer, Reply, ToolCall

from .conftest import collect, create, user

_CONFIG = SentinelConfig(performance_config=PerformanceConfig(max_retries=1))
_TOOL = ToolCall(name="get_weather", arguments='{"city": "Paris"}')
_TOOLS = [{"type": "function", "function": {"name": "get_weather",
                                            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}]
_CLAUDE = "claude-3-5-haiku-20241022"


async def _final_completion(client: Any, **kwargs: Any) -> Any:
    manager = client.chat.completions.stream(**kwargs)
    if hasattr(manager, "__aenter__"):
        async with manager as stream:
            async for _ in stream:
                pass
            return await stream.get_final_completion()
    with manager as stream:
        for _ in stream:
            pass
        return stream.get_final_completion()


@pytest.mark.parametrize(("model", "failed"), [
    (_CLAUDE, Reply(text="lost", error_after=0)),  # Claude through the OpenAI client reports overload in-stream
    ("gpt-4o", Reply(chunks=["Lo", "st"], disconnect_after=1)),  # a native stream breaks on a word still held
], ids=["translated-overload", "native-disconnect"])
async def test_a_reopened_stream_gives_one_role(make_client: Any, fake_server: FakeLLMServer, model: str,
                                               failed: Reply) -> None:
    fake_server.enqueue(failed, Reply(text="Second try."))
    completion = await _final_completion(make_client(config=_CONFIG), model=model, messages=user("hi"))
    assert fake_server.request_count() == 2
    assert (completion.choices[0].message.role, completion.choices[0].message.content) == ("assistant", "Second try.")


@pytest.mark.parametrize("model", [_CLAUDE, "gpt-4o"])
async def test_a_reopened_tool_call_stream_names_the_tool_once(make_client: Any, fake_server: FakeLLMServer,
                                                               model: str) -> None:
    failed = Reply(tool_calls=[_TOOL], error_after=0) if model == _CLAUDE else Reply(tool_calls=[_TOOL], disconnect_after=1)
    fake_server.enqueue(failed, Reply(tool_calls=[_TOOL]))
    completion = await _final_completion(make_client(config=_CONFIG), model=model, messages=user("hi"), tools=_TOOLS)
    [call] = completion.choices[0].message.tool_calls
    assert (call.function.name, json.loads(call.function.arguments)) == ("get_weather", {"city": "Paris"})
    assert fake_server.request_count() == 2


async def test_a_reopened_raw_stream_has_one_role_chunk(make_client: Any, fake_server: FakeLLMServer) -> None:
    fake_server.enqueue(Reply(text="lost", error_after=0), Reply(text="Second try."))
    stream = await create(make_client(config=_CONFIG), model=_CLAUDE, messages=user("hi"), stream=True)
    chunks = await collect(stream)
    assert [c.choices[0].delta.role for c in chunks if c.choices].count("assistant") == 1
    assert len({c.id for c in chunks}) == 1


@pytest.mark.parametrize("client_class", [SentinelAnthropic, AsyncSentinelAnthropic])
async def test_a_reopened_anthropic_stream_has_one_start(fake_server: FakeLLMServer, client_class: type) -> None:
    fake_server.enqueue(Reply(tool_calls=[_TOOL], disconnect_after=1), Reply(tool_calls=[_TOOL]))
    client = client_class(anthropic_api_key="k", base_url=fake_server.anthropic_base_url, audit=False, config=_CONFIG)
    kwargs: dict[str, Any] = {"model": _CLAUDE, "max_tokens": 64, "messages": user("hi"),
                              "tools": [{"name": "get_weather", "input_schema": {"type": "object"}}]}
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
    assert fake_server.request_count() == 2
    [block] = message.content
    assert block.input == {"city": "Paris"}


def test_a_stream_with_no_text_at_all_still_arrives_whole(fake_server: FakeLLMServer) -> None:
    """What waits for a first text that never comes is sent at the end: an empty answer keeps its framing."""
    from deepsentinel import protect

    fake_server.enqueue(Reply(text=""))
    with protect(httpx2.Client(), audit=False) as http:
        response = http.post(fake_server.openai_base_url + "/chat/completions",
                             json={"model": "gpt-4o", "stream": True, "messages": user("hi")})
    data = [line[6:] for line in response.text.splitlines() if line.startswith("data: ")]
    assert data[-1] == "[DONE]"
    assert any(json.loads(d)["choices"] and json.loads(d)["choices"][0]["delta"].get("role") == "assistant"
               for d in data[:-1])
