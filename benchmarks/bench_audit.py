"""Audit trail cost: what ``record()`` adds to a call, how fast the store writes, how long verify() takes.

    python benchmarks/bench_audit.py            # full run (~90 s)
    python benchmarks/bench_audit.py --quick    # smaller counts, for a smoke check

Figures printed:
- ``record()`` per call, median and p99, for the SQLite store vs a no-op sink, in two regimes: *paced* (one
  event every ~200 us, like a very busy client; the writer thread runs alongside, so GIL contention is
  included) and *burst* (back-to-back calls below the back-pressure limit);
- sustained write throughput (events/s, recorded and committed);
- ``verify()`` and ``report()`` over the resulting 100k-row chain;
- durable mode (``durable=True``: ``record()`` returns once committed): cold first call, p50/p99 per call
  for one caller and for 8 concurrent callers, against the default batched mode and a no-op sink, with an
  A/A row (the no-op sink measured twice) showing the noise floor;
- events lost when a process recording ~300 events/s (paced by sleeps, like calls waiting on a provider)
  is SIGKILLed, in the default mode and in durable mode: the crash window in practice.
"""

from __future__ import annotations

import argparse
import mmap
import os
import signal
import sqlite3
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from deepsentinel.audit import AuditEvent, AuditLog, FindingRecord, Outcome, SQLiteAuditStore, content_hash

KEY = b"bench-audit-key-" + b"x" * 16


class NoopSink:
    """The baseline: a sink that does nothing."""

    def record(self, event: AuditEvent) -> None:
        pass

    def close(self) -> None:
        pass


def events(n: int) -> list[AuditEvent]:
    """Realistic events: a third with findings, mixed outcomes, keyed content hashes."""
    finding = FindingRecord("EMAIL_ADDRESS", "PII", "request", "messages[0].content", 10, 30, 0.9, 0.54,
                            "anonymize", "gdpr")
    outcomes = list(Outcome)
    return [
        AuditEvent(outcomes[i % len(outcomes)], "openai", "gpt-4o-mini", policies=("gdpr", "secrets"),
                   findings=(finding,) * (i % 3 == 0), latency_ms=120.0, provider_latency_ms=118.5,
                   prompt_tokens=42, completion_tokens=17, content_hash=content_hash(KEY, [f"prompt {i}"]))
        for i in range(n)
    ]


def _spin(us: float) -> None:
    end = time.perf_counter_ns() + int(us * 1000)
    while time.perf_counter_ns() < end:
        pass


def time_records(sink: NoopSink | SQLiteAuditStore, batch: list[AuditEvent], pace_us: float) -> list[float]:
    """Nanoseconds per record() call."""
    out = []
    clock = time.perf_counter_ns
    for e in batch:
        t0 = clock()
        sink.record(e)
        out.append(clock() - t0)
        if pace_us:
            _spin(pace_us)
    return out


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def record_cost(tmp: Path, n: int, pace_us: float, label: str) -> None:
    batch = events(n)
    noop = time_records(NoopSink(), batch, pace_us)
    store = SQLiteAuditStore(tmp / f"{label}.sqlite3", key=KEY)
    store.record(batch[0])  # start the writer and create the file outside the measurement
    store.flush()
    timed = time_records(store, batch, pace_us)
    store.close()
    m_noop, m_store = statistics.median(noop), statistics.median(timed)
    print(f"record() {label:<6} n={n:>6}: store median {m_store / 1000:.2f} us, p99 {pct(timed, 0.99) / 1000:.2f} us"
          f" | no-op median {m_noop / 1000:.2f} us, p99 {pct(noop, 0.99) / 1000:.2f} us"
          f" | median ratio {m_store / max(m_noop, 1):.1f}x, added {(m_store - m_noop) / 1000:.2f} us")


def throughput(path: Path, n: int) -> None:
    batch = events(n)
    store = SQLiteAuditStore(path, key=KEY)
    t0 = time.perf_counter()
    for e in batch:
        store.record(e)
    store.flush()
    elapsed = time.perf_counter() - t0
    store.close()
    print(f"sustained write: {n} events recorded and committed in {elapsed:.2f} s = {n / elapsed:,.0f} events/s")


def read_side(path: Path, n: int) -> None:
    with AuditLog(path, key=KEY) as log:
        t0 = time.perf_counter()
        result = log.verify()
        t_verify = time.perf_counter() - t0
        assert result.ok and result.checked == n, result
        t0 = time.perf_counter()
        report = log.report()
        t_report = time.perf_counter() - t0
        assert report.total == n
        t0 = time.perf_counter()
        blocked = log.list(outcome="blocked", limit=100, newest_first=True)
        t_list = time.perf_counter() - t0
        assert len(blocked) == 100
    print(f"verify() on {n} rows: {t_verify:.2f} s ({n / t_verify:,.0f} rows/s)")
    print(f"report() on {n} rows: {t_report:.2f} s; list(outcome='blocked', limit=100, newest_first=True): "
          f"{t_list * 1000:.1f} ms")


def durable_cost(tmp: Path, n: int) -> None:
    """record() in durable mode vs batched mode vs no-op (twice: the A/A row), one caller and eight."""
    rows: list[tuple[str, list[float], float]] = []
    for label, make in (
        ("no-op sink (A)", lambda i: NoopSink()),
        ("no-op sink (A/A)", lambda i: NoopSink()),
        ("batched (default)", lambda i: SQLiteAuditStore(tmp / f"b{i}.sqlite3", key=KEY)),
        ("durable", lambda i: SQLiteAuditStore(tmp / f"d{i}.sqlite3", key=KEY, durable=True)),
        ("durable, synchronous=FULL", lambda i: SQLiteAuditStore(tmp / f"f{i}.sqlite3", key=KEY, durable=True,
                                                                 synchronous="FULL")),
    ):
        sink = make(0)
        batch = events(n + 1)  # fresh events for every row: none is recorded twice
        t0 = time.perf_counter_ns()
        sink.record(batch[0])  # cold: creates the file, starts the writer, first commit
        cold = (time.perf_counter_ns() - t0) / 1e6
        timed = time_records(sink, batch[1:], 0.0)
        sink.close()
        rows.append((label, timed, cold))
    for label, timed, cold in rows:
        print(f"record() 1 caller, {label:<26}: cold {cold:7.2f} ms | p50 {pct(timed, 0.5) / 1000:8.1f} us"
              f" | p99 {pct(timed, 0.99) / 1000:8.1f} us (n={len(timed)})")
    for label, durable in (("batched (default)", False), ("durable", True)):
        store = SQLiteAuditStore(tmp / f"c8-{label[:3]}.sqlite3", key=KEY, durable=durable)
        store.record(events(1)[0])
        per_thread: list[list[float]] = [[] for _ in range(8)]
        batches = [events(n // 8) for _ in range(8)]

        def run(k: int, store: SQLiteAuditStore = store, out: list[list[float]] = per_thread,
                todo: list[list[AuditEvent]] = batches) -> None:
            out[k] = time_records(store, todo[k], 0.0)

        threads = [threading.Thread(target=run, args=(k,)) for k in range(8)]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - t0
        store.close()
        timed = [x for chunk in per_thread for x in chunk]
        print(f"record() 8 callers, {label:<25}: p50 {pct(timed, 0.5) / 1000:8.1f} us | p99 "
              f"{pct(timed, 0.99) / 1000:8.1f} us | {len(timed) / elapsed:,.0f} events/s "
              + ("committed" if durable else "recorded (committed later)"))


CRASH_CHILD = """
import mmap, os, struct, sys, time
from deepsentinel.audit import AuditEvent, Outcome, SQLiteAuditStore
shared = mmap.mmap(os.open(sys.argv[2], os.O_RDWR), 8)
store = SQLiteAuditStore(sys.argv[1], durable=sys.argv[3] == "durable")
pace = float(sys.argv[4])
i = 0
while True:
    store.record(AuditEvent(Outcome.ALLOWED, "openai", "gpt-4o-mini"))
    i += 1
    struct.pack_into("<q", shared, 0, i)
    if pace:
        time.sleep(pace)  # a call waiting on its provider releases the GIL, as sleep does
"""


def crash_window(tmp: Path, rounds: int, mode: str, pace: float) -> None:
    """SIGKILL a writer several times; report events whose record() returned but that are not on disk."""
    losses, rates = [], []
    for r in range(rounds):
        db, counter = tmp / f"crash-{mode}-{pace}-{r}.sqlite3", tmp / f"counter-{mode}-{pace}-{r}"
        counter.write_bytes(b"\0" * 8)
        child = subprocess.Popen([sys.executable, "-c", CRASH_CHILD, str(db), str(counter), mode, str(pace)],
                                 env=dict(os.environ))
        with open(counter, "r+b") as fh, mmap.mmap(fh.fileno(), 8) as shared:
            while struct.unpack_from("<q", shared, 0)[0] < 200:
                time.sleep(0.01)
            t0, n0 = time.perf_counter(), struct.unpack_from("<q", shared, 0)[0]
            time.sleep(0.5)
            child.send_signal(signal.SIGKILL)
            child.wait()
            handed = struct.unpack_from("<q", shared, 0)[0]
            rates.append((handed - n0) / (time.perf_counter() - t0))
        conn = sqlite3.connect(db)
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        losses.append(handed - conn.execute("SELECT COUNT(*) FROM audit_events").fetchone()[0])
        conn.close()
    print(f"SIGKILL, {mode} mode, recording ~{statistics.median(rates):,.0f} events/s, {rounds} rounds: "
          f"events lost {sorted(losses)} (integrity_check ok every time)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller counts for a smoke run")
    args = parser.parse_args()
    paced_n, burst_n, rows = (2_000, 5_000, 10_000) if args.quick else (20_000, 8_000, 100_000)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        record_cost(tmp, paced_n, 200.0, "paced")
        record_cost(tmp, burst_n, 0.0, "burst")
        throughput(tmp / "rows.sqlite3", rows)
        read_side(tmp / "rows.sqlite3", rows)
        durable_cost(tmp, 400 if args.quick else 2_000)
        rounds = 3 if args.quick else 8
        for mode in ("batched", "durable"):
            crash_window(tmp, rounds, mode, 1 / 300)  # ~300 calls/s, as in the measurement
            crash_window(tmp, rounds, mode, 0.0)  # a burst: back-to-back calls


if __name__ == "__main__":
    main()
