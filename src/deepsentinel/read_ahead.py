"""Reading a streamed answer ahead of its caller, so that what piles up is guarded in one pass.

httpcore hands a body over one HTTP chunk at a time, and a provider writes one event per chunk. When events
arrive faster than the caller's code takes them (a fast server, a burst after a pause, a busy caller), guarding
them one by one costs a full check per event. A reader (a thread for the sync client, a task for the async
one) pulls the upstream body as it arrives, and the caller's side takes everything that has arrived at once;
``EventGuard.feed_many`` then checks the burst in one pass. Nothing waits for more: a lone chunk is handed
over as soon as it arrives, so a slowly streamed answer is released exactly as before.

At most ``LIMIT`` bytes wait unread; past that the reader stops reading, so a slow caller slows the provider
instead of growing a buffer. Stopping early (the caller closed the stream, a deadline, a block) cancels the
reader task, or wakes a reader thread blocked on the socket by shutting the socket down, so the provider sees
the connection end at once.

Only HTTP/1.1 answers with a real socket are read ahead: an HTTP/2 connection carries other calls' streams,
and a transport without a socket (a test's mock, a user's own) has no safe way to be woken.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from collections import deque
from collections.abc import AsyncIterable, Iterable

import httpx2

#: Bytes that may wait unread before the reader pauses.
LIMIT = 256 * 1024


def readable_ahead(response: httpx2.Response) -> socket.socket | None:
    """The socket of an HTTP/1.1 answer that may be read ahead, or ``None``."""
    if response.extensions.get("http_version", b"HTTP/1.1") != b"HTTP/1.1":
        return None
    stream = response.extensions.get("network_stream")
    get = getattr(stream, "get_extra_info", None)
    sock = get("socket") if callable(get) else None
    return sock if isinstance(sock, socket.socket) else None


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

    def take(self) -> bytes:
        """Everything pending, joined; raises the reader's error once nothing is left before it."""
        if self.chunks:
            out = b"".join(self.chunks)
            self.chunks.clear()
            self.size = 0
            return out
        if self.error is not None:
            raise self.error
        return b""


class ReadAhead:
    """A thread reads ``stream``; each step of iterating this gives all that has arrived (sync client).

    A step that finds nothing by ``deadline`` gives ``b""``, so the caller can check its own clock.
    """

    def __init__(self, stream: Iterable[bytes], sock: socket.socket, deadline: float) -> None:
        self._stream, self._sock, self._deadline = stream, sock, deadline
        self._pending = _Pending()
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._read, name="deepsentinel-read-ahead", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        pending, changed = self._pending, self._changed
        try:
            for chunk in self._stream:
                with changed:
                    pending.chunks.append(chunk)
                    pending.size += len(chunk)
                    changed.notify_all()
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

    def __iter__(self) -> ReadAhead:
        return self

    def __next__(self) -> bytes:
        """What has arrived, waiting until the deadline for something (then ``b""``). Raises the upstream's
        error after the chunks read before it."""
        pending = self._pending
        with self._changed:
            if not pending.chunks and not pending.ended:
                self._changed.wait(max(0.0, self._deadline - time.monotonic()) + 0.05)
            out = pending.take()
            if not out and pending.ended:
                raise StopIteration
            self._changed.notify_all()  # room again
            return out

    def stop(self) -> None:
        """Stop the reader (waking it if it waits on the socket) and wait for it to let go of the stream."""
        with self._changed:
            if self._pending.ended:
                return
            self._pending.stopping = True
            self._changed.notify_all()
        _shut(self._sock)
        self._thread.join(timeout=5)


class AsyncReadAhead:
    """A task reads ``stream``; each step of iterating this gives all that has arrived (async client)."""

    def __init__(self, stream: AsyncIterable[bytes], deadline: float) -> None:
        self._stream, self._deadline = stream, deadline
        self._pending = _Pending()
        self._arrived = asyncio.Event()
        self._room = asyncio.Event()
        self._room.set()
        self._task = asyncio.ensure_future(self._read())

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
        pending = self._pending
        if not pending.chunks and not pending.ended:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), max(0.0, self._deadline - time.monotonic()) + 0.05)
        out = pending.take()
        if not out and pending.ended:
            raise StopAsyncIteration
        if not pending.ended:
            self._arrived.clear()
        self._room.set()
        return out

    async def stop(self) -> None:
        """Cancel the reader and wait for it to let go of the stream."""
        if self._task.done():
            return
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self._task


__all__ = ["LIMIT", "AsyncReadAhead", "ReadAhead", "in_asyncio", "readable_ahead"]
