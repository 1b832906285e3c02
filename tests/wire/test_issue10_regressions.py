"""Issue 10's defects, each through real HTTP: error text, the whole-call deadline, deep nesting, routing."""

from __future__ import annotations

import pickle
import socket
import threading
import time
import traceback
from collections.abc import Iterator
from typing import Any

import openai
import pytest

from deepsentinel import (
    AsyncSentinelClient,
    ComplianceViolationError,
    DeepSentinelError,
    ProviderError,
    SentinelClient,
    ValidationError,
    protect,
)
from deepsentinel.audit.events import MemorySink, Outcome
from deepsentinel.testing import FakeLLMServer, Reply

from ..conftest import collect, create, user

SSN = "536-22-" + "1234"
EMAIL = "jane.canary" + "@corp-example.com"


def _everything_shown(error: BaseException) -> str:
    """Every place an error's text can surface: str, repr, args, pickle, the printed chained traceback."""
    parts = [str(error), repr(error), *map(str, error.args), *map(repr, error.args)]
    parts.append("".join(traceback.format_exception(error)))
    if isinstance(error, DeepSentinelError):  # ours cross process pools; the SDK's own errors do not pickle
        copy = pickle.loads(pickle.dumps(error))
        parts += [str(copy), repr(copy), repr(getattr(copy, "body", None))]
    return "\n".join(parts)


async def test_provider_error_text_is_redacted_everywhere(make_client: Any, fake_server: FakeLLMServer) -> None:
    """An upstream 400 echoing an SSN and an e-mail comes back as ProviderError without either value."""
    fake_server.enqueue(Reply(status=400, error_message=f"Invalid input: SSN {SSN} of {EMAIL}"))
    with pytest.raises(ProviderError) as info:
        await create(make_client(), model="gpt-4o", messages=user("hello"))
    shown = _everything_shown(info.value)
    assert SSN not in shown and EMAIL not in shown
    assert info.value.status_code == 400 and info.value.provider == "openai"
    assert isinstance(info.value, openai.BadRequestError)


async def test_in_stream_error_text_is_redacted(make_client: Any, fake_server: FakeLLMServer) -> None:
    """An error event mid-stream that echoes a value reaches the caller without it. (A request error: one that says
    "try again" before any text is shown reopens the stream instead.)"""
    fake_server.enqueue(Reply(chunks=["one", " two"], error_after=1, error_message=f"bad {SSN}",
                              error_type="invalid_request_error"))
    stream = await create(make_client(), model="gpt-4o", messages=user("hi"), stream=True)
    with pytest.raises(openai.APIError) as info:
        await collect(stream)
    assert SSN not in _everything_shown(info.value)


async def test_a_key_the_provider_echoes_is_blanked(make_client: Any, fake_server: FakeLLMServer) -> None:
    """A 401 that quotes the rejected key does not hand it back in the error."""
    key = "sk-" + "Q" * 40
    fake_server.enqueue(Reply(status=401, error_message=f"Incorrect API key provided: {key}"))
    with pytest.raises(ProviderError) as info:
        await create(make_client(openai_api_key=key), model="gpt-4o", messages=user("hi"))
    assert key not in _everything_shown(info.value)


@pytest.fixture
def trickle_server() -> Iterator[str]:
    """A server that answers one byte per 0.2 s: each read is quick, the whole reply is not."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with conn:
                conn.recv(65536)
                body = b'{"id":"x","object":"chat.completion","created":1,"model":"m","choices":[]}' * 20
                conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: "
                             + str(len(body)).encode() + b"\r\n\r\n")
                for i in range(len(body)):
                    if stop.wait(0.2):
                        return
                    try:
                        conn.sendall(body[i : i + 1])
                    except OSError:
                        break

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/v1"
    stop.set()
    listener.close()


def test_timeout_bounds_the_whole_call(trickle_server: str) -> None:
    """``timeout=1`` ends a call whose server trickles a byte at a time within about that, not per read."""
    sink = MemorySink()
    client = SentinelClient(api_key="k", base_url=trickle_server, max_retries=0, audit=sink)
    started = time.monotonic()
    with pytest.raises(openai.APITimeoutError):
        client.chat.completions.create(model="gpt-4o", messages=user("hi"), timeout=1.0)
    assert time.monotonic() - started < 3.0
    assert [e.outcome for e in sink.events] == [Outcome.PROVIDER_ERROR]
    client.close()


async def test_timeout_bounds_the_whole_call_async(trickle_server: str) -> None:
    """The same bound on the asyncio client, whose transport reads the answer whole on its own path."""
    sink = MemorySink()
    client = AsyncSentinelClient(api_key="k", base_url=trickle_server, max_retries=0, audit=sink)
    started = time.monotonic()
    with pytest.raises(openai.APITimeoutError):
        await client.chat.completions.create(model="gpt-4o", messages=user("hi"), timeout=1.0)
    assert time.monotonic() - started < 3.0
    assert [e.outcome for e in sink.events] == [Outcome.PROVIDER_ERROR]
    await client.close()


def test_a_timeout_without_a_read_limit_sets_no_deadline(fake_server: FakeLLMServer) -> None:
    """``Timeout(None, connect=...)`` means reads may take as long as they take: the connect limit is not taken for
    a bound on the whole call (it cut a 1 s answer at 0.3 s)."""
    import httpx2

    fake_server.enqueue(Reply(text="Slow but fine.", delay_before=1.0))
    with SentinelClient(api_key="k", base_url=fake_server.openai_base_url, max_retries=0, audit=False,
                        timeout=httpx2.Timeout(None, connect=0.3)) as client:
        reply = client.chat.completions.create(model="gpt-4o", messages=user("hi"))
    assert reply.choices[0].message.content == "Slow but fine."


def test_no_pool_limit_still_bounds_the_attempt(trickle_server: str) -> None:
    """Only a missing read or write limit lifts the bound: ``Timeout(1, pool=None)`` (no wait for a pooled
    connection) still ends a trickling answer within about a second."""
    import httpx2

    client = SentinelClient(api_key="k", base_url=trickle_server, max_retries=0, audit=False,
                            timeout=httpx2.Timeout(1.0, pool=None))
    started = time.monotonic()
    with pytest.raises(openai.APITimeoutError):
        client.chat.completions.create(model="gpt-4o", messages=user("hi"))
    assert time.monotonic() - started < 3.0
    client.close()


def test_a_call_scope_bounds_all_of_a_calls_attempts(fake_server: FakeLLMServer) -> None:
    """``call_scope(timeout)`` around a call bounds it whole, the SDK's retries included: each attempt alone gets
    its own ``timeout`` (four slow attempts here would take four seconds and more)."""
    from deepsentinel.wire.scope import call_scope

    fake_server.enqueue(*(Reply(text="Too late.", delay_before=3.0) for _ in range(4)))
    client = SentinelClient(api_key="k", base_url=fake_server.openai_base_url, max_retries=3, audit=False)
    started = time.monotonic()
    with call_scope(1.5), pytest.raises(openai.APITimeoutError):
        client.chat.completions.create(model="gpt-4o", messages=user("hi"), timeout=1.0)
    assert time.monotonic() - started < 3.0
    client.close()


def test_each_sdk_retry_has_its_own_deadline(fake_server: FakeLLMServer) -> None:
    """After an attempt timed out, the SDK's retry gets the whole ``timeout`` again, as with the raw client (one
    deadline for all attempts made the retry fail before it was sent)."""
    fake_server.enqueue(Reply(text="Too late.", delay_before=2.0), Reply(text="In time."))
    sink = MemorySink()
    with SentinelClient(api_key="k", base_url=fake_server.openai_base_url, max_retries=1, audit=sink) as client:
        reply = client.chat.completions.create(model="gpt-4o", messages=user("hi"), timeout=0.5)
    assert reply.choices[0].message.content == "In time."
    assert fake_server.request_count("/v1/chat/completions") == 2
    assert [(e.outcome, e.attempts) for e in sink.events] == [(Outcome.ALLOWED, 2)]


def test_the_default_timeout_is_the_sdks(fake_server: FakeLLMServer) -> None:
    """Without ``timeout=``, a call may read for as long as the official client's default lets it (600 s), not a
    minute: long answers and streams are normal."""
    raw = openai.OpenAI(api_key="k", base_url=fake_server.openai_base_url)
    with SentinelClient(api_key="k", base_url=fake_server.openai_base_url, audit=False) as ours:
        assert isinstance(ours.timeout, openai.Timeout) and isinstance(raw.timeout, openai.Timeout)
        assert ours.timeout.read == raw.timeout.read == 600
        ours.chat.completions.create(model="gpt-4o", messages=user("hi"))
    raw.close()
    assert fake_server.last_request.headers["x-stainless-read-timeout"] == "600"  # as the raw client sends it


async def test_deep_nesting_is_a_typed_error_and_audited(make_client: Any, fake_server: FakeLLMServer, sink: MemorySink) -> None:
    """A message field nested 1,000 levels deep is a ValidationError, recorded, with nothing sent."""
    deep: Any = "x"
    for _ in range(1000):
        deep = {"a": deep}
    messages = [{"role": "user", "content": [{"type": "text", "text": "hi", "extra": deep}]}]
    with pytest.raises(ValidationError):
        await create(make_client(), model="gpt-4o", messages=messages)
    assert fake_server.request_count() == 0
    assert [e.outcome for e in sink.events] == [Outcome.PROVIDER_ERROR]
    assert sink.events[0].error_type == "ValidationError"


async def test_routing_parameters_never_reach_a_provider(make_client: Any, fake_server: FakeLLMServer) -> None:
    """provider= and fallbacks= steer the call; neither appears in the body or headers the provider gets."""
    await create(make_client(), model="gpt-4o", messages=user("hi"), provider="anthropic",
                 fallbacks=["openai/gpt-4o-mini"])
    seen = fake_server.last_request
    assert seen.path == "/v1/messages"
    assert "provider" not in seen.json and "fallbacks" not in seen.json
    assert not any(h.startswith("x-deepsentinel") for h in seen.headers)


async def test_fallback_on_overload_before_content(make_client: Any, fake_server: FakeLLMServer, sink: MemorySink) -> None:
    """A 529 from the primary moves to the fallback; one audit event names the target that answered."""
    fake_server.enqueue(Reply(status=529), Reply(text="from the fallback"))
    reply = await create(make_client(max_retries=0), model="claude-3-opus-20240229", messages=user("hi"),
                         fallbacks=["openai/gpt-4o-mini"])
    assert reply.choices[0].message.content == "from the fallback"
    assert [r.path for r in fake_server.requests] == ["/v1/messages", "/v1/chat/completions"]
    assert len(sink.events) == 1 and sink.events[0].target == "openai/gpt-4o-mini" and sink.events[0].attempts == 2


async def test_retries_are_attempts_of_one_call(make_client: Any, fake_server: FakeLLMServer, sink: MemorySink) -> None:
    """The SDK's own retries (a 500 then a 200) leave one audit event, not two."""
    fake_server.enqueue(Reply(status=500), Reply(text="second time lucky"))
    reply = await create(make_client(max_retries=1), model="gpt-4o", messages=user("hi"))
    assert reply.choices[0].message.content == "second time lucky"
    assert fake_server.request_count() == 2
    assert [e.outcome for e in sink.events] == [Outcome.ALLOWED] and sink.events[0].attempts == 2


def test_protect_returns_a_guarded_copy_of_the_same_class(fake_server: FakeLLMServer) -> None:
    """protect(openai.OpenAI) is still an openai.OpenAI; the original stays unguarded; a blocked prompt sends nothing."""
    raw = openai.OpenAI(api_key="k", base_url=fake_server.openai_base_url, max_retries=0)
    guarded = protect(raw, audit=False)
    assert isinstance(guarded, openai.OpenAI) and guarded is not raw
    with pytest.raises(ComplianceViolationError):
        guarded.chat.completions.create(model="gpt-4o", messages=user(f"ssn {SSN}"))
    assert fake_server.request_count() == 0
    raw.chat.completions.create(model="gpt-4o", messages=user(f"ssn {SSN}"))  # the caller's own client is untouched
    assert fake_server.request_count() == 1


def test_attempts_survive_the_chained_store(fake_server: FakeLLMServer, tmp_path: Any) -> None:
    """A retried call is one stored row whose attempts say how many HTTP requests it took; the chain verifies."""
    client = SentinelClient(api_key="k", base_url=fake_server.openai_base_url, max_retries=1,
                            audit=str(tmp_path / "trail.sqlite3"))
    fake_server.enqueue(Reply(status=503), Reply(text="ok"))
    client.chat.completions.create(model="gpt-4o", messages=user("hi"))
    [event] = client.audit.list()
    assert event.attempts == 2 and event.outcome is Outcome.ALLOWED
    assert client.audit.verify().ok
    client.close()


@pytest.mark.parametrize(
    "messages",
    [
        [{"role": "user", "content": "my ssn is 536-22-"}, {"role": "user", "content": "1234 thanks"}],
        [{"role": "user", "content": [{"type": "text", "text": "card 4111 1111 "},
                                      {"type": "text", "text": "1111 1111 please"}]}],
    ],
    ids=["two-messages", "two-content-parts"],
)
def test_a_value_split_across_texts_of_one_request_is_blocked(fake_server: FakeLLMServer, messages: Any) -> None:
    """Issue 11: the model reads the conversation whole, so a value split across two texts is checked whole."""
    client = SentinelClient(api_key="k", base_url=fake_server.openai_base_url, max_retries=0, audit=False)
    with pytest.raises(ComplianceViolationError):
        client.chat.completions.create(model="gpt-4o", messages=messages)
    assert fake_server.request_count() == 0
    client.close()
