"""What the wire guard costs a non-streamed call when the call around it has pushed it out of the CPU's caches.

    python benchmarks/guard_in_the_cold.py --calls 600

A diagnostic beside ``bench_client.py`` (the figure of record): it explains why the guard adds several times more
to a real call than its steps cost back to back. Between two checks, a call runs the SDK, httpx, the sockets and
the fake server: by the next check, the Hyperscan database, the hash state and most of our code are out of the
L1 and L2 caches, and on a shared machine out of L3 too. So each part is timed three ways, on a fresh text every
time (seeded, never repeated):

* ``warm``: back to back, as a micro-benchmark would;
* ``flushed L2``: after writing over 2 MB of memory (the L2 caches of this machine's cores hold 0.5-1 MB);
* ``flushed L3``: after writing over ``--flush-mb`` MB (default 48: more than a 32 MB L3).

Each row's ``empty`` line times a call of a function that does nothing, under the same flush: the floor of the
method itself, and its A/A. Medians and p99 in microseconds; the process's peak RSS at the end.
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

from bench_client import Fresh  # noqa: E402 - the same seeded, never-repeated texts as the figure of record

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
        arg = make()
        if flush is not None:
            flush[::64] = b"\x01" * (len(flush) // 64)  # one write per cache line
        started = time.perf_counter_ns()
        part(arg)
        out.append((time.perf_counter_ns() - started) / 1000)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=600, help="timed calls per part and mode")
    parser.add_argument("--flush-mb", type=int, default=48, help="memory written between calls for the L3 mode")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

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
        # Modes alternate per part, so drift on a shared machine hits all three alike.
        for name, (part, make) in parts.items():
            for _ in range(3):
                for mode, mb in modes:
                    flush = bytearray(mb << 20) if mb else None
                    rows[name].setdefault(mode, []).extend(_time(part, make, flush, args.calls // 3))
        client.close()

    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}; "
          f"{args.calls} calls per part and mode, fresh text each\n")
    print("| part | " + " | ".join(f"{mode} p50 / p99 (µs)" for mode, _ in modes) + " | L3 / warm (p50) |")
    print("|---|" + "---|" * (len(modes) + 1))
    for name, by_mode in rows.items():
        cells = []
        for mode, _ in modes:
            values = by_mode[mode]
            cells.append(f"{statistics.median(values):.1f} / {statistics.quantiles(values, n=100)[98]:.1f}")
        warm, cold = statistics.median(by_mode[modes[0][0]]), statistics.median(by_mode[modes[-1][0]])
        print(f"| {name} | " + " | ".join(cells) + f" | {cold / warm:.1f}x |")
    print(f"\nPeak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
