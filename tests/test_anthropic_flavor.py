"""A program that uses only openai never imports the anthropic package (seconds, tens of megabytes); in an
anthropic client's call our errors are anthropic errors too, so that SDK passes them through unwrapped."""

from __future__ import annotations

import pickle
import subprocess
import sys

import anthropic
import httpx2
import pytest

import deepsentinel
from deepsentinel import ComplianceViolationError, ProviderError, SentinelAnthropic
from deepsentinel.anthropic_flavor import ANTHROPIC_STATUS_ERRORS, as_anthropic
from deepsentinel.errors import ProviderTimeoutError, StreamDisconnectedError, ValidationError
from deepsentinel.testing import FakeLLMServer, Reply

SSN = "536-22-" + "1234"


def test_an_openai_only_program_never_imports_anthropic(fake_server: FakeLLMServer) -> None:
    fake_server.enqueue(Reply(text="Hello there."), Reply(chunks=["Hello", " there."]))
    code = f"""
import sys, openai, deepsentinel
client = deepsentinel.SentinelClient(api_key="k", base_url={fake_server.openai_base_url!r}, audit=False)
assert client.chat.completions.create(model="gpt-4o", messages=[{{"role": "user", "content": "hi"}}]).choices[0].message.content == "Hello there."
with client.chat.completions.create(model="gpt-4o", messages=[{{"role": "user", "content": "hi"}}], stream=True) as s:
    assert "".join(c.choices[0].delta.content or "" for c in s if c.choices) == "Hello there."
try:
    client.chat.completions.create(model="gpt-4o", messages=[{{"role": "user", "content": "ssn {SSN}"}}])
except deepsentinel.ComplianceViolationError:
    pass
protected = deepsentinel.protect(openai.OpenAI(api_key="k", base_url={fake_server.openai_base_url!r}), audit=False)
print("anthropic" in sys.modules)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("stream", [False, True])
def test_a_block_in_an_anthropic_call_is_both_kinds_of_error(fake_server: FakeLLMServer, stream: bool) -> None:
    """Blocked before sending, or cut mid-stream: one error, no retries, no wrapping in a connection error."""
    fake_server.enqueue(Reply(chunks=["Your card is 4111 1111 ", "1111 1111, keep it safe."]))
    with SentinelAnthropic(api_key="k", base_url=fake_server.anthropic_base_url, audit=False, max_retries=2) as client:
        if not stream:
            with pytest.raises(anthropic.AnthropicError) as info:
                client.messages.create(model="claude-haiku-4-5", max_tokens=50,
                                       messages=[{"role": "user", "content": f"ssn {SSN}"}])
            assert fake_server.request_count() == 0
        else:
            with pytest.raises(anthropic.AnthropicError) as info, client.messages.stream(
                    model="claude-haiku-4-5", max_tokens=50, messages=[{"role": "user", "content": "card?"}]) as s:
                for _ in s.text_stream:
                    pass
            assert fake_server.request_count() == 1
    assert isinstance(info.value, ComplianceViolationError)
    assert SSN not in str(info.value) and "4111" not in str(info.value)


def test_protect_gives_an_anthropic_client_anthropic_errors(fake_server: FakeLLMServer) -> None:
    client = deepsentinel.protect(anthropic.Anthropic(api_key="k", base_url=fake_server.anthropic_base_url), audit=False)
    assert isinstance(client, anthropic.Anthropic)
    with pytest.raises(anthropic.AnthropicError) as info:
        client.messages.create(model="claude-haiku-4-5", max_tokens=50, messages=[{"role": "user", "content": f"ssn {SSN}"}])
    assert isinstance(info.value, ComplianceViolationError) and fake_server.request_count() == 0
    client.close()


def test_a_guarded_httpx_client_under_the_anthropic_sdk_raises_anthropic_errors(fake_server: FakeLLMServer) -> None:
    """protect(httpx2.Client()) knows nothing of the SDK above it: the request's anthropic-version header tells."""
    client = anthropic.Anthropic(api_key="k", base_url=fake_server.anthropic_base_url, max_retries=2,
                                 http_client=deepsentinel.protect(httpx2.Client(), audit=False))
    with pytest.raises(anthropic.AnthropicError) as info:
        client.messages.create(model="claude-haiku-4-5", max_tokens=50, messages=[{"role": "user", "content": f"ssn {SSN}"}])
    assert isinstance(info.value, ComplianceViolationError) and fake_server.request_count() == 0
    client.close()


def test_status_errors_of_an_anthropic_client_are_anthropic_status_errors(fake_server: FakeLLMServer) -> None:
    fake_server.enqueue(Reply(status=429, error_message="slow down", headers={"retry-after": "1"}))
    client = SentinelAnthropic(api_key="k", base_url=fake_server.anthropic_base_url, audit=False, max_retries=0)
    with client, pytest.raises(anthropic.RateLimitError) as info:
        client.messages.create(model="claude-haiku-4-5", max_tokens=50, messages=[{"role": "user", "content": "hi"}])
    assert isinstance(info.value, ProviderError) and info.value.retry_after == 1


@pytest.mark.parametrize("error", [
    ComplianceViolationError("blocked", direction="response"),
    ValidationError("bad"),
    ProviderTimeoutError("slow", request=httpx2.Request("POST", "http://x/v1/messages"), provider="anthropic"),
    StreamDisconnectedError(request=httpx2.Request("POST", "http://x/v1/messages"), provider="anthropic"),
])
def test_twins_keep_their_meaning_and_pickle(error: deepsentinel.DeepSentinelError) -> None:
    kind = type(error)
    twin = as_anthropic(error)
    assert twin is error and isinstance(twin, kind) and isinstance(twin, anthropic.AnthropicError)
    if isinstance(error, ProviderTimeoutError):
        assert isinstance(error, anthropic.APITimeoutError)
    if isinstance(error, StreamDisconnectedError):
        assert isinstance(error, anthropic.APIConnectionError)
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error) and copy.message == error.message
    assert isinstance(pickle.loads(pickle.dumps(ANTHROPIC_STATUS_ERRORS[429]("x", response=httpx2.Response(
        429, request=httpx2.Request("POST", "http://x")), body=None))), anthropic.RateLimitError)


@pytest.mark.parametrize("status", [400, 402, 408, 413, 429, 500, 501, 503, 504, 529, 418])
def test_an_error_answer_is_the_class_the_anthropic_sdk_raises(fake_server: FakeLLMServer, status: int) -> None:
    """The anthropic SDK picks its error class by status (and by the error's code, from a table that grows with
    each release): ours is an instance of the very class the raw client raises, and a ``ProviderError``."""
    caught = []
    for client in (anthropic.Anthropic(api_key="k", base_url=fake_server.anthropic_base_url, max_retries=0),
                   SentinelAnthropic(api_key="k", base_url=fake_server.anthropic_base_url, max_retries=0, audit=False)):
        fake_server.enqueue(Reply(status=status))
        with client, pytest.raises(anthropic.APIStatusError) as info:
            client.messages.create(model="claude-haiku-4-5", max_tokens=8, messages=[{"role": "user", "content": "hi"}])
        caught.append(info.value)
    raw, ours = caught
    assert isinstance(ours, type(raw)) and isinstance(ours, ProviderError) and ours.status_code == status


def test_a_status_twin_made_in_one_process_unpickles_in_another(fake_server: FakeLLMServer) -> None:
    """A twin is made when its class is first raised; a fresh process unpickling one makes it then."""
    fake_server.enqueue(Reply(status=503))
    with SentinelAnthropic(api_key="k", base_url=fake_server.anthropic_base_url, max_retries=0, audit=False) as client,\
            pytest.raises(anthropic.APIStatusError) as info:
        client.messages.create(model="claude-haiku-4-5", max_tokens=8, messages=[{"role": "user", "content": "hi"}])
    fake_server.enqueue(Reply(status=404, error_body={"type": "error", "error": {
        "type": "not_found_error", "message": "gone", "details": {"error_code": "file_expired"}}}))
    with SentinelAnthropic(api_key="k", base_url=fake_server.anthropic_base_url, max_retries=0, audit=False) as client,\
            pytest.raises(anthropic.APIStatusError) as coded:
        client.messages.create(model="claude-haiku-4-5", max_tokens=8, messages=[{"role": "user", "content": "hi"}])
    code = ("import pickle, sys, anthropic, deepsentinel; errors = pickle.loads(sys.stdin.buffer.read()); "
            "print(*[type(e).__name__ for e in errors], isinstance(errors[0], anthropic.ServiceUnavailableError), "
            "all(isinstance(e, deepsentinel.ProviderError) for e in errors))")
    out = subprocess.run([sys.executable, "-c", code], input=pickle.dumps([info.value, coded.value]),
                         capture_output=True, check=True, timeout=120).stdout.decode().split()
    # The second: a class of the SDK's for one error code, found only in its table of error classes.
    assert out[0] == "AnthropicServiceUnavailableError" and out[2:] == ["True", "True"]
    assert out[1] == f"Anthropic{type(coded.value).__name__.removeprefix('Anthropic')}"
