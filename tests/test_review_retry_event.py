"""Review regressions: a native stream's "try again" error event, held for a reopen that may not happen.

Every test runs through real loopback HTTP: a scripted SSE server that writes each part of a stream in its own
write (a pause between them, so each is a separate read), the official SDKs through DeepSentinel's clients, and
the ASGI gateway under uvicorn.
"""

from __future__ import annotations

import inspect
import json
from typing import Any

import httpx2
import openai
import pytest

from deepsentinel import AsyncSentinelClient, SentinelClient
from deepsentinel.audit import MemorySink, Outcome
from deepsentinel.config import PerformanceConfig, SentinelConfig
from deepsentinel.gateway import create_app
from deepsentinel.sentinel import Sentinel
from deepsentinel.testing import FakeLLMServer, Reply
from tests.gateway.conftest import CLIENT_KEY, RunningGateway, gateway_env
from tests.raw_sse import RawSSEServer, sse

_CONFIG = SentinelConfig(performance_config=PerformanceConfig(max_retries=1, retry_backoff=0))


_RESPONSE = {"id": "resp_1", "object": "response", "created_at": 1, "status": "in_progress", "model": "gpt-4o",
             "output": [], "error": None, "incomplete_details": None, "instructions": None, "metadata": {},
             "parallel_tool_calls": True, "temperature": 1, "tool_choice": "auto", "tools": [], "top_p": 1}


def _responses_attempt() -> list[bytes]:
    """The Responses API failing before any output: its ``error`` event, then its ``response.failed`` end."""
    failed = dict(_RESPONSE, status="failed", error={"code": "server_error", "message": "boom"})
    return [sse("response.created", {"type": "response.created", "sequence_number": 0, "response": _RESPONSE}),
            sse("response.in_progress", {"type": "response.in_progress", "sequence_number": 1, "response": _RESPONSE}),
            sse("error", {"type": "error", "sequence_number": 2, "code": "server_error",
                          "message": "The server had an error", "param": None}),
            sse("response.failed", {"type": "response.failed", "sequence_number": 3, "response": failed})]


async def _drain(stream: Any, into: list[Any]) -> None:
    if hasattr(stream, "__aiter__"):
        async for event in stream:
            into.append(event)
    else:
        for event in stream:
            into.append(event)


@pytest.mark.parametrize("max_retries", [1, 0], ids=["retries-spent", "no-retry-budget"])
@pytest.mark.parametrize("client_class", [SentinelClient, AsyncSentinelClient], ids=["sync", "async"])
async def test_responses_stream_given_up_keeps_the_providers_end_event(client_class: type, max_retries: int) -> None:
    """Every attempt sends ``error`` then ``response.failed`` (separate writes). The last attempt, which cannot be
    reopened, holds nothing: the caller gets both events and the stream ends cleanly (the SDK yields an ``error``
    event, it does not raise); with no retry budget at all nothing is held from the start."""
    server = RawSSEServer(*(_responses_attempt() for _ in range(max_retries + 1)))
    sink = MemorySink()
    config = SentinelConfig(performance_config=PerformanceConfig(max_retries=max_retries, retry_backoff=0))
    client = client_class(openai_api_key="k", base_url=server.url, audit=sink, config=config)
    events: list[Any] = []
    raised: BaseException | None = None
    try:
        stream = client.responses.create(model="gpt-4o", input="hi", stream=True)
        stream = await stream if inspect.isawaitable(stream) else stream
        try:
            await _drain(stream, events)
        except openai.APIError as exc:
            raised = exc
    finally:
        closed = client.close()
        if inspect.isawaitable(closed):
            await closed
        server.close()
    assert server.requests == max_retries + 1
    assert [e.type for e in events] == ["response.created", "response.in_progress", "error", "response.failed"], \
        f"raised {raised!r}"
    assert raised is None
    assert [(e.outcome, e.error_type) for e in sink.events] == [(Outcome.PROVIDER_ERROR, "ProviderError")]


def test_gateway_chat_error_chunk_then_done_keeps_done_and_adds_no_error() -> None:
    """OpenAI chat: role chunk, ``{"error": {"type": "server_error"}}``, then ``[DONE]`` (separate writes), on
    every attempt. The gateway client gets exactly that (no invented second error event, no disconnect), and the
    audit says ProviderError."""
    chunk = {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o-mini",
             "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}]}
    error = {"error": {"message": "The server had an error", "type": "server_error", "param": None, "code": None}}
    server = RawSSEServer(*([sse("", chunk), sse("", error), sse("", "[DONE]")] for _ in range(2)))
    fake = type("Upstream", (), {"openai_base_url": server.url, "anthropic_base_url": server.url})()
    env = gateway_env(fake, DEEPSENTINEL_MAX_RETRIES="1", DEEPSENTINEL_RETRY_BACKOFF="0")  # type: ignore[arg-type]
    sink = MemorySink()
    gateway = RunningGateway(create_app(env, sentinel=Sentinel(environ=env, audit=sink))).__enter__()
    try:
        with httpx2.Client(timeout=20) as http:
            response = http.post(gateway.url + "/v1/chat/completions",
                                 json={"model": "gpt-4o-mini", "stream": True, "messages": [{"role": "user", "content": "hi"}]},
                                 headers={"authorization": f"Bearer {CLIENT_KEY}"})
    finally:
        gateway.__exit__(None, None, None)
        server.close()
    data = [line[6:] for line in response.text.splitlines() if line.startswith("data: ")]
    assert server.requests == 2
    assert data[-1] == "[DONE]", data
    assert sum("error" in json.loads(d) for d in data[:-1]) == 1, data
    assert [(e.outcome, e.error_type) for e in sink.events] == [(Outcome.PROVIDER_ERROR, "ProviderError")]


async def test_translated_stream_given_up_raises_an_openai_sdk_error(make_client: Any, fake_server: FakeLLMServer) -> None:
    """An OpenAI client streaming a Claude model, overloaded on every attempt, raises what the same 529 as an HTTP
    status raises: an ``openai.InternalServerError`` (so ``except openai.APIError`` catches it)."""
    fake_server.enqueue(*(Reply(text="lost", error_after=0) for _ in range(2)))
    client = make_client(config=_CONFIG)
    result = client.chat.completions.create(model="claude-3-5-haiku-20241022", stream=True,
                                            messages=[{"role": "user", "content": "hi"}])
    stream = await result if inspect.isawaitable(result) else result
    with pytest.raises(Exception) as info:  # noqa: B017, PT011
        await _drain(stream, [])
    assert fake_server.request_count() == 2
    assert isinstance(info.value, openai.APIError), type(info.value).__mro__
    assert isinstance(info.value, openai.InternalServerError) and info.value.status_code == 529


def test_gateway_translated_stream_given_up_names_the_overload(fake_server: FakeLLMServer) -> None:
    """A chat call the gateway routes to Claude (translated), overloaded on every attempt: the last attempt holds
    nothing, so the stream (its role chunk sent) ends with an error event naming the overload, not a made-up
    "compliance check failed"."""
    env = gateway_env(fake_server, DEEPSENTINEL_MAX_RETRIES="1", DEEPSENTINEL_RETRY_BACKOFF="0")
    gateway = RunningGateway(create_app(env, sentinel=Sentinel(environ=env, audit=False))).__enter__()
    fake_server.enqueue(*(Reply(text="lost", error_after=0, error_message="busy") for _ in range(2)))
    try:
        with httpx2.Client(timeout=20) as http:
            response = http.post(gateway.url + "/v1/chat/completions",
                                 json={"model": "claude-3-5-haiku-20241022", "stream": True,
                                       "messages": [{"role": "user", "content": "hi"}]},
                                 headers={"authorization": f"Bearer {CLIENT_KEY}"})
    finally:
        gateway.__exit__(None, None, None)
    assert fake_server.request_count() == 2
    data = [json.loads(line[6:]) for line in response.text.splitlines() if line.startswith("data: ")]
    assert data[-1]["error"]["message"] == "The provider reported an error (overloaded_error)."
    assert "compliance" not in response.text and all("error" not in d for d in data[:-1])


def _failed_attempt(code: str) -> list[bytes]:
    failed = dict(_RESPONSE, status="failed", error={"code": code, "message": "boom"})
    return [sse("response.created", {"type": "response.created", "sequence_number": 0, "response": _RESPONSE}),
            sse("response.failed", {"type": "response.failed", "sequence_number": 1, "response": failed})]


@pytest.mark.parametrize(("code", "reopened"), [("server_error", True), ("invalid_prompt", False)])
def test_a_responses_stream_that_fails_before_any_output_is_reopened_or_recorded_as_failed(
        code: str, reopened: bool) -> None:
    """``response.failed`` with no ``error`` event before it: a server error is retried like one; any failure that
    reaches the caller is audited as the provider's error, not as allowed."""
    done = dict(_RESPONSE, status="completed")
    server = RawSSEServer(_failed_attempt(code), [
        sse("response.created", {"type": "response.created", "sequence_number": 0, "response": _RESPONSE}),
        sse("response.completed", {"type": "response.completed", "sequence_number": 1, "response": done})])
    sink = MemorySink()
    client = SentinelClient(openai_api_key="k", base_url=server.url, audit=sink, config=_CONFIG)
    try:
        types = [e.type for e in client.responses.create(model="gpt-4o", input="hi", stream=True)]
        client._sentinel.settle()
    finally:
        client.close()
        server.close()
    if reopened:
        assert (types, server.requests) == (["response.created", "response.completed"], 2)
        assert [(e.outcome, e.attempts) for e in sink.events] == [(Outcome.ALLOWED, 2)]
    else:
        assert (types, server.requests) == (["response.created", "response.failed"], 1)
        assert [(e.outcome, e.error_type) for e in sink.events] == [(Outcome.PROVIDER_ERROR, "ProviderError")]
