"""A background thread that takes items off a queue and hands them to a handler in batches.

``submit`` is the request-path cost of auditing: one ``SimpleQueue.put`` (a C call, no lock contention with
the writer). The thread takes whatever has accumulated, up to ``max_batch`` items, and writes it in one
transaction, so batches grow by themselves under load and stay at one item when traffic is light.

Loss window: after a hard kill, the items lost are those submitted but not yet committed: at most
``max_pending`` queued plus one batch in flight, and in practice the last few milliseconds of traffic.
A clean shutdown (``close``, interpreter exit) loses nothing.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
import weakref
from collections.abc import Callable
from typing import Any, Generic, TypeVar

T = TypeVar("T")

logger = logging.getLogger("deepsentinel.audit")

_RETRY_DELAYS = (0.05, 0.2, 1.0)  # seconds; a busy database usually frees up within these

# Writers alive in this process, so a forked child (gunicorn --preload, multiprocessing) gets fresh ones.
_WRITERS: weakref.WeakSet[BatchWriter[Any]] = weakref.WeakSet()
_fork_hook_installed = False


def _after_fork_in_child() -> None:
    for writer in list(_WRITERS):
        writer._reset_after_fork()


def _install_fork_hook() -> None:
    global _fork_hook_installed
    if not _fork_hook_installed and hasattr(os, "register_at_fork"):
        os.register_at_fork(after_in_child=_after_fork_in_child)
        _fork_hook_installed = True


class _Marker:
    """A flush or stop request travelling through the queue behind the items submitted before it."""

    __slots__ = ("done", "stop")

    def __init__(self, stop: bool = False) -> None:
        self.done = threading.Event()
        self.stop = stop


class BatchWriter(Generic[T]):
    """Runs ``handler(batch)`` on a daemon thread; ``flush`` waits for everything submitted before it."""

    def __init__(
        self,
        handler: Callable[[list[T]], None],
        *,
        on_stop: Callable[[], None] | None = None,
        on_fork: Callable[[], None] | None = None,
        max_batch: int = 1000,
        max_pending: int = 10_000,
        retry_delays: tuple[float, ...] = _RETRY_DELAYS,
        name: str = "deepsentinel-audit-writer",
    ) -> None:
        self._handler = handler
        self._on_stop = on_stop
        self._on_fork = on_fork
        self._name = name
        self.max_batch = max_batch
        self.max_pending = max_pending
        self._retry_delays = retry_delays
        self._queue: queue.SimpleQueue[T | _Marker] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._start_lock = threading.Lock()
        self._started = False
        self._closed = False
        self.written = 0
        self.dropped = 0

    @property
    def closed(self) -> bool:
        return self._closed

    def submit(self, item: T) -> None:
        """Queue one item. Blocks only when ``max_pending`` items are already waiting (disk too slow)."""
        if self._closed:
            raise RuntimeError("the audit writer is closed")
        if not self._started:
            self._start()
        if self._queue.qsize() >= self.max_pending:
            # Back-pressure rather than unbounded memory or silent loss; rare, so a short poll is fine.
            while self._queue.qsize() >= self.max_pending and self._thread.is_alive():
                time.sleep(0.001)
        self._queue.put(item)

    def _start(self) -> None:
        with self._start_lock:
            if not self._started:
                _install_fork_hook()
                _WRITERS.add(self)
                self._thread.start()
                self._started = True

    def _reset_after_fork(self) -> None:
        # The child inherits the queue but not the thread: events queued before the fork are the parent's
        # to write, so start empty, with a thread of our own on the next submit.
        self._queue = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
        self._start_lock = threading.Lock()
        self._started = False
        if self._on_fork is not None:
            self._on_fork()

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every item submitted before this call has been handled (written or dropped)."""
        if not self._started or not self._thread.is_alive():
            return True
        marker = _Marker()
        self._queue.put(marker)
        return marker.done.wait(timeout)

    def close(self, timeout: float | None = 30.0) -> None:
        """Handle everything queued, then stop the thread. Idempotent; later ``submit`` calls raise."""
        if self._closed:
            return
        self._closed = True
        if self._started and self._thread.is_alive():
            marker = _Marker(stop=True)
            self._queue.put(marker)
            self._thread.join(timeout)
        elif self._on_stop is not None:
            self._on_stop()

    def _run(self) -> None:
        markers: list[_Marker] = []
        stop = False
        while not stop:
            batch: list[T] = []
            item = self._queue.get()
            while True:
                if isinstance(item, _Marker):
                    markers.append(item)
                    stop = stop or item.stop
                    break  # write what came before the marker, then release its waiter
                batch.append(item)
                if len(batch) >= self.max_batch:
                    break
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
            if batch:
                self._write(batch)
            for marker in markers:
                marker.done.set()
            markers.clear()
        self._drain_after_stop()
        if self._on_stop is not None:
            try:
                self._on_stop()
            except Exception as exc:  # the process is shutting down; report and carry on
                logger.error("audit writer failed to shut down cleanly (%s)", type(exc).__name__)

    def _drain_after_stop(self) -> None:
        # An item submitted while close() was running lands behind the stop marker: write it anyway.
        late: list[T] = []
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if isinstance(item, _Marker):
                item.done.set()
            else:
                late.append(item)
        if late:
            self._write(late)

    def _write(self, batch: list[T]) -> None:
        for attempt, delay in enumerate((0.0, *self._retry_delays)):
            if delay:
                time.sleep(delay)
            try:
                self._handler(batch)
            except Exception as exc:
                # Only the exception type: a database message could quote a value being inserted.
                logger.warning("audit write of %d events failed (attempt %d, %s)", len(batch), attempt + 1,
                               type(exc).__name__)
                continue
            self.written += len(batch)
            return
        self.dropped += len(batch)
        logger.error("audit write failed for good: %d events dropped (total %d)", len(batch), self.dropped)
