"""Reading a streamed answer ahead of its caller, so that what piles up is guarded in one pass.

httpcore hands a body over one HTTP chunk at a time, and a provider writes one event per chunk. When events
arrive faster than the caller's code takes them (a fast server, a burst after a pause, a busy caller), guarding
them one by one costs a full check per event. So a stream is first read chunk by chunk, as it comes; once the
answer's first text is out and chunks are found already waiting when asked for (``QUICK_READS`` in a row), a
reader (a thread for the sync client, a task for the async one) pulls the rest as it arrives, and each step of
the caller takes all that has arrived; ``EventGuard.feed_many`` checks it in one pass. Nothing waits for more: a chunk is handed over as soon
as it is asked for, and a model streaming at its own pace never gets a reader at all.

At most ``LIMIT`` bytes wait unread; past that the reader stops reading, so a slow caller slows the provider
instead of growing a buffer. Stopping early (the caller closed the stream, a deadline, a block) cancels the
reader task, or wakes a reader thread blocked on the socket by shutting the socket down, so the provider sees
the connection end at once.

Only HTTP/1.1 answers with a real socket are read ahead: an HTTP/2 connection carries other calls' streams,
and a transport without a socket (a test's mock, a user's own) has no safe way to be woken.
"""

from __future__ import annotations

import _thread
import asyncio
import contextlib
import socket
import threading
import time
import weakref
from collections import deque
from collections.abc import AsyncIterable, Callable, Iterable

import httpx2

#: Bytes that may wait unread before the reader pauses.
LIMIT = 256 * 1024
#: Most chunks (events, as providers write them) handed over in one step: the first event of a step waits for
#: the whole step to be guarded.
STEP_CHUNKS = 64
#: A chunk that came within this many seconds of being asked for was already waiting: after ``QUICK_READS`` of
#: them in a row the stream is read ahead (a model streaming at its own pace never is: nothing to batch).
QUICK_READ = 0.001
QUICK_READS = 3


def readable_ahead(response: httpx2.Response) -> socket.socket | None:
    """The socket of an HTTP/1.1 answer that may be read ahead, or ``None``."""
    if response.extensions.get("http_version", b"HTTP/1.1") != b"HTTP/1.1":
        return None
    stream = response.extensions.get("network_stream")
    get = getattr(stream, "get_extra_info", None)
    sock = get("socket") if callable(get) else None
    return sock if isinstance(sock, socket.socket) else None


_LIVE: weakref.WeakSet[ReadAhead] = weakref.WeakSet()


def live_readers() -> int:
    """How many reader threads hold a stream now (for tests and diagnostics)."""
    return len(_LIVE)


def in_asyncio() -> bool:
    """Whether an asyncio loop runs this code (the async client may also run under trio: read as before)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _shut(sock: socket.socket) -> None:
    # socket.socket's own shutdown, not SSLSocket's (which drops its TLS object under the reader's feet).
    with contextlib.suppress(OSError):
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


class _Pending:
    """Chunks read and not yet taken, the reader's end, and its error."""

    def __init__(self) -> None:
        self.chunks: deque[bytes] = deque()
        self.size = 0
        self.ended = False
        self.error: BaseException | None = None
        self.stopping = False
        self.quick = 0  # chunks in a row that were already waiting when asked for, before any reader

    def piling_up(self, asked: float) -> bool:
        """Note a chunk asked for at ``asked`` and just got: whether enough came at once to read ahead."""
        self.quick = self.quick + 1 if time.monotonic() - asked < QUICK_READ else 0
        return self.quick >= QUICK_READS

    def take(self, most: int) -> bytes:
        """Up to ``most`` pending chunks, joined; raises the reader's error once nothing is left before it."""
        chunks = self.chunks
        if chunks:
            if len(chunks) <= most:
                out = b"".join(chunks)
                chunks.clear()
            else:
                out = b"".join([chunks.popleft() for _ in range(most)])
            self.size -= len(out)
            return out
        if self.error is not None:
            raise self.error
        return b""


class ReadAhead:
    """Iterating this gives the body of ``stream``: chunk by chunk while each is awaited, then, once chunks are
    found already waiting (``QUICK_READS`` in a row) and ``ready()`` (the caller's first text is out: reading
    on before it would only delay it), a thread reads on and each step gives all that has arrived (sync
    client). A step that finds nothing by ``deadline`` gives ``b""``, so the caller can check its own clock."""

    def __init__(self, stream: Iterable[bytes], sock: socket.socket, deadline: float,
                 ready: Callable[[], bool] = lambda: True) -> None:
        self._stream, self._sock, self._deadline, self._ready = iter(stream), sock, deadline, ready
        self._pending = _Pending()
        self._changed = threading.Condition()
        self._done: threading.Event | None = None  # set when a started reader has let go of the stream

    def _read(self) -> None:
        pending, changed = self._pending, self._changed
        try:
            for chunk in self._stream:
                with changed:
                    pending.chunks.append(chunk)
                    pending.size += len(chunk)
                    changed.notify_all()
                    # Reading on while chunks keep coming keeps the GIL from a waiting caller for up to a switch
                    # interval (5 ms): that is what makes a burst one step. Handing each chunk over at once would
                    # make caller and reader take turns, one chunk per step. (The first text is out before any
                    # reader starts, so no answer's first text waits for this.)
                    while pending.size >= LIMIT and not pending.stopping:
                        changed.wait()
                    if pending.stopping:
                        return
        except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread by take()
            with changed:
                pending.error = exc
        finally:
            with changed:
                pending.ended = True
                changed.notify_all()
            _LIVE.discard(self)
            assert self._done is not None
            self._done.set()

    def __iter__(self) -> ReadAhead:
        return self

    def __next__(self) -> bytes:
        """What has arrived, waiting until the deadline for something (then ``b""``). Raises the upstream's
        error after the chunks read before it."""
        if self._done is None:
            asked = time.monotonic()
            chunk = next(self._stream)
            if self._pending.piling_up(asked) and self._ready():
                self._done = threading.Event()
                _LIVE.add(self)
                # The low-level start: ``threading.Thread.start`` waits until the new thread runs, which on a busy
                # machine holds this answer up for milliseconds. The reader only needs to run by the next step.
                _thread.start_new_thread(self._read, ())
            return chunk
        pending = self._pending
        with self._changed:
            if not pending.chunks and not pending.ended:
                self._changed.wait(max(0.0, self._deadline - time.monotonic()) + 0.05)
            out = pending.take(STEP_CHUNKS)
            if not out and pending.ended:
                raise StopIteration
            self._changed.notify_all()  # room again
            return out

    @property
    def reading(self) -> bool:
        """Whether a reader thread holds the stream now."""
        return self._done is not None and not self._done.is_set()

    def stop(self) -> None:
        """Stop the reader (waking it if it waits on the socket) and wait for it to let go of the stream."""
        if self._done is None:
            return
        with self._changed:
            if self._pending.ended:
                return
            self._pending.stopping = True
            self._changed.notify_all()
        _shut(self._sock)
        self._done.wait(timeout=5)


class AsyncReadAhead:
    """As ``ReadAhead``, with a task as the reader (async client)."""

    def __init__(self, stream: AsyncIterable[bytes], deadline: float, ready: Callable[[], bool] = lambda: True) -> None:
        self._stream, self._deadline, self._ready = stream.__aiter__(), deadline, ready
        self._pending = _Pending()
        self._arrived = asyncio.Event()
        self._room = asyncio.Event()
        self._room.set()
        self._task: asyncio.Future[None] | None = None

    async def _read(self) -> None:
        pending = self._pending
        try:
            async for chunk in self._stream:
                pending.chunks.append(chunk)
                pending.size += len(chunk)
                self._arrived.set()
                if pending.size >= LIMIT:
                    self._room.clear()
                    await self._room.wait()
        except Exception as exc:  # noqa: BLE001 - handed to the caller's task by take()
            pending.error = exc
        finally:
            pending.ended = True
            self._arrived.set()

    def __aiter__(self) -> AsyncReadAhead:
        return self

    async def __anext__(self) -> bytes:
        """As ``ReadAhead.__next__``."""
        if self._task is None:
            asked = time.monotonic()
            chunk = await self._stream.__anext__()
            if self._pending.piling_up(asked) and self._ready():
                self._task = asyncio.ensure_future(self._read())
            return chunk
        pending = self._pending
        if not pending.chunks and not pending.ended:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), max(0.0, self._deadline - time.monotonic()) + 0.05)
        out = pending.take(STEP_CHUNKS)
        if not out and pending.ended:
            raise StopAsyncIteration
        if not pending.ended and not pending.chunks:
            self._arrived.clear()
        self._room.set()
        return out

    async def stop(self) -> None:
        """Cancel the reader and wait for it to let go of the stream."""
        if self._task is None or self._task.done():
            return
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self._task


__all__ = ["LIMIT", "AsyncReadAhead", "ReadAhead", "in_asyncio", "live_readers", "readable_ahead"]
