"""Durable mode: record() returns only once the event is committed, so SIGKILL loses no recorded event."""

from __future__ import annotations

import mmap
import os
import signal
import sqlite3
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from deepsentinel.audit import AuditLog, SQLiteAuditStore
from tests.audit_factory import AUDIT_KEY, make_event, refuse_rows

SRC = str(Path(__file__).resolve().parents[1] / "src")

CHILD = """
import mmap, os, struct, sys, threading
from deepsentinel.audit import AuditEvent, Outcome, SQLiteAuditStore
path, counter, key = sys.argv[1], sys.argv[2], sys.argv[3].encode()
shared = mmap.mmap(os.open(counter, os.O_RDWR), 8 * 4)
store = SQLiteAuditStore(path, key=key, durable=True)

def worker(slot):
    i = 0
    while True:
        store.record(AuditEvent(Outcome.BLOCKED, "openai", "gpt-4o-mini", request_id=f"{slot}-{i}"))
        i += 1
        struct.pack_into("<q", shared, 8 * slot, i)  # only after record() returned

threads = [threading.Thread(target=worker, args=(s,), daemon=True) for s in range(4)]
for t in threads:
    t.start()
threads[0].join()
"""


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_sigkill_loses_no_event_whose_record_returned(tmp_path: Path) -> None:
    """Four threads record durably; after SIGKILL every event whose record() returned is in the file."""
    db, counter = tmp_path / "durable.sqlite3", tmp_path / "counter"
    counter.write_bytes(b"\x00" * 32)
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(db), str(counter), AUDIT_KEY.decode()],
                             env={**os.environ, "PYTHONPATH": SRC})
    with open(counter, "r+b") as fh, mmap.mmap(fh.fileno(), 32) as shared:
        deadline = time.monotonic() + 20
        try:
            while sum(struct.unpack_from("<4q", shared, 0)) < 400 and time.monotonic() < deadline:
                assert child.poll() is None, "the writer process died on its own"
                time.sleep(0.01)
        finally:
            child.send_signal(signal.SIGKILL)
            child.wait(timeout=10)
        returned = struct.unpack_from("<4q", shared, 0)
    assert sum(returned) >= 400, "the child did not reach load before the deadline"
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    stored = {r for (r,) in conn.execute("SELECT request_id FROM audit_events")}
    conn.close()
    for slot, count in enumerate(returned):
        missing = [i for i in range(count) if f"{slot}-{i}" not in stored]
        assert missing == [], f"thread {slot}: {len(missing)} event(s) returned from record() but were not committed"
    with AuditLog(db, key=AUDIT_KEY) as log:
        assert log.verify().ok


def test_concurrent_durable_callers_share_commits(tmp_path: Path) -> None:
    """Eight threads recording durably at once: all 400 events committed and chained."""
    path = tmp_path / "group.sqlite3"
    with SQLiteAuditStore(path, key=AUDIT_KEY, durable=True) as store:
        def work() -> None:
            for _ in range(50):
                store.record(make_event())

        threads = [threading.Thread(target=work) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(store.query()) == 400  # committed: record() returned for each
        assert store.verify().ok


def test_a_composite_sink_passes_on_a_durable_failure_after_every_sink_had_the_event(tmp_path: Path) -> None:
    """CompositeSink re-raises AuditWriteError (durability was asked for) once the metrics sink counted the call."""
    from deepsentinel.audit import AuditWriteError, CompositeSink, MemorySink

    path = tmp_path / "c.sqlite3"
    refuse_rows(path, "x")
    memory = MemorySink()
    composite = CompositeSink(SQLiteAuditStore(path, durable=True), memory)
    with pytest.raises(AuditWriteError):
        composite.record(make_event(model="x"))
    assert len(memory.events) == 1
    composite.record(make_event())
    composite.close()
