"""How often, and how soon, a stream that broke before any of it was shown is sent again.

The budget is the SDK call's own ``max_retries`` (its client's, or ``with_options``'), a provider entry's
``max_retries`` for that target, else ``PerformanceConfig.max_retries``; waits back off from
``retry_backoff`` to ``retry_backoff_max`` (or follow the provider's ``Retry-After``), never past the deadline.
"""

from __future__ import annotations

import inspect
import time
from typing import Any

import openai
import pytest

from deepsentinel import PerformanceConfig, ProviderConfig, SentinelConfig
from deepsentinel.audit.events import MemorySink, Outcome
from deepsentinel.stream_bodies import backoff
from deepsentinel.testing import FakeLLMServer, Reply

HI = [{"role": "user", "content": "hi"}]
NO_WAIT = SentinelConfig(performance_config=PerformanceConfig(retry_backoff=0))


async def _stream_text(client: Any, **kwargs: Any) -> str:
    stream = client.chat.completions.create(model=kwargs.pop("model", "gpt-4o"), messages=HI, stream=True, **kwargs)
    stream = await stream if inspect.isawaitable(stream) else stream
    if hasattr(stream, "__aiter__"):
        return "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
    return "".join(c.choices[0].delta.content or "" for c in stream if c.choices)


def _broken(n: int) -> list[Reply]:
    return [Reply(text="lost", disconnect_after=0)] * n


async def test_a_client_with_no_retries_does_not_reopen(make_client: Any, fake_server: FakeLLMServer) -> None:
    fake_server.enqueue(*_broken(3), Reply(text="never sent"))
    client = make_client(config=NO_WAIT, max_retries=0)
    with pytest.raises(openai.APIConnectionError):
        await _stream_text(client)
    assert fake_server.request_count() == 1


async def test_the_clients_own_budget_and_with_options_set_the_reopens(
    make_client: Any, fake_server: FakeLLMServer, sink: MemorySink
) -> None:
    client = make_client(config=NO_WAIT, max_retries=0)
    fake_server.enqueue(*_broken(1), Reply(text="Second try."))
    assert await _stream_text(client.with_options(max_retries=1)) == "Second try."
    assert fake_server.request_count() == 2
    fake_server.enqueue(*_broken(3), Reply(text="never sent"))
    with pytest.raises(openai.APIConnectionError):
        await _stream_text(client.with_options(max_retries=2))
    assert fake_server.request_count() == 2 + 3
    client._sentinel.settle()
    assert [(e.outcome, e.attempts) for e in sink.events] == [(Outcome.ALLOWED, 2), (Outcome.PROVIDER_ERROR, 3)]


async def test_reopens_back_off(make_client: Any, fake_server: FakeLLMServer) -> None:
    """Two reopens wait at least 0.75 x (0.2 + 0.3) seconds: 0.2 doubled, capped at 0.3, less up to a quarter."""
    config = SentinelConfig(performance_config=PerformanceConfig(retry_backoff=0.2, retry_backoff_max=0.3))
    fake_server.enqueue(*_broken(2), Reply(text="Third try."))
    client = make_client(config=config, max_retries=2)
    started = time.monotonic()
    assert await _stream_text(client) == "Third try."
    assert time.monotonic() - started >= 0.75 * (0.2 + 0.3)
    assert fake_server.request_count() == 3


async def test_a_reopen_answered_with_retry_after_waits_as_asked(make_client: Any, fake_server: FakeLLMServer) -> None:
    fake_server.enqueue(*_broken(1), Reply(status=429, headers={"retry-after-ms": "400"}), Reply(text="Third try."))
    client = make_client(config=NO_WAIT, max_retries=2)
    started = time.monotonic()
    assert await _stream_text(client) == "Third try."
    assert time.monotonic() - started >= 0.4
    assert fake_server.request_count() == 3


@pytest.mark.parametrize(("retry_after", "retried"), [("inf", True), ("nan", True), ("1e999", False)])
async def test_a_reopen_reads_an_odd_retry_after_as_the_sdk_does(
    make_client: Any, fake_server: FakeLLMServer, retry_after: str, retried: bool
) -> None:
    """``Retry-After: inf`` or ``nan`` names no wait: the SDK backs off and tries again, and so does a reopen
    (which used to give up on ``inf``). ``1e999`` is too long a wait: neither tries again. The raw client is run
    on the same answers first, so the test fails if the SDK changes its mind and the two drift apart."""
    fake_server.enqueue(Reply(status=429, headers={"retry-after": retry_after}), Reply(text="Raw second try."))
    with openai.OpenAI(api_key="sk-test", base_url=fake_server.openai_base_url, max_retries=1, timeout=5) as raw:
        try:
            raw_retried = raw.chat.completions.create(model="gpt-4o", messages=HI).choices[0].message.content == \
                "Raw second try."
        except openai.RateLimitError:
            raw_retried = False
            fake_server.reset()
    assert raw_retried is retried
    sent = fake_server.request_count()
    fake_server.enqueue(*_broken(1), Reply(status=429, headers={"retry-after": retry_after}), Reply(text="Third try."))
    client = make_client(config=NO_WAIT, max_retries=2)
    if retried:
        assert await _stream_text(client) == "Third try."
    else:
        with pytest.raises(openai.APIConnectionError):
            await _stream_text(client)
    assert fake_server.request_count() - sent == (3 if retried else 2)


async def test_a_reopen_refused_for_good_is_not_tried_again(make_client: Any, fake_server: FakeLLMServer) -> None:
    """A 401 to the reopened request would be a 401 again: the caller gets the break, nothing more is sent."""
    fake_server.enqueue(*_broken(1), Reply(status=401), Reply(text="never sent"))
    client = make_client(config=NO_WAIT, max_retries=3)
    with pytest.raises(openai.APIConnectionError):
        await _stream_text(client)
    assert fake_server.request_count() == 2


async def test_no_reopen_waits_past_the_calls_deadline(make_client: Any, fake_server: FakeLLMServer) -> None:
    config = SentinelConfig(performance_config=PerformanceConfig(retry_backoff=30, retry_backoff_max=30))
    fake_server.enqueue(*_broken(1), Reply(text="never sent"))
    client = make_client(config=config, max_retries=2, timeout=2.0)
    started = time.monotonic()
    with pytest.raises(openai.APIConnectionError):
        await _stream_text(client)
    assert time.monotonic() - started < 1.5 and fake_server.request_count() == 1


async def test_a_provider_entrys_budget_governs_its_own_target(make_client: Any, fake_server: FakeLLMServer) -> None:
    """The primary gets the client's budget (none here); the fallback entry its own (two)."""
    local = ProviderConfig(name="local", base_url=fake_server.openai_base_url, max_retries=2)
    client = make_client(config=NO_WAIT.model_copy(update={"providers": (local,)}), max_retries=0)
    fake_server.enqueue(*_broken(3), Reply(text="From the fallback."))
    assert await _stream_text(client, fallbacks=["local/gpt-4o-mini"]) == "From the fallback."
    assert fake_server.request_count() == 4


@pytest.mark.parametrize("retry", [1, 2, 3, 6])
def test_backoff_doubles_up_to_its_cap_less_a_random_quarter(retry: int) -> None:
    top = min(0.5 * 2 ** (retry - 1), 4.0)
    waits = [backoff(retry, 0.5, 4.0) for _ in range(200)]
    assert all(0.75 * top <= w <= top for w in waits) and len(set(waits)) > 1


# trio warns about every async generator left to the garbage collector, the openai SDK's own included.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_the_async_client_under_trio_waits_and_reopens(fake_server: FakeLLMServer) -> None:
    import trio

    from deepsentinel import AsyncSentinelClient

    config = SentinelConfig(performance_config=PerformanceConfig(retry_backoff=0.1))
    fake_server.enqueue(*_broken(1), Reply(text="Second try."))

    async def main() -> str:
        async with AsyncSentinelClient(api_key="k", base_url=fake_server.openai_base_url, config=config,
                                       audit=False, max_retries=1) as client:
            return await _stream_text(client)

    assert trio.run(main) == "Second try."
    assert fake_server.request_count() == 2
