"""The official ``anthropic`` surface on every drop-in path: messages, the stream helper, tool use."""

from __future__ import annotations

from typing import Any

import anthropic
import pytest

from deepsentinel.testing import Reply, ToolCall
from tests.dropin.conftest import ANTHROPIC_MODEL, Clients

USER: Any = [{"role": "user", "content": "tell me about rivers"}]
WEATHER_TOOL: Any = {"name": "get_weather", "description": "The weather in a city.",
                     "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}}}


def test_messages_create(clients: Clients) -> None:
    """messages.create returns the text block, stop reason and usage."""
    clients.server.enqueue(Reply(text="Rivers flow."))
    client = clients.anthropic()
    assert isinstance(client, anthropic.Anthropic)
    message = client.messages.create(model=ANTHROPIC_MODEL, max_tokens=64, messages=USER)
    assert message.content[0].type == "text" and message.content[0].text == "Rivers flow."
    assert message.stop_reason == "end_turn" and message.usage.output_tokens > 0
    assert clients.server.last_request.path == "/v1/messages"


def test_a_long_non_streamed_request_is_refused_under_the_default_timeout(clients: Clients) -> None:
    """Under the SDK's default timeout, messages.create refuses a max_tokens too large to answer within it
    unstreamed (ValueError, nothing sent), as the SDK does; an ordinary one sends the SDK's read limit."""
    client = clients.anthropic()
    assert client.timeout == anthropic.DEFAULT_TIMEOUT
    with pytest.raises(ValueError, match="Streaming is required"):
        client.messages.create(model=ANTHROPIC_MODEL, max_tokens=64000, messages=USER)
    assert clients.server.request_count() == 0
    client.messages.create(model=ANTHROPIC_MODEL, max_tokens=64, messages=USER)
    assert clients.server.last_request.headers["x-stainless-read-timeout"] == "600"


async def test_an_async_long_non_streamed_request_is_refused_under_the_default_timeout(clients: Clients) -> None:
    """The async client refuses it too, before anything is sent."""
    with pytest.raises(ValueError, match="Streaming is required"):
        await clients.async_anthropic().messages.create(model=ANTHROPIC_MODEL, max_tokens=64000, messages=USER)
    assert clients.server.request_count() == 0


@pytest.mark.parametrize(("status", "error_class"), [
    (400, anthropic.BadRequestError), (404, anthropic.NotFoundError), (429, anthropic.RateLimitError),
    (529, anthropic.OverloadedError),
])
async def test_an_error_answers_text_is_the_sdks(clients: Clients, status: int, error_class: type[Exception]) -> None:
    """str() of an error answer is the SDK's own text (its code, then the error body), sync and async alike."""
    clients.server.enqueue(Reply(status=status, error_message="bad thing"), Reply(status=status, error_message="bad thing"))
    with pytest.raises(error_class) as caught:
        clients.anthropic().messages.create(model=ANTHROPIC_MODEL, max_tokens=64, messages=USER)
    with pytest.raises(error_class) as caught_async:
        await clients.async_anthropic().messages.create(model=ANTHROPIC_MODEL, max_tokens=64, messages=USER)
    for error in (caught.value, caught_async.value):
        body = error.body  # type: ignore[attr-defined]
        assert isinstance(body, dict) and body["error"]["message"] == "bad thing"
        assert str(error) == f"Error code: {status} - {body}"


def test_messages_stream_helper(clients: Clients) -> None:
    """messages.stream: text_stream yields the deltas; the final message holds the whole text."""
    clients.server.enqueue(Reply(chunks=["Riv", "ers"]))
    with clients.anthropic().messages.stream(model=ANTHROPIC_MODEL, max_tokens=64, messages=USER) as stream:
        deltas = list(stream.text_stream)
        final = stream.get_final_message()
    assert clients.same_deltas(deltas, ["Riv", "ers"]) and final.content[0].type == "text" and final.content[0].text == "Rivers"


def test_tool_use_round_trip(clients: Clients) -> None:
    """A tool_use block with its input; the tool_result goes back; the final answer follows."""
    client = clients.anthropic()
    clients.server.enqueue(Reply(tool_calls=[ToolCall(name="get_weather", arguments='{"city": "Oslo"}')]),
                           Reply(text="Sunny in Oslo."))
    first = client.messages.create(model=ANTHROPIC_MODEL, max_tokens=64, messages=USER, tools=[WEATHER_TOOL])
    [block] = [b for b in first.content if b.type == "tool_use"]
    assert block.name == "get_weather" and block.input == {"city": "Oslo"} and first.stop_reason == "tool_use"
    follow_up: Any = [*USER, {"role": "assistant", "content": [block.model_dump()]},
                      {"role": "user", "content": [{"type": "tool_result", "tool_use_id": block.id,
                                                    "content": "sunny"}]}]
    second = client.messages.create(model=ANTHROPIC_MODEL, max_tokens=64, messages=follow_up, tools=[WEATHER_TOOL])
    assert second.content[0].type == "text" and second.content[0].text == "Sunny in Oslo."


def test_streamed_tool_use_input_json(clients: Clients) -> None:
    """Streamed tool use: input_json deltas add up to the tool input in the final message."""
    clients.server.enqueue(Reply(tool_calls=[ToolCall(name="get_weather", arguments='{"city": "Oslo"}',
                                                      argument_chunks=['{"ci', 'ty": "Os', 'lo"}'])]))
    with clients.anthropic().messages.stream(model=ANTHROPIC_MODEL, max_tokens=64, messages=USER,
                                             tools=[WEATHER_TOOL]) as stream:
        partials = [event.partial_json for event in stream if event.type == "input_json"]
        final = stream.get_final_message()
    assert clients.same_deltas(partials, ['{"ci', 'ty": "Os', 'lo"}'])
    assert final.content[0].type == "tool_use" and final.content[0].input == {"city": "Oslo"}


async def test_async_messages_stream(clients: Clients) -> None:
    """The async stream helper."""
    clients.server.enqueue(Reply(chunks=["a", "b"]))
    async with clients.async_anthropic().messages.stream(model=ANTHROPIC_MODEL, max_tokens=64,
                                                         messages=USER) as stream:
        deltas = [text async for text in stream.text_stream]
    assert clients.same_deltas(deltas, ["a", "b"])


def test_count_tokens(clients: Clients) -> None:
    """messages.count_tokens answers input_tokens."""
    counted = clients.anthropic().messages.count_tokens(model=ANTHROPIC_MODEL, messages=USER)
    assert counted.input_tokens > 0
    assert clients.server.last_request.path == "/v1/messages/count_tokens"


async def test_the_user_agent_is_the_official_sdks(clients: Clients) -> None:
    """The provider sees the SDK it knows (``Anthropic/Python x.y``), not our class name."""
    clients.anthropic().messages.create(model=ANTHROPIC_MODEL, max_tokens=64, messages=USER)
    assert clients.server.last_request.headers["user-agent"] == f"Anthropic/Python {anthropic.__version__}"
    await clients.async_anthropic().messages.create(model=ANTHROPIC_MODEL, max_tokens=64, messages=USER)
    assert clients.server.last_request.headers["user-agent"] == f"AsyncAnthropic/Python {anthropic.__version__}"
