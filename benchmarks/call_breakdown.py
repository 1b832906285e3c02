"""Where the CPU a guarded plain call adds goes, piece by piece, in the benchmark's setting.

    python benchmarks/call_breakdown.py --calls 600

A diagnostic beside ``bench_client.py`` (the figure of record) and ``client_ablation.py`` (which swaps a part out):
the raw ``openai.OpenAI`` and ``SentinelClient`` call ``bench_client.py``'s server (in its own process) in a fresh
random order every round, each with a fresh prompt and answer. Around each of the guard's pieces on a plain call's
path sits a timer of the calling thread's CPU time; the pieces nest (the prompt's check is part of opening the
exchange), so the table shows each one inclusive, with its parent. It prints each piece's p50 per guarded call, the
raw call's p50 CPU, and what 5% of it (the issue's non-streamed target) leaves for the whole guard.

Each timer costs about 1.2 µs (two reads of the thread's CPU clock), and the timers stack: a parent's figure holds
its children's timers (about 6 µs in opening the exchange, 15 µs in the pieces together), and the guarded call's
total holds them all. The audit writer thread's CPU (``bench_client.py`` counts it) is not in any piece: these
figures are the calling thread's, so they understate the guard's cost, never overstate it.
"""

from __future__ import annotations

import argparse
import functools
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

#: (label, depth, module, qualified name): the guard's pieces on a plain chat call, in the order they run.
PIECES = (
    ("open the exchange: check the prompt, route, record", 0, "deepsentinel.wire.exchange", "Exchange.open"),
    ("check the request body", 1, "deepsentinel.wire.guard", "WireGuard.check_request"),
    ("its texts found in the body", 2, "deepsentinel.wire.codec", "Codec.request_texts"),
    ("its texts scanned and decided", 2, "deepsentinel.wire.guard", "WireGuard._evaluate_texts"),
    ("route to the targets", 1, "deepsentinel.wire.exchange", "_route"),
    ("the deadline", 0, "deepsentinel.transport", "_deadline"),
    ("the outgoing request", 0, "deepsentinel.transport", "_outgoing"),
    ("choose the answer's filter", 0, "deepsentinel.wire.exchange", "Exchange.body_for"),
    ("hand back the answer", 0, "deepsentinel.response_bodies", "WholeBody.answer"),
    ("check the answer", 1, "deepsentinel.wire.guard", "WireGuard.check_response"),
    ("end the call's record (to the writer thread)", 1, "deepsentinel.calls", "CallRecord.finish"),
    ("both scans (prompt and answer)", 0, "deepsentinel.detection.engine", "DetectionEngine.scan"),
)
TOP = ("Exchange.open", "_deadline", "_outgoing", "Exchange.body_for", "WholeBody.answer")


def _timed(spent: dict[str, int], name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(function)
    def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.thread_time_ns()
        try:
            return function(*args, **kwargs)
        finally:
            spent[name] = spent.get(name, 0) + time.thread_time_ns() - started
    return timed


def _install(spent: dict[str, int]) -> None:
    import importlib

    for _, _, module, qualified in PIECES:
        owner: Any = importlib.import_module(module)
        *path, name = qualified.split(".")
        for part in path:
            owner = getattr(owner, part)
        setattr(owner, name, _timed(spent, qualified, getattr(owner, name)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=600)
    parser.add_argument("--chunks", type=int, default=200, help="words per answer, as in bench_client.py")
    args = parser.parse_args()

    import openai
    from bench_client import MODEL, Fresh, start_server, stop_server

    from deepsentinel import SentinelClient

    spent: dict[str, int] = {}
    _install(spent)
    server, base_url = start_server(2 * args.calls + 100, args.chunks)
    pieces: dict[str, list[float]] = {qualified: [] for *_, qualified in PIECES}
    cpu: dict[str, list[float]] = {"raw": [], "guarded": []}
    with tempfile.TemporaryDirectory() as audit_dir:
        raw = openai.OpenAI(api_key="bench", base_url=base_url)
        guarded = SentinelClient(openai_api_key="bench", base_url=base_url, audit=os.path.join(audit_dir, "a.db"))
        fresh = Fresh(int(time.time()))
        for round_ in range(args.calls + 50):
            for side in random.sample(list(cpu), 2):
                spent.clear()
                prompt = fresh.prompt()
                started = time.thread_time_ns()
                (raw if side == "raw" else guarded).chat.completions.create(
                    model=MODEL, messages=[{"role": "user", "content": prompt}])
                elapsed = time.thread_time_ns() - started
                if side == "guarded":
                    guarded._sentinel.settle()  # the audit write, untimed, before the next call
                if round_ < 50:  # warm-up rounds left out
                    continue
                cpu[side].append(elapsed / 1e3)
                if side == "guarded":
                    for name, values in pieces.items():
                        values.append(spent.get(name, 0) / 1e3)
        guarded.close()
    stop_server(server)
    raw_p50, guarded_p50 = statistics.median(cpu["raw"]), statistics.median(cpu["guarded"])
    guard = [sum(values) for values in zip(*(pieces[name] for name in TOP), strict=True)]
    print(f"{args.calls} calls each; CPU of the calling thread, p50 per call (µs)\n")
    print("| piece | p50 (µs) |\n|---|---|")
    for label, depth, _, qualified in PIECES:
        print(f"| {'&nbsp;&nbsp;' * depth}{label} (`{qualified}`) | {statistics.median(pieces[qualified]):.1f} |")
    print(f"| **the guard's pieces together** | **{statistics.median(guard):.1f}** |")
    print(f"\nraw call {raw_p50:.0f} µs, guarded call {guarded_p50:.0f} µs: {guarded_p50 - raw_p50:+.0f} µs "
          f"({guarded_p50 / raw_p50:.2f}x); 5% of the raw call is {0.05 * raw_p50:.0f} µs")


if __name__ == "__main__":
    main()
