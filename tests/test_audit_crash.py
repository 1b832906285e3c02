"""Crash safety: SIGKILL a process mid-load; the file stays intact, the chain verifies, loss stays in the window.

The child records events in a tight loop and, after each ``record`` returns, writes its count into a shared
memory page, so the parent knows how many events were handed over when the kill landed. The documented loss
window is what was queued but not committed: at most ``max_pending`` + one batch (``max_batch``).
"""

from __future__ import annotations

import mmap
import os
import signal
import sqlite3
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest

from deepsentinel.audit import AuditLog, SQLiteAuditStore
from tests.audit_factory import AUDIT_KEY, make_event

SRC = str(Path(__file__).resolve().parents[1] / "src")
MAX_BATCH, MAX_PENDING = 200, 500

CHILD = """
import mmap, os, struct, sys
from deepsentinel.audit import AuditEvent, Outcome, SQLiteAuditStore
path, counter, key, max_batch, max_pending = sys.argv[1], sys.argv[2], sys.argv[3].encode(), *map(int, sys.argv[4:6])
fd = os.open(counter, os.O_RDWR)
shared = mmap.mmap(fd, 8)
store = SQLiteAuditStore(path, key=key, max_batch=max_batch, max_pending=max_pending)
i = 0
while True:
    store.record(AuditEvent(Outcome.BLOCKED, "openai", "gpt-4o-mini", request_id=str(i)))
    i += 1
    struct.pack_into("<q", shared, 0, i)
"""


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_sigkill_mid_load_leaves_an_intact_verifiable_log(tmp_path: Path) -> None:
    """After a hard kill: integrity_check ok, verify() ok, events a gap-free prefix, loss within the window."""
    db, counter = tmp_path / "crash.sqlite3", tmp_path / "counter"
    counter.write_bytes(b"\x00" * 8)
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(db), str(counter), AUDIT_KEY.decode(), str(MAX_BATCH), str(MAX_PENDING)],
        env={**os.environ, "PYTHONPATH": SRC},
    )
    with open(counter, "r+b") as fh, mmap.mmap(fh.fileno(), 8) as shared:
        deadline = time.monotonic() + 10
        try:
            while struct.unpack_from("<q", shared, 0)[0] < 10_000 and time.monotonic() < deadline:
                assert child.poll() is None, "the writer process died on its own"
                time.sleep(0.01)
        finally:
            child.send_signal(signal.SIGKILL)
            child.wait(timeout=10)
        handed_over = struct.unpack_from("<q", shared, 0)[0]
    assert handed_over >= 10_000, "the child did not reach load before the deadline"

    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    ids = [int(r) for (r,) in conn.execute("SELECT request_id FROM audit_events ORDER BY seq")]
    conn.close()
    assert ids == list(range(len(ids))), "committed events must be a gap-free prefix of those recorded"
    lost = handed_over - len(ids)
    # +1: the kill may land between a record() and the counter update that follows it.
    assert -1 <= lost <= MAX_PENDING + MAX_BATCH, f"lost {lost} events, window is {MAX_PENDING + MAX_BATCH}"

    with AuditLog(db, key=AUDIT_KEY) as log:
        result = log.verify()
        assert result.ok and result.checked == len(ids), result
        log.store.record(make_event())  # the chain continues where the dead process left it
        assert log.verify().checked == len(ids) + 1


def test_a_store_reopened_after_the_kill_appends_to_the_same_chain(tmp_path: Path) -> None:
    """Reopening is ordinary: a second store on the file extends the chain the first one wrote."""
    path = tmp_path / "again.sqlite3"
    with SQLiteAuditStore(path, key=AUDIT_KEY) as first:
        first.record(make_event())
    with SQLiteAuditStore(path, key=AUDIT_KEY) as second:
        second.record(make_event())
        second.flush()
        assert second.verify().checked == 2
