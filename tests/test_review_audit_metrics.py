"""Review: provider time vs DeepSentinel's own time in audit events and metrics, for streams and failures."""

from __future__ import annotations

import pytest

from deepsentinel import ProviderError
from deepsentinel.audit.events import MemorySink
from deepsentinel.testing import FakeLLMServer, Reply
from tests.conftest import collect, create, user


async def test_stream_generation_and_a_slow_failure_are_provider_time(make_client, fake_server: FakeLLMServer,
                                                                      sink: MemorySink) -> None:
    """Waiting on a streaming provider, or on one that fails slowly, is not reported as DeepSentinel's overhead."""
    client = make_client()
    fake_server.enqueue(Reply(chunks=["a ", "b ", "c ", "d ", "e."], delay_between=0.06))
    await collect(await create(client, model="gpt-4o", messages=user("stream please"), stream=True))
    fake_server.enqueue(Reply(status=400, delay_before=0.25))
    with pytest.raises(ProviderError):
        await create(client, model="gpt-4o", messages=user("fail slowly"))
    streamed, failed = sink.events
    for event, waited in ((streamed, 240.0), (failed, 250.0)):
        assert event.latency_ms >= waited
        assert event.provider_latency_ms >= waited * 0.9, event
        assert event.latency_ms - event.provider_latency_ms < waited / 2, event  # our own share stays small
    overhead = client.metrics.snapshot()["latency_ms"]["deepsentinel"]
    assert overhead["count"] == 2 and overhead["max"] < 120.0, overhead
