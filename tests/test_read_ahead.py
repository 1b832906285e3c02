"""Streams read ahead of the caller: bursts guarded together, early stops let go of the provider at once,
a slow caller never grows a buffer, and the upstream's failures still reach the caller as before."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from deepsentinel import AsyncSentinelClient, SentinelClient
from deepsentinel.audit.events import MemorySink, Outcome
from deepsentinel.errors import ComplianceViolationError
from deepsentinel.read_ahead import LIMIT, QUICK_READS, AsyncReadAhead, ReadAhead, live_readers
from deepsentinel.testing import FakeLLMServer, Reply
from tests.conftest import close, user

CARD = "4111 1111 1111 " + "1111"


def _readers() -> int:
    return live_readers()


def _wait(condition: Any, seconds: float = 5.0) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.01)
    return bool(condition())


def _client(fake_server: FakeLLMServer, sync: bool, **kwargs: Any) -> Any:
    kind = SentinelClient if sync else AsyncSentinelClient
    return kind(openai_api_key="k", base_url=fake_server.openai_base_url, anthropic_api_key="k",
                anthropic_base_url=fake_server.anthropic_base_url, audit=MemorySink(), **kwargs)


async def _first_then_stop(client: Any) -> str:
    """Take the first piece of text of a stream, then close it."""
    stream = client.chat.completions.create(model="gpt-4o-mini", messages=user("Tell me"), stream=True)
    if asyncio.iscoroutine(stream):
        stream = await stream
        async for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                await stream.close()
                return str(chunk.choices[0].delta.content)
    for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            stream.close()
            return str(chunk.choices[0].delta.content)
    raise AssertionError("no text")


async def test_a_stream_closed_early_lets_go_of_the_provider_at_once(fake_server: FakeLLMServer, sync: bool) -> None:
    """The reader, blocked on a slow provider, is woken and gone as soon as the caller stops reading."""
    fake_server.enqueue(Reply(chunks=[f"word{i} " for i in range(40)], delay_between=0.25))
    client = _client(fake_server, sync)
    started = time.monotonic()
    assert (await _first_then_stop(client)).startswith("word0")
    assert time.monotonic() - started < 3  # not the 10 s the whole answer takes
    assert _wait(lambda: not _readers())
    assert _wait(lambda: fake_server.streams_abandoned == 1)
    await close(client)


async def test_a_burst_is_cut_before_the_card_and_what_precedes_it_is_shown(fake_server: FakeLLMServer, sync: bool) -> None:
    """Many events at once (the fake writes faster than the caller reads): the text before the card comes
    through; the card never does."""
    words = [f" w{i}" for i in range(150)]
    fake_server.enqueue(Reply(chunks=["Start", *words, " card ", *CARD.split(" ", 1)[0:1], " " + CARD.split(" ", 1)[1], " end"]))
    client = _client(fake_server, sync)
    shown: list[str] = []
    stream = client.chat.completions.create(model="gpt-4o-mini", messages=user("Tell me"), stream=True)
    with pytest.raises(ComplianceViolationError):
        if asyncio.iscoroutine(stream):
            async for chunk in await stream:
                shown.append(chunk.choices[0].delta.content or "" if chunk.choices else "")
        else:
            for chunk in stream:
                shown.append(chunk.choices[0].delta.content or "" if chunk.choices else "")
    text = "".join(shown)
    assert text.startswith("Start" + "".join(words)) and "4111" not in text
    assert len(shown) > 100  # the burst kept its events
    assert _wait(lambda: not _readers())
    await close(client)


def _started(ahead: ReadAhead, sender: socket.socket | None = None) -> list[bytes]:
    """Read chunks that are already waiting until the reader thread takes over (``QUICK_READS`` of them)."""
    got = []
    for n in range(QUICK_READS):
        if sender is not None:
            sender.sendall(b"q%d" % n)
            time.sleep(0.05)  # there before it is asked for
        got.append(next(ahead))
    assert _readers(), "read ahead once chunks are found waiting"
    return got


@pytest.fixture
def pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    """A connected pair of real sockets: the reader's end and the provider's."""
    a, b = socket.socketpair()
    yield a, b
    a.close()
    b.close()


def _received(sock: socket.socket) -> Iterator[bytes]:
    while data := sock.recv(1024):
        yield data


def test_a_stream_that_comes_at_its_own_pace_gets_no_reader(pair: tuple[socket.socket, socket.socket]) -> None:
    a, b = pair

    def later(n: int) -> None:
        for i in range(n):
            time.sleep(0.02)
            b.sendall(b"%d" % i)
        b.close()

    ahead = ReadAhead(_received(a), a, time.monotonic() + 30)
    threading.Thread(target=later, args=(6,)).start()
    assert [next(ahead) for _ in range(6)] == [b"%d" % i for i in range(6)]
    assert not _readers()
    with pytest.raises(StopIteration):
        next(ahead)


def test_a_slow_caller_holds_the_reader_back(pair: tuple[socket.socket, socket.socket]) -> None:
    """Past ``LIMIT`` unread bytes the reader stops pulling from upstream until the caller takes them."""
    produced = 0
    piece = b"x" * 8192

    def upstream() -> Iterator[bytes]:
        nonlocal produced
        for _ in range(4 * LIMIT // len(piece)):
            produced += 1
            yield piece

    ahead = ReadAhead(upstream(), pair[0], time.monotonic() + 30)
    _started(ahead)
    time.sleep(0.3)
    assert produced * len(piece) <= LIMIT + (QUICK_READS + 1) * len(piece)
    total = sum(len(chunk) for chunk in ahead) + QUICK_READS * len(piece)
    assert total == 4 * LIMIT and produced == 4 * LIMIT // len(piece)


def test_stop_wakes_a_reader_blocked_on_its_socket(pair: tuple[socket.socket, socket.socket]) -> None:
    a, b = pair
    ahead = ReadAhead(_received(a), a, time.monotonic() + 30)
    assert _started(ahead, b) == [b"q0", b"q1", b"q2"]
    b.sendall(b"first")
    assert next(ahead) == b"first"
    started = time.monotonic()
    ahead.stop()
    assert time.monotonic() - started < 1 and not _readers()


def test_the_upstreams_error_comes_after_what_was_read_before_it(pair: tuple[socket.socket, socket.socket]) -> None:
    def upstream() -> Iterator[bytes]:
        yield from (b"one", b"two", b"three", b"four", b"five")
        raise ConnectionResetError("gone")

    ahead = ReadAhead(upstream(), pair[0], time.monotonic() + 30)
    assert _started(ahead) == [b"one", b"two", b"three"]
    got = b""
    with pytest.raises(ConnectionResetError):
        while True:
            got += next(ahead)
    assert got == b"fourfive"
    assert _wait(lambda: not _readers())


def test_nothing_by_the_deadline_gives_an_empty_step(pair: tuple[socket.socket, socket.socket]) -> None:
    a, b = pair
    ahead = ReadAhead(_received(a), a, time.monotonic() + 0.5)
    _started(ahead, b)
    started = time.monotonic()
    assert next(ahead) == b""
    assert 0.1 <= time.monotonic() - started < 2
    ahead.stop()


async def test_the_async_reader_hands_over_a_burst_and_stops_on_cancel() -> None:
    gate = asyncio.Event()

    async def upstream() -> Any:
        for n in range(5):
            yield b"%d" % n
        await gate.wait()  # a provider that goes quiet
        yield b"late"

    ahead = AsyncReadAhead(upstream(), time.monotonic() + 30)
    assert [await ahead.__anext__() for _ in range(QUICK_READS)] == [b"0", b"1", b"2"]  # then the task reads on
    assert await ahead.__anext__() == b"34"  # both arrived before it was asked: one step
    await ahead.stop()
    with pytest.raises(StopAsyncIteration):
        await ahead.__anext__()


async def test_a_provider_error_in_a_burst_comes_after_the_text_before_it(fake_server: FakeLLMServer, sync: bool) -> None:
    """Text and an in-stream overload error read together (the caller was busy): the text is shown, then the
    error is raised; nothing is sent again, since text was shown."""
    from deepsentinel.errors import ProviderError

    fake_server.enqueue(Reply(chunks=["one.", " two.", " three.", " four.", " five."], error_after=4),
                        Reply(text="second try"))
    client = _client(fake_server, sync)
    shown: list[str] = []
    stream = client.chat.completions.create(model="claude-3-opus-20240229", messages=user("hi"), stream=True)
    with pytest.raises(ProviderError) as info:
        if asyncio.iscoroutine(stream):
            async for chunk in await stream:
                shown.append(chunk.choices[0].delta.content or "" if chunk.choices else "")
                await asyncio.sleep(0.3)  # busy: the rest of the answer piles up meanwhile
        else:
            for chunk in stream:
                shown.append(chunk.choices[0].delta.content or "" if chunk.choices else "")
                time.sleep(0.3)
    assert info.value.status_code == 529 and fake_server.request_count() == 1
    assert "".join(shown).startswith("one. two. three.")
    await close(client)


# trio warns about every async generator left to the garbage collector, and the openai SDK's own stream
# generators are (a safe stream, without DeepSentinel, warns too).
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_the_async_client_under_trio_streams_without_an_asyncio_reader(fake_server: FakeLLMServer) -> None:
    """Under trio there is no asyncio loop for a reader task: the stream is read as it comes, and guarded."""
    import trio

    fake_server.enqueue(Reply(text="hello from a trio program"), Reply(text=f"the card {CARD} leaks"))

    async def main() -> tuple[str, str]:
        client = _client(fake_server, False)
        texts = []
        for _ in range(2):
            shown: list[str] = []
            try:
                stream = await client.chat.completions.create(model="gpt-4o-mini", messages=user("hi"), stream=True)
                async for chunk in stream:
                    shown.append(chunk.choices[0].delta.content or "" if chunk.choices else "")
            except ComplianceViolationError:
                shown.append("<cut>")
            texts.append("".join(shown))
        await client.close()
        return texts[0], texts[1]

    safe, risky = trio.run(main)
    assert safe == "hello from a trio program"
    assert risky.endswith("<cut>") and "4111" not in risky


def test_a_stream_dropped_unread_lets_its_reader_go(fake_server: FakeLLMServer) -> None:
    """A caller that drops a long stream without closing it: the reader stops once the stream is collected
    (it would otherwise wait for room forever)."""
    import gc

    fake_server.enqueue(Reply(chunks=[f"w{i} " + "x" * 2000 for i in range(400)]))  # ~800 KB: past LIMIT
    client = _client(fake_server, True)
    stream = client.chat.completions.create(model="gpt-4o-mini", messages=user("Tell me"), stream=True)
    iterator = iter(stream)
    for _ in range(10):
        next(iterator)
    assert _wait(lambda: _readers() == 1)
    del stream, iterator
    gc.collect()
    assert _wait(lambda: _readers() == 0)
    client.close()


def test_the_first_text_goes_out_before_any_reading_ahead(fake_server: FakeLLMServer) -> None:
    """The answer's first text is released as its own chunks come (a reader started before would only delay
    it); reading ahead starts after it, once chunks are found waiting."""
    # Ten empty deltas first (as some models send while they think): chunks that are found waiting, no text.
    fake_server.enqueue(Reply(chunks=[""] * 10 + [f" word{i}" for i in range(3000)]))
    client = _client(fake_server, True)
    readers_at: list[int] = []
    with client.chat.completions.create(model="gpt-4o-mini", messages=user("Tell me"), stream=True) as stream:
        for n, _ in enumerate(c for c in stream if c.choices and c.choices[0].delta.content):
            if n in (0, 200):
                readers_at.append(_readers())
                time.sleep(0.05)  # busy: what arrives meanwhile waits
    assert readers_at == [0, 1]
    client.close()


async def test_a_stream_closed_right_after_the_text_before_a_cut_is_audited_as_cut(
        fake_server: FakeLLMServer, sync: bool) -> None:
    """The text before a card goes out first and the cut is raised on the next read: a caller that stops
    reading in between still leaves a call recorded as cut, not as allowed."""
    fake_server.enqueue(Reply(chunks=[f"Pay with {CARD} today."]))
    sink = MemorySink()
    kind: Any = SentinelClient if sync else AsyncSentinelClient
    client = kind(openai_api_key="k", base_url=fake_server.openai_base_url, audit=sink)
    stream = client.chat.completions.create(model="gpt-4o-mini", messages=user("Tell me"), stream=True)
    shown = ""
    if sync:
        for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                shown = chunk.choices[0].delta.content
                break
        stream.close()
    else:
        stream = await stream
        async for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                shown = chunk.choices[0].delta.content
                break
        await stream.close()
    assert shown == "Pay with "
    assert [e.outcome for e in sink.events] == [Outcome.STREAM_TERMINATED]
    await close(client)
