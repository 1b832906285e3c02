"""Threads run with the interpreter switching between them every few bytecodes, so races show in tests."""

from __future__ import annotations

import sys
import threading


def run_switching_often(threads: list[threading.Thread]) -> None:
    """Start ``threads`` and wait for them, the switch interval at a microsecond meanwhile (then restored)."""
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(previous)
