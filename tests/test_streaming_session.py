"""StreamSession, the I/O-free core both stream classes share: how a stream's end is recorded."""

from __future__ import annotations

import pytest

from deepsentinel.audit.events import MemorySink, Outcome
from deepsentinel.calls import CallRecord
from deepsentinel.errors import StreamDisconnectedError
from deepsentinel.providers.openai import OpenAIStreamParser
from deepsentinel.streaming import StreamSession


def session(sink: MemorySink) -> StreamSession:
    call = CallRecord(sink, b"k" * 32, "chat.completions", "openai", "gpt-4o", streamed=True)
    return StreamSession(OpenAIStreamParser("openai"), None, call, include_usage=False, provider="openai")


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
