"""Review of the SDK client path: regressions for defects found by trying to break it."""

from __future__ import annotations

import asyncio
import gc
import json
import pickle
import sys
import threading
import time
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import openai
import pytest

from deepsentinel import (
    AsyncSentinelClient,
    AuthenticationError,
    ComplianceViolationError,
    ConfigurationError,
    PerformanceConfig,
    ProviderConfig,
    ProviderError,
    ProviderTimeoutError,
    RateLimitError,
    SentinelClient,
    SentinelConfig,
    StreamDisconnectedError,
    ValidationError,
)
from deepsentinel.audit.events import MemorySink, Outcome
from deepsentinel.calls import CallRecord
from deepsentinel.detection.vault import PlaceholderBook, Vault
from deepsentinel.errors import InternalServerError
from deepsentinel.policy.decision import Decision
from deepsentinel.testing import FakeLLMServer, Reply
from deepsentinel.wire.codec import codec_for
from deepsentinel.wire.guard import RequestCheck


@pytest.fixture
def fast_switching() -> Iterator[None]:
    """Switch threads as often as the interpreter allows, so a race shows up in a few thousand steps."""
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(old)


@pytest.mark.usefixtures("fast_switching")
@pytest.mark.parametrize("book", [PlaceholderBook(), Vault().book], ids=["book", "vault"])
def test_placeholder_numbers_are_unique_across_threads(book: PlaceholderBook) -> None:
    """Two values never share a placeholder, even from threads of one client (a vault would restore the wrong one)."""
    tokens: dict[str, str] = {}

    def assign(worker: int) -> None:
        for j in range(1500):
            value = f"user{worker}-{j}@example.com"
            tokens[value] = book.assign("EMAIL", value)

    threads = [threading.Thread(target=assign, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(tokens.values())) == len(tokens) == 8 * 1500


SSN = "123-45-" + "6789"


@pytest.mark.parametrize("model", ["gpt-4o", "claude-3-opus-20240229"])
@pytest.mark.parametrize(
    ("messages", "error"),
    [
        ([{"role": "user", "content": [{"type": "text", "text": {"v": SSN}}]}], ComplianceViolationError),
        ([{"role": "user", "content": [{"type": "text", "text": [SSN]}]}], ComplianceViolationError),
        ([{"role": "assistant", "content": [{"type": "refusal", "refusal": SSN}]}, {"role": "user", "content": "ok"}],
         ComplianceViolationError),
        ([{"role": "user", "content": "hi", "name": SSN}], ComplianceViolationError),
    ],
    ids=["text-dict", "text-list", "refusal-part", "name"],
)
def test_texts_the_provider_reads_are_checked_or_rejected(
    fake_server: FakeLLMServer, model: str, messages: list[dict[str, Any]], error: type[Exception]
) -> None:
    """Text parts of an odd shape (a dict, a list), refusal parts and names are scanned; nothing is sent."""
    with SentinelClient(
        openai_api_key="k", base_url=fake_server.openai_base_url, anthropic_api_key="k",
        anthropic_base_url=fake_server.anthropic_base_url, audit=False,
    ) as client, pytest.raises(error):
        client.chat.completions.create(model=model, messages=messages)
    assert fake_server.request_count() == 0


async def test_cancelling_a_non_streamed_call_still_records_one_event(fake_server: FakeLLMServer) -> None:
    """A task cancelled while waiting for the reply leaves exactly one audit event, like a stream does."""
    sink = MemorySink()
    fake_server.enqueue(Reply(text="late", delay_before=2.0))
    async with AsyncSentinelClient(openai_api_key="k", base_url=fake_server.openai_base_url, audit=sink) as client:
        task = asyncio.create_task(
            client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
        )
        while fake_server.request_count() == 0:
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert [(e.outcome, e.error_type) for e in sink.events] == [(Outcome.ALLOWED, "CancelledError")]


@pytest.mark.parametrize("operation", ["chat", "stream", "embeddings"])
def test_interrupting_a_call_while_it_waits_records_one_event(operation: str) -> None:
    """Ctrl-C while the request is in flight ends the call once in the audit trail."""

    def interrupt(request: httpx2.Request) -> httpx2.Response:
        raise KeyboardInterrupt

    sink = MemorySink()
    http = httpx2.Client(transport=httpx2.MockTransport(interrupt))
    with SentinelClient(openai_api_key="k", audit=sink, http_client=http) as client, pytest.raises(KeyboardInterrupt):
        if operation == "embeddings":
            client.embeddings.create(model="text-embedding-3-small", input="hi")
        else:
            client.chat.completions.create(
                model="gpt-4o", messages=[{"role": "user", "content": "hi"}], stream=operation == "stream"
            )
    assert [e.error_type for e in sink.events] == ["KeyboardInterrupt"]


@pytest.mark.parametrize("kind", ["openai", "anthropic"])
def test_provider_config_timeout_bounds_a_slow_reply(fake_server: FakeLLMServer, kind: str) -> None:
    """``ProviderConfig.timeout`` applies to that provider's requests (it used to be ignored)."""
    base = fake_server.openai_base_url if kind == "openai" else fake_server.anthropic_base_url
    config = SentinelConfig(
        providers=(ProviderConfig(name="slow", kind=kind, base_url=base, timeout=0.2, max_retries=0),),
    )
    fake_server.enqueue(Reply(text="late", delay_before=1.0))
    with SentinelClient(config=config, audit=False, max_retries=0) as client, pytest.raises(ProviderTimeoutError):
        client.chat.completions.create(model="gpt-4o", provider="slow", messages=[{"role": "user", "content": "hi"}])


@pytest.mark.parametrize(("model", "status"), [("gpt-4o", 503), ("claude-3-opus-20240229", 529)])
def test_retry_after_is_honoured_on_an_overload_too(fake_server: FakeLLMServer, model: str, status: int) -> None:
    """A 503/529 with ``Retry-After`` waits that long before the retry, not the (here tiny) backoff."""
    config = SentinelConfig(performance_config=PerformanceConfig(retry_backoff=0.001, retry_backoff_max=0.001))
    fake_server.enqueue(Reply(status=status, headers={"Retry-After": "0.3"}), Reply(text="ok"))
    with SentinelClient(
        openai_api_key="k", base_url=fake_server.openai_base_url, anthropic_api_key="k",
        anthropic_base_url=fake_server.anthropic_base_url, config=config, audit=False,
    ) as client:
        started = time.perf_counter()
        reply = client.chat.completions.create(model=model, messages=[{"role": "user", "content": "hi"}])
        assert time.perf_counter() - started >= 0.3
    assert reply.choices[0].message.content == "ok" and fake_server.request_count() == 2


def test_an_overload_asking_for_a_long_wait_is_surfaced_not_retried(fake_server: FakeLLMServer) -> None:
    """Like a 429, a 503 whose Retry-After is beyond what we honour reaches the caller at once, with the wait."""
    fake_server.enqueue(Reply(status=503, headers={"Retry-After": "3600"}), Reply(text="ok"))
    client = SentinelClient(openai_api_key="k", base_url=fake_server.openai_base_url, audit=False)
    with client, pytest.raises(ProviderError) as info:
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
    assert info.value.status_code == 503 and info.value.retry_after == 3600
    assert fake_server.request_count() == 1


@pytest.mark.parametrize("model", ["gpt-4o", "claude-3-opus-20240229"])
def test_a_key_echoed_by_the_provider_never_reaches_the_error(fake_server: FakeLLMServer, model: str) -> None:
    """A server that echoes the rejected key in its 401 message: the error's str and repr show no key."""
    key = "sk-" + "Q" * 40
    fake_server.enqueue(Reply(status=401, error_message=f"Invalid API key provided: {key}."))
    client = SentinelClient(
        openai_api_key=key, base_url=fake_server.openai_base_url, anthropic_api_key=key,
        anthropic_base_url=fake_server.anthropic_base_url, audit=False,
    )
    with client, pytest.raises(AuthenticationError) as info:
        client.chat.completions.create(model=model, messages=[{"role": "user", "content": "hi"}])
    shown = [str(info.value), repr(info.value), info.value.message, *map(str, info.value.args)]
    assert all(key not in s for s in shown) and "Invalid API key provided" in str(info.value)


@pytest.mark.parametrize("fallbacks", ["anthropic/claude-3-haiku-20240307", [123], {"anthropic": "claude"}])
def test_malformed_fallbacks_are_a_validation_error_before_any_request(fake_server: FakeLLMServer, fallbacks: Any) -> None:
    """A string (once tried letter by letter) or non-string items are rejected, not crashed on or misread."""
    client = SentinelClient(
        openai_api_key="k", base_url=fake_server.openai_base_url, anthropic_api_key="k",
        anthropic_base_url=fake_server.anthropic_base_url, audit=False,
    )
    with client, pytest.raises(ValidationError, match="fallbacks"):
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}], fallbacks=fallbacks)
    assert fake_server.request_count() == 0


async def _drain(stream: Any) -> str:
    if hasattr(stream, "__aiter__"):
        return "".join([c.choices[0].delta.content or "" async for c in stream])
    return "".join(c.choices[0].delta.content or "" for c in stream)


async def test_an_overload_event_before_any_content_reopens_the_stream(
    make_client: Any, fake_server: FakeLLMServer, sink: MemorySink
) -> None:
    """Anthropic's in-stream ``overloaded_error`` before the first delta is a 529 before content: retried."""
    fake_server.enqueue(Reply(text="lost", error_after=0), Reply(text="second try"))
    client = make_client(config=SentinelConfig(performance_config=PerformanceConfig(retry_backoff=0.001)))
    stream = client.chat.completions.create(model="claude-3-opus-20240229", messages=[{"role": "user", "content": "hi"}],
                                            stream=True)
    stream = await stream if asyncio.iscoroutine(stream) else stream
    assert await _drain(stream) == "second try"
    assert fake_server.request_count() == 2
    assert [e.outcome for e in sink.events] == [Outcome.ALLOWED]


async def test_an_overload_event_after_content_is_not_retried(
    make_client: Any, fake_server: FakeLLMServer, sink: MemorySink
) -> None:
    """Once a delta reached the caller, the in-stream error reaches the caller too; nothing is sent again."""
    fake_server.enqueue(Reply(chunks=["one.", " two.", " three.", " four.", " five."], error_after=4),
                        Reply(text="second try"))
    client = make_client()
    stream = client.chat.completions.create(model="claude-3-opus-20240229", messages=[{"role": "user", "content": "hi"}],
                                            stream=True)
    stream = await stream if asyncio.iscoroutine(stream) else stream
    with pytest.raises(ProviderError) as info:
        await _drain(stream)
    assert info.value.status_code == 529 and fake_server.request_count() == 1
    assert [e.outcome for e in sink.events] == [Outcome.PROVIDER_ERROR]


async def test_a_stream_broken_before_content_falls_back_to_the_next_target(
    make_client: Any, fake_server: FakeLLMServer, sink: MemorySink
) -> None:
    """A stream that breaks before any content, its retries spent, is reopened at the next fallback target."""
    config = SentinelConfig(performance_config=PerformanceConfig(max_retries=1, retry_backoff=0.001))
    fake_server.enqueue(
        Reply(text="lost", disconnect_after=0),  # openai: breaks before its first delta
        Reply(text="lost", disconnect_after=0),  # openai again, within its retry budget: breaks too
        Reply(status=503), Reply(status=503),  # anthropic: cannot even open, retries included
        Reply(text="from the third"),  # the second openai-compatible entry answers
    )
    local = ProviderConfig(name="local", base_url=fake_server.openai_base_url, max_retries=0)
    client = make_client(config=config.model_copy(update={"providers": (local,)}))
    stream = client.chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": "hi"}], stream=True,
        fallbacks=["anthropic/claude-3-haiku-20240307", "local/gpt-4o-mini"],
    )
    stream = await stream if asyncio.iscoroutine(stream) else stream
    assert await _drain(stream) == "from the third"
    assert [r.path for r in fake_server.requests] == ["/v1/chat/completions"] * 2 + ["/v1/messages"] * 2 + [
        "/v1/chat/completions"
    ]
    assert [(e.outcome, e.provider, e.target) for e in sink.events] == [(Outcome.ALLOWED, "local", "local/gpt-4o-mini")]


async def test_an_async_stream_dropped_unread_still_records_one_event(fake_server: FakeLLMServer) -> None:
    """Like the sync ``Stream``, an ``AsyncStream`` dropped without being read or closed ends the call once."""
    sink = MemorySink()
    async with AsyncSentinelClient(openai_api_key="k", base_url=fake_server.openai_base_url, audit=sink) as client:
        stream = await client.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": "hi"}], stream=True
        )
        del stream
        gc.collect()
        assert [e.outcome for e in sink.events] == [Outcome.ALLOWED]


def test_call_records_and_checked_texts_keep_originals_and_the_audit_key_out_of_their_repr() -> None:
    """A traceback or debugger showing the per-call state shows no original prompt text and no audit key."""
    value, key = "jane" + "@example.com", b"K" * 32
    record = CallRecord(None, key, "chat.completions", "openai", "gpt-4o", texts=(f"mail {value}",))
    checked = RequestCheck(codec_for("/v1/chat/completions"), b"{}", {}, Decision(), (f"mail {value}",))
    for shown in (repr(record), repr(checked)):
        assert value not in shown and repr(key) not in shown and "KKKK" not in shown


@pytest.mark.parametrize(
    "settings",
    [{"openai_api_key": ["KEY"]}, {"openai_base_url": "KEY"}, {"providers": [{"name": "x", "api_key": "KEY", "bad": 1}]}],
    ids=["key-as-list", "key-in-url-field", "provider-extra"],
)
def test_configuration_errors_never_carry_a_key_in_their_traceback(settings: dict[str, Any]) -> None:
    """The whole printed traceback (chained causes included) of a bad config shows no key."""
    key = "sk-" + "V" * 32
    resolved = json.loads(json.dumps(settings).replace("KEY", key))
    with pytest.raises(ConfigurationError) as info:
        SentinelConfig(**resolved)
    assert key not in "".join(traceback.format_exception(info.value))


@pytest.mark.parametrize(("name", "text"), [("bad.yaml", "k: x: KEY\n"), ("bad.json", '{"openai_api_key": KEY}')])
def test_a_malformed_config_file_error_names_the_position_not_the_line(tmp_path: Path, name: str, text: str) -> None:
    """YAML quotes the offending line in its errors; ours gives line and column only."""
    key = "sk-" + "V" * 32
    path = tmp_path / name
    path.write_text(text.replace("KEY", key))
    with pytest.raises(ConfigurationError, match="line 1") as info:
        SentinelConfig.from_file(path)
    assert key[:12] not in "".join(traceback.format_exception(info.value))  # YAML quotes a truncated line


async def test_streams_closed_after_break_give_the_connection_back(
    make_client: Any, fake_server: FakeLLMServer, sink: MemorySink
) -> None:
    """With a one-connection pool, three streams left by ``break`` and closed do not starve the next call, and
    each is one allowed call. (Dropped without close, the official SDK's stream keeps its connection until the
    garbage collector runs, with or without DeepSentinel.)"""
    config = SentinelConfig(performance_config=PerformanceConfig(connection_pool_size=1, pool_timeout=1.0))
    client = make_client(config=config)
    for _ in range(3):
        fake_server.enqueue(Reply(text=" ".join(["word"] * 100), delay_between=0.002))
        stream = client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}],
                                                stream=True)
        stream = await stream if asyncio.iscoroutine(stream) else stream
        if hasattr(stream, "__aiter__"):
            async for _ in stream:
                break
            await stream.close()
        else:
            for _ in stream:
                break
            stream.close()
    assert [e.outcome for e in sink.events] == [Outcome.ALLOWED] * 3


def test_an_exhausted_pool_is_not_reported_as_a_connect_timeout(fake_server: FakeLLMServer) -> None:
    """Waiting for a pooled connection says so, instead of sending the caller to debug the network."""
    config = SentinelConfig(performance_config=PerformanceConfig(connection_pool_size=1, pool_timeout=0.1,
                                                                 max_retries=0))
    client = SentinelClient(openai_api_key="k", base_url=fake_server.openai_base_url, config=config, audit=False)
    fake_server.enqueue(Reply(text="held open"))
    with client, client.chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": "hi"}], stream=True
    ), pytest.raises(ProviderTimeoutError, match="pool"):
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])


_REQUEST = httpx2.Request("POST", "http://127.0.0.1:9/v1/chat/completions")


def _status_error(cls: type[ProviderError], status: int) -> ProviderError:
    response = httpx2.Response(status, request=_REQUEST, json={"error": {"message": "boom"}})
    error = cls(f"Error code: {status} - boom", response=response, body={"message": "boom"})
    error.provider, error.retry_after = "anthropic", 1.5
    return error


@pytest.mark.parametrize(
    "error",
    [
        _status_error(InternalServerError, 500),
        _status_error(RateLimitError, 429),
        StreamDisconnectedError(request=_REQUEST, provider="openai"),
        ProviderTimeoutError(request=_REQUEST, provider="openai"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_provider_errors_cross_process_boundaries(error: ProviderError) -> None:
    """A worker process raising a ProviderError hands it back whole (keyword-only ``provider`` broke pickling)."""
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error) and copy.__dict__.keys() == error.__dict__.keys()
    assert copy.args == error.args and str(copy) == str(error)
    assert (copy.provider, copy.status_code, copy.message) == (error.provider, error.status_code, error.message)


async def test_an_openai_in_stream_error_is_audited_as_a_provider_error(
    make_client: Any, fake_server: FakeLLMServer, sink: MemorySink
) -> None:
    """OpenAI's ``{"error": ...}`` event after some content: the SDK raises it, and the call's one audit event says
    it failed (it said allowed), without the provider's text."""
    fake_server.enqueue(Reply(chunks=["one.", " two.", " three."], error_after=2, error_message="bad 536-22-1234"))
    client = make_client()
    stream = client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}], stream=True)
    stream = await stream if asyncio.iscoroutine(stream) else stream
    with pytest.raises(openai.APIError):
        await _drain(stream)
    client._sentinel.settle()
    [event] = sink.events
    assert event.outcome is Outcome.PROVIDER_ERROR and event.error_type == "ProviderError" and event.streamed


def test_an_anthropic_in_stream_error_is_audited_as_a_provider_error(fake_server: FakeLLMServer) -> None:
    import anthropic

    from deepsentinel.anthropic_clients import SentinelAnthropic

    sink = MemorySink()
    fake_server.enqueue(Reply(chunks=["one.", " two.", " three."], error_after=2))
    client = SentinelAnthropic(api_key="k", base_url=fake_server.anthropic_base_url, audit=sink, max_retries=0)
    with client, pytest.raises(anthropic.APIStatusError), client.messages.stream(
            model="claude-haiku-4-5", max_tokens=64, messages=[{"role": "user", "content": "hi"}]) as stream:
        for _ in stream.text_stream:
            pass
    client._sentinel.settle()
    assert [e.outcome for e in sink.events] == [Outcome.PROVIDER_ERROR]
