"""Faults and plumbing: errors, disconnects, delays, malformed events, keep-alive, shutdown, CLI."""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator

import anthropic
import httpx2
import openai
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deepsentinel.testing import FakeLLMServer, Reply
from deepsentinel.testing.replies import default_reply_text, split_text

MODEL = "gpt-4o-mini"
MESSAGES = [{"role": "user", "content": "hi"}]


def wait_for(condition: Callable[[], bool], seconds: float = 3.0) -> bool:
    """Poll ``condition`` until it holds or ``seconds`` pass (server-side counts lag the client a little)."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)
    return True


@pytest.fixture
def client(fake_server: FakeLLMServer) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=fake_server.openai_base_url, api_key="test", max_retries=0) as built:
        yield built


def test_rate_limit_carries_retry_after(client: openai.OpenAI, fake_server: FakeLLMServer) -> None:
    """Reply(status=429, headers=...) raises RateLimitError whose response carries Retry-After."""
    fake_server.enqueue(Reply(status=429, headers={"Retry-After": "7"}))
    with pytest.raises(openai.RateLimitError) as caught:
        client.chat.completions.create(model=MODEL, messages=MESSAGES)
    assert caught.value.response.headers["retry-after"] == "7"
    assert caught.value.code == "rate_limit_exceeded"
    assert client.chat.completions.create(model=MODEL, messages=MESSAGES).choices  # the queue is spent


def test_error_body_and_fields_can_be_overridden(client: openai.OpenAI, fake_server: FakeLLMServer) -> None:
    """error_message/error_type change the envelope's fields; error_body replaces it whole."""
    fake_server.enqueue(
        Reply(status=500, error_message="boom", error_type="server_error"),
        Reply(status=503, error_body={"error": {"message": "custom", "type": "x", "param": None, "code": "c"}}),
    )
    with pytest.raises(openai.InternalServerError) as first:
        client.chat.completions.create(model=MODEL, messages=MESSAGES)
    assert first.value.body == {"message": "boom", "type": "server_error", "param": None, "code": None}
    with pytest.raises(openai.InternalServerError) as second:
        client.chat.completions.create(model=MODEL, messages=MESSAGES)
    assert second.value.status_code == 503 and second.value.code == "c"


def test_errors_apply_to_any_endpoint(client: openai.OpenAI, fake_server: FakeLLMServer) -> None:
    """A queued error is taken by the next request whatever its endpoint."""
    fake_server.enqueue(Reply(status=400), Reply(status=403))
    with pytest.raises(openai.BadRequestError):
        client.embeddings.create(model="text-embedding-3-small", input="x")
    with pytest.raises(openai.PermissionDeniedError):
        client.models.list()


@pytest.mark.parametrize("cut", [0, 1, 3])
def test_disconnect_after_n_deltas(client: openai.OpenAI, fake_server: FakeLLMServer, cut: int) -> None:
    """disconnect_after=N: exactly N content deltas arrive, then iteration raises and no [DONE] comes."""
    fake_server.enqueue(Reply(chunks=["a", "b", "c", "d"], disconnect_after=cut))
    received: list[str] = []
    with pytest.raises(openai.APIConnectionError), client.chat.completions.create(  # noqa: PT012
        model=MODEL, messages=MESSAGES, stream=True
    ) as stream:
        for chunk in stream:
            if chunk.choices[0].delta.content:
                received.append(chunk.choices[0].delta.content)
    assert received == ["a", "b", "c", "d"][:cut]


async def test_disconnect_with_the_async_client(fake_server: FakeLLMServer) -> None:
    """The async SDK sees the same cut."""
    fake_server.enqueue(Reply(chunks=["a", "b", "c"], disconnect_after=2))
    received: list[str] = []
    async with openai.AsyncOpenAI(base_url=fake_server.openai_base_url, api_key="t", max_retries=0) as client:
        stream = await client.chat.completions.create(model=MODEL, messages=MESSAGES, stream=True)
        with pytest.raises(openai.APIConnectionError):
            async with stream:
                async for chunk in stream:
                    received.append(chunk.choices[0].delta.content or "")
    assert "".join(received) == "ab"


def test_disconnect_on_a_json_request_sends_nothing(client: openai.OpenAI, fake_server: FakeLLMServer) -> None:
    """disconnect_after on a non-streamed request closes the connection before any response."""
    fake_server.enqueue(Reply(text="never", disconnect_after=0))
    with pytest.raises(openai.APIConnectionError):
        client.chat.completions.create(model=MODEL, messages=MESSAGES)


def test_malformed_event_makes_the_sdk_raise(client: openai.OpenAI, fake_server: FakeLLMServer) -> None:
    """malformed_after=1: one good delta, then an event whose data is not JSON."""
    fake_server.enqueue(Reply(chunks=["good", "bad"], malformed_after=1))
    received: list[str] = []
    with pytest.raises(ValueError), client.chat.completions.create(  # noqa: PT012
        model=MODEL, messages=MESSAGES, stream=True
    ) as stream:
        for chunk in stream:
            received.append(chunk.choices[0].delta.content or "")
    assert "".join(received) == "good"


def test_error_after_sends_the_providers_in_stream_error(fake_server: FakeLLMServer) -> None:
    """error_after=1: one delta, then OpenAI's error data event or Anthropic's error event; both SDKs raise."""
    fake_server.enqueue(Reply(chunks=["a", "b"], error_after=1),
                        Reply(chunks=["a", "b"], error_after=1, error_message="slow down"))
    received: list[str] = []
    with openai.OpenAI(base_url=fake_server.openai_base_url, api_key="t", max_retries=0) as client, pytest.raises(
        openai.APIError
    ) as openai_error:
        for chunk in client.chat.completions.create(model=MODEL, messages=MESSAGES, stream=True):
            received.append(chunk.choices[0].delta.content or "")
    assert "".join(received) == "a" and openai_error.value.body["type"] == "server_error"  # type: ignore[index]
    with anthropic.Anthropic(base_url=fake_server.anthropic_base_url, api_key="t", max_retries=0) as client2, \
            pytest.raises(anthropic.APIStatusError) as anthropic_error, \
            client2.messages.stream(model="claude-x", max_tokens=8, messages=MESSAGES) as stream:
        for _ in stream.text_stream:
            pass
    assert anthropic_error.value.body == {  # type: ignore[comparison-overlap]
        "type": "error", "error": {"type": "overloaded_error", "message": "slow down"},
    }


def test_events_are_flushed_one_by_one(fake_server: FakeLLMServer) -> None:
    """With delay_between, the first delta arrives long before the last (read with httpx2.EventSource)."""
    fake_server.enqueue(Reply(chunks=["a", "b", "c"], delay_between=0.15))
    arrivals: list[float] = []
    body = {"model": MODEL, "messages": MESSAGES, "stream": True}
    with httpx2.Client() as http:  # built before the clock starts: its TLS context alone can take 0.3 s on a busy machine
        start = time.perf_counter()
        with http.stream("POST", fake_server.openai_base_url + "/chat/completions", json=body) as response:
            for event in httpx2.EventSource(response):
                if event.data != "[DONE]" and json.loads(event.data)["choices"][0]["delta"].get("content"):
                    arrivals.append(time.perf_counter() - start)
    assert len(arrivals) == 3
    assert arrivals[0] < 0.12 and arrivals[2] - arrivals[0] >= 0.28


def test_server_sees_an_early_break(client: openai.OpenAI, fake_server: FakeLLMServer) -> None:
    """Closing a stream after an early break is seen by the server as an abandoned stream."""
    fake_server.enqueue(Reply(chunks=["x"] * 50, delay_between=0.01))
    with client.chat.completions.create(model=MODEL, messages=MESSAGES, stream=True) as stream:
        for i, _ in enumerate(stream):
            if i == 2:
                break
    assert wait_for(lambda: fake_server.streams_abandoned == 1)
    assert fake_server.streams_completed == 0
    list(client.chat.completions.create(model=MODEL, messages=MESSAGES, stream=True))
    assert wait_for(lambda: fake_server.streams_completed == 1)
    fake_server.reset()
    assert (fake_server.streams_abandoned, fake_server.streams_completed) == (0, 0)


def test_server_sees_a_client_give_up_on_a_delayed_answer(fake_server: FakeLLMServer) -> None:
    """A client that times out while the answer is held back (the official SDK, no retries) is seen by the server
    as an abandoned request at once, not when the delay ends; streams keep their own count."""
    fake_server.enqueue(Reply(text="late", delay_before=5))
    impatient = openai.OpenAI(api_key="k", base_url=fake_server.openai_base_url, timeout=0.3, max_retries=0)
    started = time.monotonic()
    with pytest.raises(openai.APITimeoutError):
        impatient.chat.completions.create(model=MODEL, messages=MESSAGES)
    impatient.close()
    assert wait_for(lambda: fake_server.requests_abandoned == 1)
    assert time.monotonic() - started < 3
    assert (fake_server.streams_abandoned, fake_server.streams_completed) == (0, 0)
    fake_server.reset()
    assert fake_server.requests_abandoned == 0


def test_delay_before_holds_the_response(client: openai.OpenAI, fake_server: FakeLLMServer) -> None:
    """delay_before postpones the whole response."""
    fake_server.enqueue(Reply(text="late", delay_before=0.2))
    start = time.perf_counter()
    assert client.chat.completions.create(model=MODEL, messages=MESSAGES).choices[0].message.content == "late"
    assert time.perf_counter() - start >= 0.19


def test_keep_alive_serves_several_requests_on_one_connection(fake_server: FakeLLMServer) -> None:
    """JSON and complete SSE responses leave the HTTP/1.1 connection open for the next request."""
    connection = http.client.HTTPConnection("127.0.0.1", fake_server.port, timeout=5)
    try:
        for stream in (False, True, False):
            payload = json.dumps({"model": MODEL, "messages": MESSAGES, "stream": stream})
            connection.request("POST", "/v1/chat/completions", body=payload,
                               headers={"Content-Type": "application/json"})
            response = connection.getresponse()
            data = response.read()
            assert response.status == 200 and response.version == 11
            assert data.endswith(b"data: [DONE]\n\n") if stream else json.loads(data)["choices"]
        assert connection.sock is not None  # never reconnected
    finally:
        connection.close()
    assert fake_server.request_count("/v1/chat/completions") == 3


def test_unknown_path_and_anthropic_raw_key_header() -> None:
    """An unknown path gets OpenAI's 404; Anthropic's x-api-key header is accepted when it matches."""
    key = "sk-ant-" + "z" * 10
    with FakeLLMServer(api_key=key) as server, httpx2.Client() as http:
        missing = http.get(server.url + "/v1/nothing", headers={"Authorization": f"Bearer {key}"})
        assert missing.status_code == 404 and missing.json()["error"]["message"] == "Invalid URL (GET /v1/nothing)"
        ok = http.post(server.url + "/v1/messages", headers={"x-api-key": key, "anthropic-version": "2023-06-01"},
                       json={"model": "claude-x", "max_tokens": 8, "messages": MESSAGES})
        assert ok.status_code == 200 and ok.json()["type"] == "message"


def test_stop_is_quick_with_idle_and_busy_connections() -> None:
    """stop() returns promptly even with a keep-alive connection open and a request sleeping on a delay."""
    server = FakeLLMServer().start()
    assert server.start() is server  # idempotent
    idle = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    idle.request("GET", "/v1/models")
    idle.getresponse().read()
    errors: list[BaseException] = []

    def busy() -> None:
        try:
            with httpx2.Client(timeout=5) as http:
                http.post(server.openai_base_url + "/chat/completions", json={"model": MODEL, "messages": MESSAGES})
        except httpx2.TransportError as exc:
            errors.append(exc)

    server.enqueue(Reply(text="y", delay_before=30))
    thread = threading.Thread(target=busy)
    thread.start()
    assert wait_for(lambda: server.request_count("/v1/chat/completions") == 1)
    start = time.perf_counter()
    server.stop()
    server.stop()
    elapsed = time.perf_counter() - start
    thread.join(5)
    idle.close()
    assert elapsed < 1.5 and not thread.is_alive() and len(errors) == 1
    with pytest.raises(RuntimeError):
        server.start()


def test_concurrent_requests_are_all_recorded(fake_server: FakeLLMServer) -> None:
    """Requests from several threads are served and counted exactly."""
    def worker() -> None:
        with openai.OpenAI(base_url=fake_server.openai_base_url, api_key="t", max_retries=0) as client:
            for _ in range(5):
                client.chat.completions.create(model=MODEL, messages=MESSAGES)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert fake_server.request_count("/v1/chat/completions") == 20


def test_reply_validation() -> None:
    """A reply whose text and chunks disagree, or with a zero chunk_size, is refused at once."""
    with pytest.raises(ValueError):
        Reply(text="ab", chunks=["a", "c"])
    with pytest.raises(ValueError):
        Reply(text="ab", chunk_size=0)
    assert Reply(text="abcde", chunk_size=2).content_chunks() == ["ab", "cd", "e"]


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=200))
def test_default_reply_never_echoes_digits_or_symbols(prompt: str) -> None:
    """Whatever the prompt, the default reply has no digits, no @ and splits back into itself."""
    text = default_reply_text(prompt)
    assert not any(ch.isdigit() for ch in text) and "@" not in text and "_" not in text
    assert "".join(split_text(text)) == text


def test_cli_prints_the_url_and_stops_on_sigterm() -> None:
    """python -m deepsentinel.testing prints its base URLs on one flushed line and exits 0 on SIGTERM."""
    process = subprocess.Popen(
        [sys.executable, "-m", "deepsentinel.testing", "--port", "0"],
        stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "0"},
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("DeepSentinel fake LLM server on http://127.0.0.1:")
        url = line.split(" on ", 1)[1].split()[0]
        with httpx2.Client() as http:
            assert http.get(url + "/v1/models").json()["object"] == "list"
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()
