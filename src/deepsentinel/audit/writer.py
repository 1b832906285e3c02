"""A background thread that takes items off a queue and hands them to a handler in batches.

``submit`` is the request-path cost of auditing: one ``SimpleQueue.put`` (a C call, no lock contention with
the writer). The thread takes whatever has accumulated, up to ``max_batch`` items, and writes it in one
transaction, so batches grow by themselves under load and stay at one item when traffic is light.

While items keep coming, the thread sleeps ``POLL`` seconds between drains instead of waiting on the queue, so
a ``submit`` wakes no thread: waking one cost the submitting call 10-13 us (a futex call on this VM), most of
its audit cost. After ``IDLE_POLLS`` empty drains it waits on the queue again, and the next ``submit`` wakes
it. ``flush``, ``submit_and_wait`` and ``close`` always wake it. An item is committed within ``POLL`` of its
``submit`` under load.

Loss window: after a hard kill, the items lost are those submitted but not yet committed: at most
``max_pending`` queued plus one batch in flight (see docs/audit.md for what was measured).
``submit_and_wait`` closes that window for one item: it returns once the item is committed.
A clean shutdown (``close``, interpreter exit) loses nothing.

An item the handler cannot write is never silently dropped: a failing batch is retried (transient errors
only), then written item by item, and each item that still fails is counted and reported to ``on_lost``,
which records a gap in the chain.

``prepare`` turns each queued item into what the handler writes, once, on the thread, before any attempt: the
audit store queues a call's record unbuilt, so building it is not on the caller's path. An item it cannot turn
is lost like an item the handler cannot write.
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
POLL = 0.005  # seconds between drains while items keep coming
IDLE_POLLS = 20  # empty drains in a row after which the thread waits on the queue itself

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
    """A flush or stop request travelling through the queue behind the items submitted before it.

    ``ok`` turns False if an item submitted before the marker (and after the previous one) was lost.
    """

    __slots__ = ("done", "ok", "stop")

    def __init__(self, stop: bool = False) -> None:
        self.done = threading.Event()
        self.ok = True
        self.stop = stop


def _always_transient(exc: Exception) -> bool:
    return True


class BatchWriter(Generic[T]):
    """Runs ``handler(batch)`` on a daemon thread; ``flush`` waits for everything submitted before it."""

    def __init__(
        self,
        handler: Callable[[list[T]], None],
        *,
        on_stop: Callable[[], None] | None = None,
        on_fork: Callable[[], None] | None = None,
        on_lost: Callable[[int, str], None] | None = None,
        is_transient: Callable[[Exception], bool] | None = None,
        on_idle: Callable[[], None] | None = None,
        prepare: Callable[[Any], T] | None = None,
        idle_interval: float = 1.0,
        max_batch: int = 1000,
        max_pending: int = 10_000,
        retry_delays: tuple[float, ...] = _RETRY_DELAYS,
        name: str = "deepsentinel-audit-writer",
    ) -> None:
        self._handler = handler
        self._on_stop = on_stop
        self._on_fork = on_fork
        self._on_lost = on_lost
        self._is_transient = is_transient or _always_transient
        self._on_idle = on_idle
        self._prepare = prepare
        self._idle_interval = idle_interval
        self._name = name
        self.max_batch = max_batch
        self.max_pending = max_pending
        self._retry_delays = retry_delays
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._nudge = threading.Event()  # ends a poll's sleep at once (a flush, a durable write, close)
        self._gate = threading.Lock()  # orders each put against close's stop marker
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._start_lock = threading.Lock()
        self._started = False
        self._closed = False
        self.written = 0
        self.dropped = 0
        self._lost_unreported = False  # an item was lost since the last marker was answered

    @property
    def closed(self) -> bool:
        return self._closed

    def submit(self, item: Any) -> None:
        """Queue one item. Blocks only when ``max_pending`` items are already waiting (disk too slow).

        Raises ``RuntimeError`` once ``close`` has begun: nothing is queued behind the stop, where no thread
        would take it (the caller writes it itself, as ``BatchedStore.record`` does).
        """
        if self._closed:
            raise RuntimeError("the audit writer is closed")
        if not self._started:
            self._start()
        if self._queue.qsize() >= self.max_pending:
            # Back-pressure rather than unbounded memory or silent loss; rare, so a short poll is fine.
            while self._queue.qsize() >= self.max_pending and self._thread.is_alive():
                time.sleep(0.001)
        with self._gate:
            if self._closed:
                raise RuntimeError("the audit writer is closed")
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
        self._nudge = threading.Event()
        self._gate = threading.Lock()
        self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
        self._start_lock = threading.Lock()
        self._started = False
        if self._on_fork is not None:
            self._on_fork()

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every item submitted before this call has been handled (written or dropped)."""
        return self.mark().wait(timeout)

    def mark(self) -> threading.Event:
        """An event set once every item submitted before this call has been handled (for waiting without
        blocking, as an event loop must)."""
        marker = _Marker()
        with self._gate:
            if self._closed or not self._started or not self._thread.is_alive():
                # Closed: the stop already waits behind every item queued before it, and later ones are
                # written by their callers.
                marker.done.set()
                return marker.done
            self._queue.put(marker)
        self._nudge.set()
        return marker.done

    def submit_and_wait(self, item: Any, timeout: float | None = None) -> bool:
        """Queue ``item`` and wait until it is written; False if it was lost or ``timeout`` expired.

        Concurrent callers share commits: the writer takes every item and marker queued so far in one batch.
        """
        marker = _Marker()
        dropped = self.dropped
        self.submit(item)
        with self._gate:
            closed = self._closed
            if not closed:
                self._queue.put(marker)
        if closed:  # closed just after the item: the thread writes it before it stops
            self._thread.join(timeout)
            return not self._thread.is_alive() and self.dropped == dropped
        self._nudge.set()
        if not self._thread.is_alive():
            return False
        return marker.done.wait(timeout) and marker.ok

    def close(self, timeout: float | None = 30.0) -> None:
        """Handle everything queued, then stop the thread. Idempotent; later ``submit`` calls raise."""
        with self._gate:  # no submit lands behind the stop marker
            if self._closed:
                return
            self._closed = True
            running = self._started and self._thread.is_alive()
            if running:
                self._queue.put(_Marker(stop=True))
        if running:
            self._nudge.set()
            # Closed from its own thread (an owner's finalizer, when the last reference to it died with an item
            # the thread was handling): the stop is queued; the thread ends once it returns to the queue.
            if threading.current_thread() is not self._thread:
                self._thread.join(timeout)
        elif self._on_stop is not None:
            self._on_stop()

    def _run(self) -> None:
        markers: list[_Marker] = []
        stop = False
        empty = IDLE_POLLS  # start idle: the first submit wakes the thread
        full = False  # the last batch stopped at max_batch: more is waiting, take it without a pause
        while not stop:
            batch: list[Any] = []
            try:
                if empty >= IDLE_POLLS:
                    item = self._queue.get(timeout=self._idle_interval if self._on_idle is not None else None)
                else:
                    if not full:
                        self._nudge.wait(POLL)
                        self._nudge.clear()
                    item = self._queue.get_nowait()
            except queue.Empty:
                if empty >= IDLE_POLLS:
                    self._idle()
                empty += 1
                continue
            empty = 0
            while True:
                if isinstance(item, _Marker):
                    # Markers do not end the batch: everything queued before them is in it, and waiters
                    # queued close together then share one commit.
                    markers.append(item)
                    if item.stop:
                        stop = True
                        break
                else:
                    batch.append(item)
                    if len(batch) >= self.max_batch:
                        break
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
            full = len(batch) >= self.max_batch
            ready = self._prepared(batch) if self._prepare is not None else batch
            if ready:
                self._write(ready)
            if markers:
                ok, self._lost_unreported = not self._lost_unreported, False
                for marker in markers:
                    marker.ok = ok
                    marker.done.set()
                markers.clear()
        # Nothing is behind the stop marker: every put and the stop itself are ordered by ``_gate``.
        if self._on_stop is not None:
            try:
                self._on_stop()
            except Exception as exc:  # the process is shutting down; report and carry on
                logger.error("audit writer failed to shut down cleanly (%s)", type(exc).__name__)

    def _idle(self) -> None:
        # Nothing queued for a while: let the handler catch up on deferred work (a spool to replay).
        assert self._on_idle is not None
        try:
            self._on_idle()
        except Exception as exc:
            logger.warning("audit writer idle work failed (%s)", type(exc).__name__)

    def _prepared(self, batch: list[Any]) -> list[T]:
        assert self._prepare is not None
        ready: list[T] = []
        for item in batch:
            try:
                ready.append(self._prepare(item))
            except Exception as exc:  # a record that cannot be built is a lost one: counted and chained as a gap
                self._lose(1, type(exc).__name__)
        return ready

    def _write(self, batch: list[T]) -> None:
        """Write ``batch``; an item that cannot be stored is lost (counted, reported). Never raises."""
        error = self._attempt(batch)
        if error is None:
            return
        if len(batch) > 1:
            # One item the database refuses must not take the others with it: write them one by one.
            lost = [item for item in batch if self._attempt([item], retry=False) is not None]
        else:
            lost = batch
        if lost:
            self._lose(len(lost), type(error).__name__)

    def _attempt(self, batch: list[T], *, retry: bool = True) -> Exception | None:
        delays = (0.0, *self._retry_delays) if retry else (0.0,)
        error: Exception | None = None
        for attempt, delay in enumerate(delays):
            if delay:
                time.sleep(delay)
            try:
                self._handler(batch)
            except Exception as exc:
                error = exc
                # Only the exception type: a database message could quote a value being inserted.
                logger.warning("audit write of %d events failed (attempt %d, %s)", len(batch), attempt + 1,
                               type(exc).__name__)
                if not self._is_transient(exc):
                    break
                continue
            self.written += len(batch)
            return None
        return error

    def _lose(self, count: int, reason: str) -> None:
        self.dropped += count
        self._lost_unreported = True
        logger.error("audit write failed for good: %d events lost (total %d, %s); a gap is recorded in the chain",
                     count, self.dropped, reason)
        if self._on_lost is not None:
            try:
                self._on_lost(count, reason)
            except Exception as exc:  # the loss is counted and logged already; the hook must not kill the thread
                logger.error("audit loss hook failed (%s)", type(exc).__name__)
