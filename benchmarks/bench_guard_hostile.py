"""Stream guard on hostile streams: long held tails (digit runs, groups, base64) fed a delta at a time.

    python benchmarks/bench_guard_hostile.py

Prose is the baseline measured in the same run. Reports the median and worst per-delta cost and the total.
"""

from __future__ import annotations

import statistics
import time

from deepsentinel.detection import default_engine
from deepsentinel.guard.stream_guard import StreamGuard
from deepsentinel.policy.policy import DEFAULT_POLICY

CASES = [
    ("prose (baseline)", "the quick brown fox jumps over the lazy dog. " * 130, 5),
    ("6 000 digits, 1 per delta", "1" * 6000, 1),
    ("'1 ' x 3 000, 5 per delta", "1 " * 3000, 5),
    ("'AB12 ' x 1 200, 5 per delta", "AB12 " * 1200, 5),
    ("10 KB base64, 5 per delta", "QUJD" * 2500, 5),
]


def main() -> None:
    engine = default_engine()
    print(f"{'stream':30}{'median/delta':>14}{'worst':>10}{'total':>10}")
    for name, text, size in CASES:
        guard = StreamGuard(engine, [DEFAULT_POLICY])
        costs = []
        for i in range(0, len(text), size):
            t = time.perf_counter()
            guard.feed(text[i : i + size])
            costs.append(time.perf_counter() - t)
        t = time.perf_counter()
        guard.flush()
        total = sum(costs) + time.perf_counter() - t
        print(f"{name:30}{statistics.median(costs) * 1e6:>11.1f} µs{max(costs) * 1e3:>7.2f} ms{total * 1e3:>7.1f} ms")


if __name__ == "__main__":
    main()
