"""The Anthropic adapter over real HTTP: its requests sent with httpx2 to the fake server, its parsers on the replies."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx2
import pytest
from openai.types.chat import ChatCompletionChunk

from deepsentinel.errors import ProviderError
from deepsentinel.providers.anthropic import AnthropicAdapter
from deepsentinel.providers.base import ChatRequest, HttpRequest
from deepsentinel.testing.replies import Reply, ToolCall, Usage
from deepsentinel.testing.server import FakeLLMServer

KEY = "sk-ant-" + "e2e" * 10
MODEL = "claude-3-opus-20240229"
MESSAGES = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Say hello"}]


@pytest.fixture
def server() -> Iterator[FakeLLMServer]:
    with FakeLLMServer(api_key=KEY) as s:
        yield s


def adapter(server: FakeLLMServer, key: str = KEY) -> AnthropicAdapter:
    return AnthropicAdapter(key, base_url=server.anthropic_base_url)


def send(http: httpx2.Client, request: HttpRequest) -> httpx2.Response:
    return http.request(request.method, request.url, headers=dict(request.headers), json=request.json)


def stream_chunks(http: httpx2.Client, a: AnthropicAdapter, request: ChatRequest) -> list[ChatCompletionChunk]:
    built = a.build_chat_request(request)
    parser = a.stream_parser(request)
    chunks: list[ChatCompletionChunk] = []
    with http.stream(built.method, built.url, headers=dict(built.headers), json=built.json) as response:
        assert response.status_code == 200
        for sse in httpx2.EventSource(response):
            chunks += parser.feed(sse.event, sse.data)
    assert parser.done
    return chunks


def test_text_round_trip(server: FakeLLMServer) -> None:
    """A translated request is accepted (auth, version, system) and the reply parses to a ChatCompletion."""
    server.enqueue(Reply(text="Hello there", usage=Usage(prompt_tokens=11, completion_tokens=2)))
    a = adapter(server)
    with httpx2.Client() as http:
        response = send(http, a.build_chat_request(ChatRequest(MODEL, MESSAGES, params={"max_tokens": 64})))
    assert response.status_code == 200
    completion = a.parse_chat_response(response.content, MODEL)
    assert completion.choices[0].message.content == "Hello there"
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage is not None and completion.usage.total_tokens == 13
    seen = server.last_request
    assert seen.path == "/v1/messages" and seen.headers["anthropic-version"] == "2023-06-01"
    assert seen.json is not None and seen.json["system"] == "Be brief." and seen.json["max_tokens"] == 64


def test_tool_call_round_trip(server: FakeLLMServer) -> None:
    """A tool-use reply comes back as OpenAI tool calls with finish_reason tool_calls."""
    server.enqueue(Reply(tool_calls=[ToolCall("get_weather", '{"city": "Paris"}', id="toolu_e2e")]))
    a = adapter(server)
    tools = [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}]
    with httpx2.Client() as http:
        response = send(http, a.build_chat_request(ChatRequest(MODEL, MESSAGES, params={"tools": tools})))
    choice = a.parse_chat_response(response.content, MODEL).choices[0]
    assert choice.finish_reason == "tool_calls" and choice.message.tool_calls is not None
    call = choice.message.tool_calls[0]
    assert (call.id, call.function.name, json.loads(call.function.arguments)) == ("toolu_e2e", "get_weather", {"city": "Paris"})  # type: ignore[union-attr]


def test_text_stream_with_usage(server: FakeLLMServer) -> None:
    """A streamed reply yields the text in deltas, a finish chunk and, when asked, a usage chunk."""
    server.enqueue(Reply(chunks=["Hel", "lo ", "world"], usage=Usage(prompt_tokens=5, completion_tokens=3)))
    a = adapter(server)
    request = ChatRequest(MODEL, MESSAGES, stream=True, params={"stream_options": {"include_usage": True}})
    with httpx2.Client() as http:
        chunks = stream_chunks(http, a, request)
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "Hello world"
    assert chunks[-2].choices[0].finish_reason == "stop"
    assert chunks[-1].choices == [] and chunks[-1].usage is not None and chunks[-1].usage.total_tokens == 8
    assert server.last_request.json is not None and "stream_options" not in server.last_request.json


def test_tool_stream(server: FakeLLMServer) -> None:
    """Streamed tool input arrives as argument deltas that join into the JSON arguments."""
    call = ToolCall("lookup", '{"q": "x", "n": 2}', argument_chunks=['{"q": ', '"x", "n": 2}'])
    server.enqueue(Reply(tool_calls=[call]))
    a = adapter(server)
    with httpx2.Client() as http:
        chunks = stream_chunks(http, a, ChatRequest(MODEL, MESSAGES, stream=True))
    deltas = [d for c in chunks for d in c.choices[0].delta.tool_calls or []]
    assert deltas[0].function is not None and deltas[0].function.name == "lookup"
    assert json.loads("".join(d.function.arguments or "" for d in deltas if d.function)) == {"q": "x", "n": 2}
    assert chunks[-1].choices[0].finish_reason == "tool_calls"


async def test_async_stream(server: FakeLLMServer) -> None:
    """The same request and parser work over httpx2.AsyncClient."""
    server.enqueue(Reply(chunks=["a", "b"]))
    a = adapter(server)
    request = ChatRequest(MODEL, MESSAGES, stream=True)
    built, parser = a.build_chat_request(request), a.stream_parser(request)
    text = ""
    async with httpx2.AsyncClient() as http, http.stream("POST", built.url, headers=dict(built.headers), json=built.json) as response:
        async for sse in httpx2.EventSource(response):
            text += "".join(c.choices[0].delta.content or "" for c in parser.feed(sse.event, sse.data) if c.choices)
    assert text == "ab" and parser.done


@pytest.mark.parametrize(
    ("reply", "status", "error_type"),
    [
        (Reply(status=529), 529, "overloaded_error"),
        (Reply(status=400, error_message="max_tokens: too large"), 400, "invalid_request_error"),
        (Reply(status=500), 500, "api_error"),
    ],
)
def test_http_errors(server: FakeLLMServer, reply: Reply, status: int, error_type: str) -> None:
    """Error replies from the server map through parse_error with status and type."""
    server.enqueue(reply)
    a = adapter(server)
    with httpx2.Client() as http:
        response = send(http, a.build_chat_request(ChatRequest(MODEL, MESSAGES)))
    error = a.parse_error(response.status_code, dict(response.headers), response.content)
    assert (error.provider, error.status_code, error.error_type) == ("anthropic", status, error_type)


def test_rate_limit_with_retry_after(server: FakeLLMServer) -> None:
    """A 429 with Retry-After becomes an error with status 429 and retry_after."""
    server.enqueue(Reply(status=429, headers={"Retry-After": "3"}))
    a = adapter(server)
    with httpx2.Client() as http:
        response = send(http, a.build_chat_request(ChatRequest(MODEL, MESSAGES)))
    error = a.parse_error(response.status_code, dict(response.headers), response.content)
    assert error.status_code == 429 and error.retry_after == 3.0


def test_bad_key_is_an_authentication_error(server: FakeLLMServer) -> None:
    """The wrong x-api-key gets a 401, without the key in the message."""
    wrong = "sk-ant-" + "z" * 30
    a = adapter(server, key=wrong)
    with httpx2.Client() as http:
        response = send(http, a.build_chat_request(ChatRequest(MODEL, MESSAGES)))
    error = a.parse_error(response.status_code, dict(response.headers), response.content)
    assert error.status_code == 401 and wrong not in str(error)


def test_stream_cut_by_malformed_event(server: FakeLLMServer) -> None:
    """A garbage event mid-stream raises ProviderError from the parser."""
    server.enqueue(Reply(chunks=["a", "b", "c"], malformed_after=1))
    a = adapter(server)
    with httpx2.Client() as http, pytest.raises(ProviderError):
        stream_chunks(http, a, ChatRequest(MODEL, MESSAGES, stream=True))


def test_models_listing(server: FakeLLMServer) -> None:
    """GET /v1/models parses to openai Model objects owned by anthropic."""
    a = adapter(server)
    with httpx2.Client() as http:
        response = send(http, a.build_models_request())
    page = a.parse_models_response(response.content)
    assert page.models and all(m.owned_by == "anthropic" for m in page.models)
