"""Provider failures: typed errors, retries with backoff and Retry-After, no retry once content flowed."""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from typing import Any

import openai
import pytest

from deepsentinel import (
    AuthenticationError,
    ComplianceViolationError,
    PerformanceConfig,
    ProviderError,
    RateLimitError,
    SentinelClient,
    SentinelConfig,
    StreamDisconnectedError,
)
from deepsentinel.errors import ProviderTimeoutError
from deepsentinel.providers.retry import parse_retry_after
from deepsentinel.testing import FakeLLMServer, Reply
from tests.conftest import create, drain_text, user
from tests.raw_sse import RawSSEServer, sse

FAST = SentinelConfig(performance_config=PerformanceConfig(max_retries=2, retry_backoff=0.01, retry_backoff_max=0.02))


async def test_unknown_model_is_a_provider_error_with_status(make_client, fake_server: FakeLLMServer) -> None:
    """The provider's 404 surfaces as ProviderError naming the provider, status and message."""
    stream_or_error = None
    with pytest.raises(ProviderError) as info:
        stream_or_error = await create(make_client(), model="non-existent-model", messages=user("Hello"), stream=True)
    assert stream_or_error is None
    err = info.value
    assert err.provider == "openai" and err.status_code == 404
    assert "does not exist" in err.message
    assert fake_server.request_count() == 1  # a 404 is not retried


async def test_rate_limit_is_retried_honouring_retry_after(make_client, fake_server: FakeLLMServer) -> None:
    """A 429 with Retry-After: 0 is retried and the call then succeeds."""
    fake_server.enqueue(Reply(status=429, headers={"Retry-After": "0"}), Reply(text="ok"))
    reply = await create(make_client(config=FAST), model="gpt-4o", messages=user("hi"))
    assert reply.choices[0].message.content == "ok"
    assert fake_server.request_count("/v1/chat/completions") == 2


async def test_rate_limit_exhausted_raises_with_retry_after(make_client, fake_server: FakeLLMServer) -> None:
    """When retries run out, RateLimitError carries retry_after in seconds (from retry-after-ms here)."""
    limited = Reply(status=429, headers={"retry-after-ms": "10", "x-ratelimit-reset-requests": "120ms"})
    fake_server.enqueue(limited, limited, limited)
    with pytest.raises(RateLimitError) as info:
        await create(make_client(config=FAST), model="gpt-4o", messages=user("hi"), stream=True)
    assert info.value.retry_after == pytest.approx(0.01)
    assert fake_server.request_count() == 3


@pytest.mark.parametrize("status", [500, 503])
async def test_server_errors_are_retried(make_client, fake_server: FakeLLMServer, status: int) -> None:
    """5xx before any content is retried with backoff."""
    fake_server.enqueue(Reply(status=status), Reply(text="recovered"))
    reply = await create(make_client(config=FAST), model="gpt-4o", messages=user("hi"))
    assert reply.choices[0].message.content == "recovered"
    assert fake_server.request_count() == 2


async def test_bad_request_is_not_retried(make_client, fake_server: FakeLLMServer) -> None:
    """A 400 is the caller's problem: surfaced at once."""
    fake_server.enqueue(Reply(status=400, error_message="bad temperature"))
    with pytest.raises(ProviderError) as info:
        await create(make_client(config=FAST), model="gpt-4o", messages=user("hi"))
    assert info.value.status_code == 400 and "bad temperature" in info.value.message
    assert fake_server.request_count() == 1


async def test_authentication_error_is_typed_and_hides_the_key(fake_server: FakeLLMServer, sync: bool) -> None:
    """A rejected key raises AuthenticationError whose text never contains the key."""
    from deepsentinel import AsyncSentinelClient, SentinelClient

    with FakeLLMServer(api_key="right-key") as server:
        cls = SentinelClient if sync else AsyncSentinelClient
        client = cls(openai_api_key="wrong-secret-key", base_url=server.openai_base_url, audit=False)
        with pytest.raises(AuthenticationError) as info:
            await create(client, model="gpt-4o", messages=user("hi"))
        assert info.value.status_code == 401
        assert "wrong-secret-key" not in str(info.value) + repr(info.value) + repr(client)
        result = client.close()
        if result is not None:
            await result


async def test_disconnect_mid_stream_raises_after_the_safe_prefix(make_client, fake_server: FakeLLMServer) -> None:
    """A dropped connection mid-stream raises StreamDisconnectedError after what was already shown; no retry."""
    fake_server.enqueue(Reply(chunks=["Hello ", "there ", "friend ", "of ", "mine."], disconnect_after=3))
    stream = await create(make_client(config=FAST), model="gpt-4o", messages=user("hi"), stream=True)
    shown: list[str] = []
    with pytest.raises(StreamDisconnectedError) as info:
        await drain_text(stream, shown)
    assert isinstance(info.value, ConnectionError)
    assert "".join(shown).startswith("Hello there")
    assert fake_server.request_count() == 1


async def test_read_timeout_is_a_typed_timeout(make_client, fake_server: FakeLLMServer) -> None:
    """A server slower than read_timeout raises ProviderTimeoutError (a builtin TimeoutError too)."""
    slow = SentinelConfig(performance_config=PerformanceConfig(read_timeout=0.2, max_retries=0))
    fake_server.enqueue(Reply(text="late", delay_before=1.0))
    with pytest.raises(ProviderTimeoutError) as info:
        await create(make_client(config=slow), model="gpt-4o", messages=user("hi"))
    assert isinstance(info.value, TimeoutError)


def test_retry_after_parsing_covers_both_forms_and_garbage() -> None:
    """Seconds, HTTP dates and retry-after-ms parse; nonsense is ignored rather than raised."""
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    assert parse_retry_after({"Retry-After": "3"}) == 3.0
    assert parse_retry_after({"retry-after": format_datetime(now + timedelta(seconds=30))}, now=now) == 30.0
    assert parse_retry_after({"retry-after-ms": "250", "retry-after": "9"}) == 0.25
    assert parse_retry_after({"retry-after": "soon"}) is None
    assert parse_retry_after({"x-ratelimit-reset-requests": "120ms"}) is None
    # As the SDKs read them: a spelled-out infinity, nan or a negative number names no wait (they back off); a
    # number past a float's range is an excessive one (they do not retry); a parsed millisecond value is the answer.
    for nameless in ("inf", " Infinity", "+inf", "nan", "-3"):
        assert parse_retry_after({"retry-after": nameless}) is None
        assert parse_retry_after({"retry-after-ms": nameless, "retry-after": "2"}) is None
    assert parse_retry_after({"retry-after": "1e999"}) == math.inf
    assert parse_retry_after({"retry-after-ms": "1e999"}) == math.inf
    assert parse_retry_after({"retry-after-ms": "soon", "retry-after": "2"}) == 2.0
    assert str(parse_retry_after({"retry-after": "-0"})) == "0.0"


async def test_stalled_stream_honours_read_timeout(make_client, fake_server: FakeLLMServer) -> None:
    """A stream that stops sending for longer than read_timeout raises a timeout after the safe prefix."""
    slow = SentinelConfig(performance_config=PerformanceConfig(read_timeout=0.2, max_retries=0))
    fake_server.enqueue(Reply(chunks=["First ", "words ", "then ", "silence."], delay_between=0.6))
    stream = await create(make_client(config=slow), model="gpt-4o", messages=user("hi"), stream=True)
    shown: list[str] = []
    with pytest.raises(ProviderTimeoutError):
        await drain_text(stream, shown)
    assert "silence" not in "".join(shown)


async def test_logs_never_carry_keys_or_sensitive_values(
    make_client, fake_server: FakeLLMServer, caplog: pytest.LogCaptureFixture
) -> None:
    """At DEBUG level, no log line of a call (allowed, blocked, failed) shows the key or a matched value."""
    import logging

    caplog.set_level(logging.DEBUG)
    ssn, key = "123-45-" + "6789", "sk-" + "k" * 40
    client = make_client(openai_api_key=key, config=FAST)
    fake_server.enqueue(Reply(status=503), Reply(text="ok"))
    await create(client, model="gpt-4o", messages=user("hello"))
    with pytest.raises(ComplianceViolationError):
        await create(client, model="gpt-4o", messages=user(f"ssn {ssn}"))
    assert caplog.records  # the retry was logged
    assert key not in caplog.text and ssn not in caplog.text


async def test_stream_dropped_before_any_content_is_reopened(make_client, fake_server: FakeLLMServer) -> None:
    """A stream that breaks before anything reached the caller is retried, and the answer arrives whole."""
    fake_server.enqueue(Reply(chunks=["never ", "seen"], disconnect_after=0), Reply(chunks=["Hello ", "again."]))
    stream = await create(make_client(config=FAST), model="gpt-4o", messages=user("hi"), stream=True)
    shown: list[str] = []
    await drain_text(stream, shown)
    assert "".join(shown) == "Hello again."
    assert fake_server.request_count("/v1/chat/completions") == 2


@pytest.mark.parametrize("client_class", [openai.OpenAI, SentinelClient], ids=["raw", "sentinel"])
def test_a_stream_that_ends_without_done_ends_as_the_raw_clients_does(client_class: type) -> None:
    """Some OpenAI-compatible servers end a stream's body without ``data: [DONE]``: the raw client reads the
    text to its end, and so does ours (the held tail checked and released), with no error, when the body ends
    properly (chunked). One delimited only by the connection's close could be a break: see below."""
    def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
        return sse("", {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m",
                        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})

    body = chunk({"role": "assistant", "content": ""}) + chunk({"content": "Hello "}) + chunk({"content": "world"})
    server = RawSSEServer((body + chunk({}, "stop"), b""), (body, b""), chunked=True)
    try:
        client = client_class(api_key="k", base_url=server.url, max_retries=0,
                              **({"audit": False} if client_class is SentinelClient else {}))
        for _ in range(2):  # after a finish, and with none
            stream = client.chat.completions.create(model="m", messages=user("hi"), stream=True)
            assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices) == "Hello world"
        client.close()
    finally:
        server.close()


@pytest.mark.parametrize("content_type", ["text/plain; charset=utf-8", "application/x-ndjson"])
@pytest.mark.parametrize("client_class", [openai.OpenAI, SentinelClient], ids=["raw", "sentinel"])
def test_a_stream_under_another_content_type_still_arrives_as_it_comes(client_class: type, content_type: str) -> None:
    """A server that sends a stream asked for under another type than text/event-stream: the SDK reads it as
    events as they arrive, and so do we (it was read whole first: nothing showed until its end)."""
    def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
        return sse("", {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m",
                        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})

    first = chunk({"role": "assistant", "content": ""}) + chunk({"content": "Hello there.\n"})
    server = RawSSEServer((first, chunk({"content": "Bye."}) + chunk({}, "stop") + sse("", "[DONE]")),
                          content_type=content_type)
    try:
        client = client_class(api_key="k", base_url=server.url, max_retries=0,
                              **({"audit": False} if client_class is SentinelClient else {}))
        stream = client.chat.completions.create(model="m", messages=user("hi"), stream=True)
        shown = ""
        for event in stream:  # the server holds the rest back until told
            shown += (event.choices[0].delta.content or "") if event.choices else ""
            if shown:
                break
        assert shown == "Hello there.\n" and not server.rest_sent.is_set()
        server.go.set()
        assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices) == "Bye."
        client.close()
    finally:
        server.close()


def test_a_close_delimited_stream_without_done_may_be_a_break() -> None:
    """A body delimited only by the connection's close looks the same whether the server ended it or the
    connection broke: without the end marker its held tail (here half a card) is never shown, and the caller
    gets StreamDisconnectedError (the raw client shows the half card)."""
    def chunk(delta: dict[str, Any]) -> bytes:
        return sse("", {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m",
                        "choices": [{"index": 0, "delta": delta, "finish_reason": None}]})

    server = RawSSEServer((chunk({"content": "Sure, the card is "}) + chunk({"content": "4111 1111 1111 11"}), b""))
    try:
        client = SentinelClient(api_key="k", base_url=server.url, max_retries=0, audit=False)
        shown = ""
        with pytest.raises(StreamDisconnectedError):
            for event in client.chat.completions.create(model="m", messages=user("hi"), stream=True):
                shown += event.choices[0].delta.content or ""
        assert shown == "Sure, the card is "
        client.close()
    finally:
        server.close()
