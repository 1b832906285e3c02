"""StreamSession, the I/O-free core both stream classes share: how a stream's end is recorded."""

from __future__ import annotations

import pytest

from deepsentinel.audit.events import MemorySink, Outcome
from deepsentinel.calls import CallRecord
from deepsentinel.core import PreparedTarget
from deepsentinel.errors import StreamDisconnectedError
from deepsentinel.providers.base import ChatRequest
from deepsentinel.providers.openai import OpenAIAdapter
from deepsentinel.providers.retry import RetryPolicy
from deepsentinel.providers.routing import Target
from deepsentinel.streaming import StreamSession


def session(sink: MemorySink) -> StreamSession:
    call = CallRecord(sink, b"k" * 32, "chat.completions", "openai", "gpt-4o", streamed=True)
    adapter = OpenAIAdapter("key", "http://127.0.0.1:9/v1")
    request = ChatRequest("gpt-4o", [{"role": "user", "content": "hi"}], stream=True)
    target = PreparedTarget(Target("openai", "gpt-4o"), adapter, request, adapter.build_chat_request(request),
                            RetryPolicy(max_retries=1))
    return StreamSession(target, lambda: None, call, include_usage=False)


@pytest.mark.parametrize("interrupt", [KeyboardInterrupt(), GeneratorExit()])
def test_interrupted_stream_counts_as_closed_early(interrupt: BaseException) -> None:
    """Ctrl-C or cancellation mid-stream is not a provider error: the caller saw only checked text."""
    sink = MemorySink()
    s = session(sink)
    s.end(interrupt)
    s.end()  # idempotent: one event only
    assert [e.outcome for e in sink.events] == [Outcome.ALLOWED]


def test_end_without_done_marker_is_a_disconnect() -> None:
    """Upstream closing before [DONE] yields a StreamDisconnectedError, recorded as a provider error."""
    sink = MemorySink()
    s = session(sink)
    out = s.on_end()
    assert isinstance(out.error, StreamDisconnectedError)
    s.end(out.error)
    assert [e.outcome for e in sink.events] == [Outcome.PROVIDER_ERROR]
    assert sink.events[0].error_type == "StreamDisconnectedError"


def test_reconnect_only_before_anything_was_yielded() -> None:
    """A broken stream may be reopened while nothing reached the caller, within the retry budget."""
    s = session(MemorySink())
    error = StreamDisconnectedError("gone", provider="openai")
    assert s.reconnect_delay(error) is not None  # first retry allowed
    assert s.reconnect_delay(error) is None  # budget (max_retries=1) spent
    fresh = session(MemorySink())
    fresh.yielded = True
    assert fresh.reconnect_delay(error) is None
