"""The fake server driven by the official ``anthropic`` SDK: messages (JSON and events), tool use, errors."""

from __future__ import annotations

import json
from collections.abc import Iterator

import anthropic
import httpx2
import pytest

from deepsentinel.testing import FakeLLMServer, Reply, ToolCall

MODEL = "claude-haiku-4-5"


@pytest.fixture
def client(fake_server: FakeLLMServer) -> Iterator[anthropic.Anthropic]:
    with anthropic.Anthropic(base_url=fake_server.anthropic_base_url, api_key="test", max_retries=0) as built:
        yield built


def user(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


def test_message_json(client: anthropic.Anthropic) -> None:
    """A plain request gets one text block, end_turn and usage."""
    message = client.messages.create(model=MODEL, max_tokens=256, messages=user("describe the ocean"))
    assert message.type == "message" and message.role == "assistant" and message.model == MODEL
    assert len(message.content) == 1 and message.content[0].type == "text"
    assert "ocean" in message.content[0].text
    assert message.stop_reason == "end_turn"
    assert message.usage.input_tokens > 0 and message.usage.output_tokens > 0


def test_stream_event_sequence(client: anthropic.Anthropic, fake_server: FakeLLMServer) -> None:
    """stream=True gives message_start, a text block with the exact deltas, message_delta and message_stop."""
    fake_server.enqueue(Reply(chunks=["Hel", "lo", " there"]))
    with client.messages.create(model=MODEL, max_tokens=64, messages=user("hi"), stream=True) as stream:
        events = list(stream)
    types = [event.type for event in events]
    assert types == [
        "message_start", "content_block_start",
        "content_block_delta", "content_block_delta", "content_block_delta",
        "content_block_stop", "message_delta", "message_stop",
    ]
    assert [e.delta.text for e in events if e.type == "content_block_delta"] == ["Hel", "lo", " there"]  # type: ignore[union-attr]
    delta = events[-2]
    assert delta.type == "message_delta" and delta.delta.stop_reason == "end_turn" and delta.usage.output_tokens > 0


def test_raw_stream_has_a_ping_after_the_first_block_start(fake_server: FakeLLMServer) -> None:
    """On the wire (read with httpx2.EventSource), a ping follows the first content_block_start."""
    body = {"model": MODEL, "max_tokens": 16, "messages": user("hi"), "stream": True}
    with httpx2.Client() as http, http.stream("POST", fake_server.url + "/v1/messages", json=body) as response:
        names = [event.event for event in httpx2.EventSource(response)]
    assert response.headers["content-type"].startswith("text/event-stream")
    assert names[:3] == ["message_start", "content_block_start", "ping"]
    assert names[-2:] == ["message_delta", "message_stop"]


def test_messages_stream_helper_and_final_message(client: anthropic.Anthropic, fake_server: FakeLLMServer) -> None:
    """client.messages.stream yields text and accumulates the final message."""
    fake_server.enqueue(Reply(chunks=["one ", "two"]))
    with client.messages.stream(model=MODEL, max_tokens=64, messages=user("hi")) as stream:
        texts = list(stream.text_stream)
        final = stream.get_final_message()
    assert texts == ["one ", "two"]
    assert final.content[0].text == "one two" and final.stop_reason == "end_turn"  # type: ignore[union-attr]


def test_tool_use_with_input_json_deltas(client: anthropic.Anthropic, fake_server: FakeLLMServer) -> None:
    """A tool call becomes a tool_use block; streamed as input_json_delta pieces it accumulates to the input."""
    call = ToolCall(name="lookup", arguments='{"query": "weather in Paris", "limit": 3}',
                    argument_chunks=['{"query": ', '"weather in Paris", ', '"limit": 3}'])
    fake_server.enqueue(Reply(text="Let me check.", tool_calls=[call]), Reply(text="Let me check.", tool_calls=[call]))
    message = client.messages.create(model=MODEL, max_tokens=64, messages=user("weather?"))
    assert [block.type for block in message.content] == ["text", "tool_use"]
    assert message.content[1].input == {"query": "weather in Paris", "limit": 3}  # type: ignore[union-attr]
    assert message.stop_reason == "tool_use"

    partials: list[str] = []
    with client.messages.stream(model=MODEL, max_tokens=64, messages=user("weather?")) as stream:
        for event in stream:
            if event.type == "content_block_delta" and event.delta.type == "input_json_delta":
                partials.append(event.delta.partial_json)
        final = stream.get_final_message()
    assert partials == list(call.argument_chunks or [])
    tool = final.content[1]
    assert tool.type == "tool_use" and tool.name == "lookup" and tool.id.startswith("toolu_")
    assert tool.input == {"query": "weather in Paris", "limit": 3}
    assert final.stop_reason == "tool_use"


def test_overloaded_529_is_an_internal_server_error(client: anthropic.Anthropic, fake_server: FakeLLMServer) -> None:
    """Reply(status=529) sends Anthropic's overloaded_error envelope; the SDK raises with status 529."""
    fake_server.enqueue(Reply(status=529))
    with pytest.raises(anthropic.APIStatusError) as caught:
        client.messages.create(model=MODEL, max_tokens=16, messages=user("hi"))
    assert isinstance(caught.value, anthropic.InternalServerError)
    assert caught.value.status_code == 529
    assert caught.value.body["type"] == "error"  # type: ignore[index]
    assert caught.value.body["error"]["type"] == "overloaded_error"  # type: ignore[index]


@pytest.mark.parametrize(
    ("status", "error_class", "error_type"),
    [
        (429, anthropic.RateLimitError, "rate_limit_error"),
        (401, anthropic.AuthenticationError, "authentication_error"),
        (400, anthropic.BadRequestError, "invalid_request_error"),
    ],
)
def test_error_envelopes(client: anthropic.Anthropic, fake_server: FakeLLMServer, status: int,
                         error_class: type[anthropic.APIStatusError], error_type: str) -> None:
    """Each scripted status maps to the SDK's error class and Anthropic's error type."""
    fake_server.enqueue(Reply(status=status, error_message="scripted"))
    with pytest.raises(error_class) as caught:
        client.messages.create(model=MODEL, max_tokens=16, messages=user("hi"))
    assert caught.value.body["error"] == {"type": error_type, "message": "scripted"}  # type: ignore[index]


def test_unknown_model_and_missing_max_tokens(client: anthropic.Anthropic, fake_server: FakeLLMServer) -> None:
    """An unknown model gets 404 not_found_error; a request without max_tokens gets 400."""
    with pytest.raises(anthropic.NotFoundError) as caught:
        client.messages.create(model="llama-3-70b", max_tokens=16, messages=user("hi"))
    assert caught.value.body["error"]["type"] == "not_found_error"  # type: ignore[index]
    with httpx2.Client() as http:
        response = http.post(fake_server.url + "/v1/messages", json={"model": MODEL, "messages": user("hi")})
    assert response.status_code == 400
    assert response.json()["error"] == {"type": "invalid_request_error", "message": "max_tokens: Field required"}


def test_api_key_header_is_checked() -> None:
    """With api_key set, a wrong key (x-api-key or bearer) gets 401 authentication_error."""
    key = "sk-ant-" + "k" * 20
    with FakeLLMServer(api_key=key) as server:
        with anthropic.Anthropic(base_url=server.anthropic_base_url, api_key="wrong", max_retries=0) as bad, \
                pytest.raises(anthropic.AuthenticationError):
            bad.messages.create(model=MODEL, max_tokens=16, messages=user("hi"))
        with anthropic.Anthropic(base_url=server.anthropic_base_url, api_key=key, max_retries=0) as good:
            assert good.messages.create(model=MODEL, max_tokens=16, messages=user("hi")).content
        first = server.requests[0].headers  # this SDK version sends the key as a bearer token
        assert first.get("x-api-key", first.get("authorization", "")).endswith("wrong")


def test_models_in_anthropic_shape(client: anthropic.Anthropic) -> None:
    """GET /v1/models with an anthropic-version header answers in Anthropic's page shape."""
    ids = [model.id for model in client.models.list()]
    assert "claude-haiku-4-5" in ids
    assert client.models.retrieve("claude-x-1").type == "model"


def test_disconnect_mid_stream_raises_after_n_deltas(client: anthropic.Anthropic, fake_server: FakeLLMServer) -> None:
    """disconnect_after=2 delivers two text deltas, then the SDK raises; message_stop never comes."""
    fake_server.enqueue(Reply(chunks=["a", "b", "c", "d"], disconnect_after=2))
    seen: list[str] = []
    with pytest.raises(httpx2.TransportError), client.messages.stream(  # noqa: PT012 - the loop is the point
        model=MODEL, max_tokens=16, messages=user("hi")
    ) as stream:
        for text in stream.text_stream:
            seen.append(text)
    assert seen == ["a", "b"]


def test_count_tokens(client: anthropic.Anthropic) -> None:
    """messages.count_tokens answers an input token estimate."""
    counted = client.messages.count_tokens(model=MODEL, messages=user("one two three"))
    assert counted.input_tokens == 3


async def test_async_client_stream(fake_server: FakeLLMServer) -> None:
    """AsyncAnthropic streams the same events."""
    fake_server.enqueue(Reply(chunks=["x", "y"]))
    async with anthropic.AsyncAnthropic(
        base_url=fake_server.anthropic_base_url, api_key="t", max_retries=0
    ) as c, c.messages.stream(model=MODEL, max_tokens=16, messages=user("hi")) as stream:
        texts = [text async for text in stream.text_stream]
        final = await stream.get_final_message()
    assert texts == ["x", "y"] and final.content[0].text == "xy"  # type: ignore[union-attr]
    assert json.loads(fake_server.last_request.body)["stream"] is True
