"""What the wire guard costs a non-streamed call when the call around it has pushed it out of the CPU's caches.

    python benchmarks/guard_in_the_cold.py --calls 600

A diagnostic beside ``bench_client.py`` (the figure of record): it explains why the guard adds several times more
to a real call than its steps cost back to back. Between two checks, a call runs the SDK, httpx, the sockets and
the fake server: by the next check, the Hyperscan database, the hash state and most of our code are out of the
L1 and L2 caches, and on a shared machine out of L3 too. So each part is timed three ways, on a fresh text every
time (seeded, never repeated), made just before it is timed (as the SDK makes a body just before it is sent):

* ``warm``: back to back, as a micro-benchmark would;
* ``flushed L2``: after reading 2 MB of other memory (the L2 caches of this machine's cores hold 0.5-1 MB);
* ``flushed L3``: after reading ``--flush-mb`` MB (default 48: more than a 32 MB L3).

The ``empty`` row times a call of a function that does nothing, under the same flush: the floor of the method
itself. The last column is (part - empty) flushed over (part - empty) warm, at the median. Medians and p99 in
microseconds (with fewer than 100 calls the p99 is about the largest); peak RSS at the end, which includes the
flush buffer.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_client import Fresh, pct  # noqa: E402 - the figure of record's fresh texts and percentiles

MODES = (("warm", 0), ("flushed L2", 2))


def _parts(guard: Any, fresh: Fresh) -> dict[str, tuple[Callable[[Any], Any], Callable[[], Any]]]:
    """Each part: (what is timed, how its fresh input is made)."""
    engine = guard.engine
    check = guard.check_request("/v1/chat/completions", _request(fresh.prompt()))

    def answer() -> bytes:
        return json.dumps({
            "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "gpt-4o-mini",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "".join(fresh.answer(200))},
                         "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 60, "completion_tokens": 200, "total_tokens": 260},
        }).encode()

    return {
        "empty": (lambda _: None, fresh.prompt),
        "scan-cache key of a prompt": (engine._cache.key, fresh.prompt),
        "scan of a prompt (uncached)": (lambda text: engine.scan(text, cached=False), fresh.prompt),
        "scan of a prompt (cache missed, result stored)": (engine.scan, fresh.prompt),
        "scan of an answer (uncached)": (lambda text: engine.scan(text, cached=False),
                                         lambda: "".join(fresh.answer(200))),
        "check_request (chat body)": (lambda body: guard.check_request("/v1/chat/completions", body),
                                      lambda: _request(fresh.prompt())),
        "check_response (chat answer)": (lambda body: guard.check_response(check, body), answer),
    }


def _request(prompt: str) -> bytes:
    return json.dumps({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": prompt}]}).encode()


def _time(part: Callable[[Any], Any], make: Callable[[], Any], flush: bytearray | None, calls: int) -> list[float]:
    out: list[float] = []
    for _ in range(calls):
        if flush is not None:
            flush.find(1)  # reads every byte (all zero) and writes none: no dirty lines left to write back
        arg = make()
        started = time.perf_counter_ns()
        part(arg)
        out.append((time.perf_counter_ns() - started) / 1000)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=600, help="timed calls per part and mode (at least 3)")
    parser.add_argument("--flush-mb", type=int, default=48, help="memory read between calls for the L3 mode")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if args.calls < 3 or args.flush_mb < 1:
        parser.error("--calls must be at least 3 and --flush-mb at least 1")

    from deepsentinel import SentinelClient

    with tempfile.TemporaryDirectory(prefix="guard-cold-") as audit_dir:
        client = SentinelClient(openai_api_key="bench", base_url="http://127.0.0.1:9/v1",
                                audit=os.path.join(audit_dir, "a.db"))
        guard = client._sentinel.guard
        fresh = Fresh(args.seed)
        parts = _parts(guard, fresh)
        for part, make in parts.values():  # imports and first-use costs out of the way
            for _ in range(20):
                part(make())
        modes = [*MODES, (f"flushed L3 ({args.flush_mb} MB)", args.flush_mb)]
        rows: dict[str, dict[str, list[float]]] = {name: {} for name in parts}
        flushes = {mode: bytearray(mb << 20) if mb else None for mode, mb in modes}
        # Modes alternate within each part, in three rounds, so drift on a shared machine hits all three alike.
        for name, (part, make) in parts.items():
            for round_ in range(3):
                calls = args.calls // 3 + (round_ < args.calls % 3)
                for mode, _ in modes:
                    rows[name].setdefault(mode, []).extend(_time(part, make, flushes[mode], calls))
        client.close()

    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}; "
          f"{args.calls} calls per part and mode, fresh text each\n")
    print("| part | " + " | ".join(f"{mode} p50 / p99 (µs)" for mode, _ in modes) + " | L3 / warm, less empty |")
    print("|---|" + "---|" * (len(modes) + 1))
    warm_mode, cold_mode = modes[0][0], modes[-1][0]
    floor = {mode: statistics.median(rows["empty"][mode]) for mode in (warm_mode, cold_mode)}
    for name, by_mode in rows.items():
        cells = []
        for mode, _ in modes:
            values = by_mode[mode]
            cells.append(f"{statistics.median(values):.1f} / {pct(values, 99):.1f}")
        warm = statistics.median(by_mode[warm_mode]) - floor[warm_mode]
        cold = statistics.median(by_mode[cold_mode]) - floor[cold_mode]
        ratio = f"{cold / warm:.1f}x" if name != "empty" and warm > 0 else ""
        print(f"| {name} | " + " | ".join(cells) + f" | {ratio} |")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\nPeak RSS: {rss:.0f} MB, of which {(args.flush_mb + 2)} MB are the flush buffers")


if __name__ == "__main__":
    main()
