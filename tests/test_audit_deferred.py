"""A call's audit event is built and fanned out on the store's writer thread, unless a sink needs the caller's.

The caller pays one queue put; what it hands over is built later (``CompositeSink.record_later``). Hooks,
spans that something records, durable stores and the application's own sinks still see the event on the
thread that finished the call, and nothing is lost on the way (closed stores, failing builders).
"""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from deepsentinel import SentinelClient
from deepsentinel.audit import AuditEvent, CompositeSink, MemorySink, Outcome, SQLiteAuditStore
from deepsentinel.audit.writer import BatchWriter
from deepsentinel.metrics import ComplianceMonitor, MetricsCollector, OTelSink
from deepsentinel.testing import FakeLLMServer, Reply
from tests.audit_factory import make_event
from tests.switching import run_switching_often

SRC = str(Path(__file__).resolve().parents[1] / "src")


class _Threads:
    """A builder that remembers the thread it ran on."""

    def __init__(self) -> None:
        self.seen: list[int] = []

    def make(self, outcome: Outcome = Outcome.ALLOWED) -> Any:
        def build() -> AuditEvent:
            self.seen.append(threading.get_ident())
            return make_event(outcome)
        return build


class _Tracer:
    """An OpenTelemetry-shaped tracer of the application's: it records, so spans need the caller's context."""

    def __init__(self) -> None:
        self.threads: list[int] = []

    def start_span(self, name: str, start_time: int | None = None) -> Any:
        self.threads.append(threading.get_ident())
        return self

    def is_recording(self) -> bool:
        return True

    def set_attributes(self, attrs: dict[str, Any]) -> None:
        pass

    def end(self, end_time: int | None = None) -> None:
        pass


@pytest.fixture()
def store(tmp_path: Path) -> Any:
    s = SQLiteAuditStore(tmp_path / "audit.sqlite3")
    yield s
    s.close()


def test_a_record_no_sink_needs_at_once_is_built_on_the_writer_thread(store: SQLiteAuditStore) -> None:
    metrics, monitor, threads = MetricsCollector(), ComplianceMonitor(), _Threads()
    sink = CompositeSink(store, metrics, monitor, OTelSink())  # no tracer provider configured: nothing records
    sink.record_later(threads.make())
    store.flush()
    assert threads.seen and threads.seen[0] != threading.get_ident()
    assert metrics.snapshot()["requests"]["total"] == 1
    assert [e.outcome for e in store.query()] == [Outcome.ALLOWED]


def test_without_a_store_the_metrics_count_on_a_thread_of_their_own() -> None:
    """``audit=False``: no store's writer, so the metrics get their own thread; the caller pays one queue put."""
    metrics, monitor, threads = MetricsCollector(), ComplianceMonitor(), _Threads()
    sink = CompositeSink(metrics, monitor, OTelSink())
    sink.record_later(threads.make())
    assert sink.mark().wait(5)
    assert threads.seen and threads.seen[0] != threading.get_ident()
    assert metrics.snapshot()["requests"]["total"] == 1
    hooked: list[int] = []
    hook = monitor.on("event", lambda e: hooked.append(threading.get_ident()))  # still run on the caller's thread
    sink.record_later(threads.make())
    assert hooked == [threading.get_ident()] == threads.seen[1:]
    monitor.off("event", hook)
    sink.close()
    sink.record_later(threads.make())  # after close: counted at once, on this thread
    assert metrics.snapshot()["requests"]["total"] == 3 and threads.seen[2] == threading.get_ident()


def test_failures_on_the_counting_thread_are_counted_too(caplog: pytest.LogCaptureFixture) -> None:
    """A metrics sink that raises on the counting thread: logged (the error's type only) and counted in
    ``failures``, as on the caller's thread; a record that cannot be built is logged."""

    class Broken(MetricsCollector):
        def record(self, event: AuditEvent) -> None:
            raise ValueError("boom")

    def unbuildable() -> AuditEvent:
        raise KeyError("no")

    sink, threads = CompositeSink(Broken()), _Threads()
    with caplog.at_level(logging.ERROR, logger="deepsentinel.audit"):
        sink.record_later(threads.make())
        sink.record_later(unbuildable)
        assert sink.mark().wait(5)
    assert threads.seen and threads.seen[0] != threading.get_ident()
    assert sink.failures == 1 and "ValueError" in caplog.text and "KeyError" in caplog.text
    sink.record(make_event())  # and on the caller's thread, as before
    assert sink.failures == 2
    sink.close()


def test_failures_from_many_threads_are_all_counted() -> None:
    """Caller threads add their sinks' failures to one count: none is lost however they interleave (the GIL
    hides a lost update on this Python; a free-threaded one would show it without the lock)."""

    class Broken(MemorySink):
        def record(self, event: AuditEvent) -> None:
            raise ValueError("boom")

    sink, event = CompositeSink(Broken(), Broken()), make_event()
    run_switching_often([threading.Thread(target=lambda: [sink.record(event) for _ in range(2000)]) for _ in range(4)])
    assert sink.failures == 4 * 2000 * 2
    sink.close()


def test_a_client_without_an_audit_store_counts_every_call_when_read(fake_server: FakeLLMServer) -> None:
    client = SentinelClient(openai_api_key="k", base_url=fake_server.openai_base_url, audit=False)
    for _ in range(3):
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
    assert client.metrics.snapshot()["requests"]["total"] == 3
    client.close()


@pytest.mark.parametrize("needs_caller", ["hook", "tracer", "durable", "own sink"])
def test_a_sink_that_needs_the_callers_thread_gets_the_event_there(tmp_path: Path, needs_caller: str) -> None:
    store = SQLiteAuditStore(tmp_path / "audit.sqlite3", durable=needs_caller == "durable")
    monitor, tracer, own, threads = ComplianceMonitor(), _Tracer(), MemorySink(), _Threads()
    hooked: list[int] = []
    if needs_caller == "hook":
        monitor.on("event", lambda e: hooked.append(threading.get_ident()))
    sinks: list[Any] = [store, MetricsCollector(), monitor, OTelSink(tracer) if needs_caller == "tracer" else OTelSink()]
    if needs_caller == "own sink":
        sinks.append(own)
    CompositeSink(*sinks).record_later(threads.make())
    me = threading.get_ident()
    assert threads.seen == [me]  # built before record_later returned, on this thread
    assert {"hook": hooked, "tracer": tracer.threads, "own sink": [me] * len(own.events)}.get(needs_caller, [me]) == [me]
    store.close()
    assert len(store.query()) == 1


def test_a_hook_registered_later_turns_the_caller_path_back_on(store: SQLiteAuditStore) -> None:
    monitor, threads = ComplianceMonitor(), _Threads()
    sink = CompositeSink(store, MetricsCollector(), monitor)
    sink.record_later(threads.make())
    store.flush()
    hook = monitor.on("event", lambda e: None)
    sink.record_later(threads.make())
    assert threads.seen[1] == threading.get_ident() != threads.seen[0]
    monitor.off("event", hook)
    sink.record_later(threads.make())
    store.flush()
    assert threads.seen[2] != threading.get_ident()
    assert len(store.query()) == 3


def test_a_record_handed_over_after_close_is_written_at_once(store: SQLiteAuditStore) -> None:
    sink = CompositeSink(store, MetricsCollector())
    store.close()
    sink.record_later(_Threads().make(Outcome.BLOCKED))
    assert [e.outcome for e in store.query()] == [Outcome.BLOCKED]
    assert store.verify().ok


def test_a_record_that_cannot_be_built_is_counted_lost_and_the_rest_written(
        store: SQLiteAuditStore, caplog: pytest.LogCaptureFixture) -> None:
    def broken() -> AuditEvent:
        raise KeyError("536-22-1234")

    sink = CompositeSink(store, MetricsCollector())
    with caplog.at_level(logging.ERROR, logger="deepsentinel.audit"):
        sink.record_later(_Threads().make())
        sink.record_later(broken)
        sink.record_later(_Threads().make(Outcome.BLOCKED))
        store.flush()
    assert store.dropped == 1
    assert [e.outcome for e in store.query()] == [Outcome.ALLOWED, Outcome.BLOCKED]
    result = store.verify()  # the loss is a recorded gap: the chain is intact and says one event is missing
    assert (result.ok, result.status, result.lost_events) == (False, "gap", 1)
    assert "KeyError" in caplog.text and "536-22-1234" not in caplog.text


def test_prepare_runs_once_per_item_even_when_the_write_is_retried() -> None:
    prepared: list[str] = []
    attempts: list[list[str]] = []

    def handler(batch: list[str]) -> None:
        attempts.append(batch)
        if len(attempts) == 1:
            raise OSError("busy")

    def prepare(item: str) -> str:
        prepared.append(item)
        return item.upper()

    writer: BatchWriter[str] = BatchWriter(handler, prepare=prepare, retry_delays=(0.0,))
    writer.submit("a")
    writer.close()
    assert prepared == ["a"] and attempts == [["A"], ["A"]] and writer.written == 1


def test_client_metrics_and_audit_count_every_call_when_read(tmp_path: Path) -> None:
    """Reading ``client.metrics`` or ``client.audit`` right after calls waits for their records."""
    with FakeLLMServer() as server:
        server.enqueue(*(Reply(text=f"answer {i}") for i in range(40)))
        client = SentinelClient(openai_api_key="k", base_url=server.openai_base_url, audit=str(tmp_path / "a.db"))
        for i in range(40):
            client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": f"q {i}"}])
        assert client.metrics.snapshot()["requests"]["total"] == 40
        events = client.audit.list()
        client.close()
    assert len(events) == 40 and all(e.outcome is Outcome.ALLOWED for e in events)
    assert all(e.content_hash for e in events)


def test_a_hook_sees_the_call_before_create_returns(tmp_path: Path) -> None:
    with FakeLLMServer() as server:
        server.enqueue(Reply(text="hello"))
        client = SentinelClient(openai_api_key="k", base_url=server.openai_base_url, audit=str(tmp_path / "a.db"))
        seen: list[tuple[Outcome, int]] = []
        client.monitor.on("event", lambda e: seen.append((e.outcome, threading.get_ident())))
        client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
        assert seen == [(Outcome.ALLOWED, threading.get_ident())]
        client.close()


def test_a_process_that_exits_right_after_its_calls_loses_no_record(tmp_path: Path) -> None:
    """Records still queued unbuilt at interpreter exit are built and written by the store's finalizer."""
    path = tmp_path / "exit.sqlite3"
    code = (
        "from deepsentinel.audit import CompositeSink, SQLiteAuditStore, AuditEvent, Outcome\n"
        "from deepsentinel.metrics import MetricsCollector\n"
        f"s = SQLiteAuditStore({str(path)!r})\n"
        "sink = CompositeSink(s, MetricsCollector())\n"
        "for i in range(2000):\n"
        "    sink.record_later(lambda i=i: AuditEvent(Outcome.ALLOWED, 'openai', 'm', request_id=str(i)))\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60, env={"PYTHONPATH": SRC, "PATH": ""})
    with SQLiteAuditStore(path) as s:
        assert sorted(int(e.request_id) for e in s.query()) == list(range(2000))
        assert s.verify().ok


def test_spans_stay_on_the_callers_thread_once_the_application_configures_tracing() -> None:
    """Checked in a fresh process: a tracer provider can be set once per process, through the public API."""
    pytest.importorskip("opentelemetry.trace")
    code = (
        "import opentelemetry.trace as trace\n"
        "from deepsentinel.metrics import OTelSink\n"
        "sink = OTelSink()\n"
        "before = sink.deferrable\n"
        "class Configured(trace.NoOpTracerProvider): pass  # an SDK's provider, as far as the check can tell\n"
        "trace.set_tracer_provider(Configured())\n"
        "print(before, sink.deferrable)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                         env={"PYTHONPATH": SRC, "PATH": ""}, check=True).stdout
    assert out.split() == ["True", "False"]


def test_a_hook_registered_after_a_call_ended_does_not_see_it_on_the_writer_thread(store: SQLiteAuditStore) -> None:
    monitor = ComplianceMonitor()
    sink = CompositeSink(store, MetricsCollector(), monitor)
    gate = threading.Event()

    def slow() -> AuditEvent:  # the writer builds this record only once the hook is registered
        gate.wait(5)
        return make_event()

    sink.record_later(slow)
    seen: list[AuditEvent] = []
    monitor.on("event", seen.append)
    gate.set()
    store.flush()
    assert seen == [] and len(store.query()) == 1


def test_an_answer_cut_mid_read_and_retried_is_one_event_with_the_retrys_facts(tmp_path: Path) -> None:
    """The SDK retries a whole answer whose read timed out: one event, for the answer the caller got."""
    import httpx2

    from deepsentinel.testing.replies import Usage

    with FakeLLMServer() as server:
        server.enqueue(Reply(text="slow answer", trickle=0.6), Reply(text="fast", usage=Usage(111, 222)))
        client = SentinelClient(openai_api_key="k", base_url=server.openai_base_url, audit=str(tmp_path / "a.db"),
                                max_retries=1)
        r = client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "q"}],
                                           timeout=httpx2.Timeout(10, read=0.3))
        assert r.choices[0].message.content == "fast"
        events = client.audit.list()
        client.close()
    assert [(e.outcome, e.attempts, e.prompt_tokens, e.completion_tokens, e.error_type) for e in events] == [
        (Outcome.ALLOWED, 2, 111, 222, None)]


def test_the_event_holds_the_facts_of_when_the_call_ended(store: SQLiteAuditStore) -> None:
    """A record changed after it ended (a later retry reusing it) does not change the event built later."""
    from deepsentinel.calls import CallRecord

    gate = threading.Event()
    sink = CompositeSink(store, MetricsCollector())
    call = CallRecord(sink, b"k" * 32, "chat.completions", "openai", "gpt-4o-mini", texts=("hello",), attempts=1)
    store.record_later(lambda: (gate.wait(5), make_event())[1])  # keeps the writer busy until the changes below
    call.finish(Outcome.PROVIDER_ERROR, TimeoutError())
    call.attempts, call.usage, call.provider, call.target = 2, (111, 222), "anthropic", "anthropic/claude"
    gate.set()
    store.flush()
    event = store.query()[-1]
    assert (event.outcome, event.attempts, event.prompt_tokens, event.provider, event.target, event.error_type) == (
        Outcome.PROVIDER_ERROR, 1, None, "openai", None, "TimeoutError")


def test_a_writer_with_small_batches_takes_a_backlog_without_pausing_between_them() -> None:
    """The 5 ms pause between drains is for an empty queue only: a batch cut at max_batch is followed at once."""
    import time

    from deepsentinel.audit.writer import POLL

    written: list[int] = []
    writer: BatchWriter[int] = BatchWriter(written.extend, max_batch=1)
    started = time.monotonic()
    for i in range(400):
        writer.submit(i)
    assert writer.flush(30)
    took = time.monotonic() - started
    writer.close()
    assert written == list(range(400))
    assert took < 400 * POLL / 2, took  # a pause per batch would take 2 s


def _close_while_submitting() -> tuple[list[int], list[int], BatchWriter[int]]:
    written: list[int] = []
    writer: BatchWriter[int] = BatchWriter(written.extend)
    accepted: list[int] = []
    go = threading.Event()

    def submit_many(base: int) -> None:
        go.wait()
        for i in range(base, base + 300):
            try:
                writer.submit(i)
            except RuntimeError:
                return
            accepted.append(i)

    threads = [threading.Thread(target=submit_many, args=(n * 1000,)) for n in range(3)]
    for t in threads:
        t.start()
    go.set()
    writer.close()
    for t in threads:
        t.join()
    return written, accepted, writer


def test_no_submit_racing_close_is_lost_silently() -> None:
    """A submit either queues its item before close's stop (then it is written) or raises (its caller writes it)."""
    for _ in range(30):
        written, accepted, writer = _close_while_submitting()
        assert sorted(written) == sorted(accepted)
        assert writer.flush(1) is True  # a flush after close does not wait for a thread that is gone


def test_a_writer_closed_from_its_own_thread_stops_without_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """An owner dropped without ``close()`` whose last reference dies while its writer thread handles an item (a
    client dropped right after a call: the queued record holds its sink) closes the writer from that very
    thread. It stops, and nothing is reported as an ignored exception (it once tried to join itself)."""
    import gc
    import weakref

    ignored: list[Any] = []
    monkeypatch.setattr(sys, "unraisablehook", ignored.append)

    class Owner:
        pass

    writer: BatchWriter[Any] = BatchWriter(lambda batch: [item() for item in batch], name="test-self-close")
    owner = Owner()
    weakref.finalize(owner, writer.close)
    holder = [owner]
    del owner
    writer.submit(holder.clear)  # the owner's last reference dies on the writer's thread
    writer._thread.join(5)
    gc.collect()
    assert not writer._thread.is_alive() and writer.closed
    assert ignored == []
