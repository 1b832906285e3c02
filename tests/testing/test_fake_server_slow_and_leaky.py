"""Faults for the guard's regression tests: a trickled body, an error echoing the prompt, a malformed chunk with a value."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import anthropic
import httpx2
import openai
import pytest

from deepsentinel.testing import FakeLLMServer, Reply

MODEL = "gpt-4o-mini"


def ssn() -> str:
    """A valid-looking SSN, assembled at run time."""
    return "-".join(["536", "22", "1234"])


@pytest.fixture
def client(fake_server: FakeLLMServer) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=fake_server.openai_base_url, api_key="test", max_retries=0) as built:
        yield built


def test_trickled_json_body_outlives_a_per_read_timeout(fake_server: FakeLLMServer) -> None:
    """One byte per ``trickle`` seconds: each read is quick, the whole body is slow."""
    body = b'{"error": {"message": "slow"}}'
    fake_server.enqueue(Reply(status=400, error_body=body, trickle=0.02))
    started = time.monotonic()
    with httpx2.Client(timeout=httpx2.Timeout(0.5)) as http:
        response = http.post(fake_server.openai_base_url + "/chat/completions", json={"model": MODEL})
    elapsed = time.monotonic() - started
    assert response.status_code == 400 and response.content == body
    assert elapsed >= len(body) * 0.02 > 0.5  # longer than the read timeout, yet no read timed out


def test_trickled_stream_arrives_byte_by_byte(client: openai.OpenAI, fake_server: FakeLLMServer) -> None:
    """A trickled SSE body still parses; it takes at least trickle x bytes."""
    fake_server.enqueue(Reply(chunks=["a", "b"], trickle=0.0005))
    started = time.monotonic()
    with client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "x"}],
                                        stream=True) as stream:
        text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    assert text == "ab"
    raw_size = 4 * 200  # four events of about 200 bytes each, at the least
    assert time.monotonic() - started >= raw_size * 0.0005


def test_trickle_lasts_one_response(client: openai.OpenAI, fake_server: FakeLLMServer) -> None:
    """The next request on the same keep-alive connection is answered at full speed."""
    fake_server.enqueue(Reply(text="ok", trickle=0.001))
    client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "x"}])
    started = time.monotonic()
    client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "x"}])
    assert time.monotonic() - started < 0.5


def test_openai_400_echoes_the_prompt(client: openai.OpenAI, fake_server: FakeLLMServer) -> None:
    """``error_echoes_prompt`` quotes the last user text in the provider's error message, as given."""
    prompt = f"SSN {ssn()} of jane.canary@corp-example.com"
    fake_server.enqueue(Reply(status=400, error_echoes_prompt=True, error_message="Invalid content"))
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": prompt}])
    assert ssn() in caught.value.message and "jane.canary@corp-example.com" in caught.value.message
    assert caught.value.message.startswith("Error code: 400 - ") or "Invalid content" in caught.value.message


def test_responses_and_anthropic_400_echo_the_prompt(fake_server: FakeLLMServer) -> None:
    """The echo works on every endpoint that takes a prompt, in each provider's envelope."""
    prompt = f"my number is {ssn()}"
    fake_server.enqueue(Reply(status=400, error_echoes_prompt=True), Reply(status=400, error_echoes_prompt=True))
    with openai.OpenAI(base_url=fake_server.openai_base_url, api_key="t", max_retries=0) as oai, \
            pytest.raises(openai.BadRequestError) as caught:
        oai.responses.create(model=MODEL, input=prompt)
    assert ssn() in str(caught.value.body)
    with anthropic.Anthropic(base_url=fake_server.anthropic_base_url, api_key="t", max_retries=0) as ant, \
            pytest.raises(anthropic.BadRequestError) as caught_a:
        ant.messages.create(model="claude-haiku-4-5", max_tokens=10, messages=[{"role": "user", "content": prompt}])
    assert ssn() in caught_a.value.message


def test_malformed_chunk_carries_the_given_data(fake_server: FakeLLMServer) -> None:
    """``malformed_data`` is the data line of the broken event, after N good deltas."""
    broken = json.dumps({"id": "x", "choices": [{"index": "nope", "delta": {"content": f"SSN {ssn()}"}}]})[:-2]
    fake_server.enqueue(Reply(chunks=["a", "b", "c"], malformed_after=2, malformed_data=broken))
    with httpx2.Client() as http, http.stream(
        "POST", fake_server.openai_base_url + "/chat/completions",
        json={"model": MODEL, "messages": [{"role": "user", "content": "x"}], "stream": True},
    ) as response:
        lines = [line for line in response.iter_lines() if line.startswith("data: ")]
    contents = [json.loads(line[6:])["choices"][0]["delta"].get("content") for line in lines[:-1]]
    assert contents == ["", "a", "b"]  # the role chunk, then two good deltas
    assert lines[-1] == "data: " + broken


def test_malformed_responses_and_anthropic_events(fake_server: FakeLLMServer) -> None:
    """The broken event takes the stream's own event name, so SDKs try to parse it."""
    fake_server.enqueue(Reply(chunks=["a", "b"], malformed_after=1, malformed_data='{"delta": "536'),
                        Reply(chunks=["a", "b"], malformed_after=1, malformed_data='{"delta": "536'))
    with openai.OpenAI(base_url=fake_server.openai_base_url, api_key="t", max_retries=0) as oai, \
            pytest.raises(ValueError), oai.responses.create(model=MODEL, input="x", stream=True) as stream:
        list(stream)
    with anthropic.Anthropic(base_url=fake_server.anthropic_base_url, api_key="t", max_retries=0) as ant, \
            pytest.raises(ValueError), ant.messages.create(model="claude-haiku-4-5", max_tokens=10, stream=True,
                                                           messages=[{"role": "user", "content": "x"}]) as events:
        list(events)
