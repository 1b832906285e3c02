"""Where a guarded call's added time goes: one part of the guard swapped for a stand-in, in the benchmark's setting.

    python benchmarks/client_ablation.py --swap scans --calls 1000
    python benchmarks/client_ablation.py --swap none          # the A/A: the same code on both sides

A diagnostic, not a figure of record (``bench_client.py`` is): three clients call the fake server (in its own
process, as in ``bench_client.py``) in a fresh random order every round, each with a fresh prompt and answer: the
raw ``openai.OpenAI``, ``SentinelClient``, and the same ``SentinelClient`` with ``--swap`` in place while it calls.
The swapped parts are switched on and off around that client's calls only, so both guarded sides share one engine,
one cache and one process. Each guarded call's audit write is waited for, untimed. It prints the p50 of what each
guarded side adds over the raw client, in wall time and in the calling thread's CPU time, and what the swap saves.
The stand-ins do less than the guard must: the swapped client is not a safe client.

Two swaps replace the whole guard, to show the floor under it: ``transport-floor`` only forwards the request and
buffers the answer; ``guard-floor`` also makes the two scans no guard can skip (the prompt, the answer), and
nothing else; ``least-floor`` makes each of those scans a bare pass of a one-literal Hyperscan database, which
finds nothing, so it is below what any guard built on Hyperscan could cost. What they add over the raw client is
what any transport, and any guard, would cost here.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def _swaps(client: Any) -> dict[str, list[tuple[Any, str, Any]]]:
    """Each swap: (owner, attribute, stand-in) triples."""
    import httpx2

    import deepsentinel.calls as calls
    import deepsentinel.wire.guard as guard
    from deepsentinel.detection.engine import DetectionEngine
    from deepsentinel.detection.findings import ScanResult
    from deepsentinel.detection.hyperscan_db import PREFILTER_FLAGS, compile_expressions
    from deepsentinel.wire.json_io import loads

    engine = client._sentinel.guard.engine
    one_literal = compile_expressions(["zqxjzqxj"], [0], [PREFILTER_FLAGS])

    def no_scan(self: Any, text: str, cached: bool = True, since: int = 0) -> Any:
        return ScanResult((), len(text), 0.0)

    def uncached(self: Any, text: str, cached: bool = True, since: int = 0) -> Any:
        return self._scan(text, since) if since else self._scan(text)

    def answer_unread(self: Any, text: str, location: Any, restore: Any = None) -> Any:
        return text, self._quiet_response

    def no_finish(self: Any, outcome: Any, error: Any = None) -> None:
        self._done = True

    transport = client._client._transport
    inner = transport.inner

    def engine_scan(text: str) -> None:
        engine.scan(text, cached=False)

    def bare_scan(text: str) -> None:
        one_literal.scan(text.encode("utf-8"), match_event_handler=_no_match)

    def floor(scan: Callable[[str], None] | None) -> Callable[[Any], Any]:
        """The transport as only a guard's floor: read the request, forward it, read the answer whole and
        hand it back; with ``scan``, also the two scans no guard can skip (each message text, the answer's text;
        uncached, as for a fresh text) and the two parses they need. The answer's parse is handed on to the SDK,
        as the guard's is. No policy, routing, deadline, audit record or error handling."""
        def handle_request(request: Any) -> Any:
            body = request.read()
            if scan is not None:
                for message in loads(body)["messages"]:
                    scan(message["content"])
            response = inner.handle_request(request)
            try:
                content = b"".join(response.stream)
            finally:
                response.stream.close()
            response.stream = httpx2.ByteStream(content)
            if scan is not None:
                parsed = loads(content)
                for choice in parsed["choices"]:
                    scan(choice["message"]["content"])
                response.json = _handed_on(parsed, content)
            return response
        return handle_request

    return {
        "none": [],
        "database": [(engine._prefilter, "_db", one_literal)],  # the database scanned over every text
        "scans": [(DetectionEngine, "scan", no_scan)],
        "scan-cache": [(DetectionEngine, "scan", uncached)],
        "answer-scan": [(guard.WireGuard, "check_text", answer_unread)],
        "audit-handoff": [(calls.CallRecord, "finish", no_finish)],
        # Not a part swapped but the whole guard: what is left is the floor any guard pays.
        "transport-floor": [(transport, "handle_request", floor(None))],
        "guard-floor": [(transport, "handle_request", floor(engine_scan))],
        # Below any real guard: each scan a bare Hyperscan pass of a one-literal database (no engine at all).
        "least-floor": [(transport, "handle_request", floor(bare_scan))],
    }


def _handed_on(parsed: Any, content: bytes) -> Callable[..., Any]:
    """A response's ``json()`` that hands the floor's parse on once, as the guard's does; later calls parse again."""
    import json

    left = [parsed]

    def json_(**kwargs: Any) -> Any:
        return left.pop() if left and not kwargs else json.loads(content, **kwargs)
    return json_


def _no_match(*_: Any) -> None:
    """A match handler for a database whose one literal never occurs."""


def _switch(swaps: list[tuple[Any, str, Any]]) -> tuple[Callable[[], None], Callable[[], None]]:
    originals = [(owner, name, getattr(owner, name)) for owner, name, _ in swaps]

    def on() -> None:
        for owner, name, value in swaps:
            setattr(owner, name, value)

    def off() -> None:
        for owner, name, value in originals:
            setattr(owner, name, value)

    return on, off


def main() -> None:
    import openai
    from bench_client import MODEL, Fresh, start_server, stop_server

    from deepsentinel import SentinelClient

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--swap", default="none", help="none, database, scans, scan-cache, answer-scan, audit-handoff, "
                        "transport-floor, guard-floor, least-floor")
    parser.add_argument("--calls", type=int, default=800)
    parser.add_argument("--chunks", type=int, default=200, help="words per answer, as in bench_client.py")
    args = parser.parse_args()
    server, base_url = start_server(3 * args.calls + 200, args.chunks)
    with tempfile.TemporaryDirectory() as audit_dir:
        raw = openai.OpenAI(api_key="bench", base_url=base_url)
        guarded = SentinelClient(openai_api_key="bench", base_url=base_url, audit=os.path.join(audit_dir, "a.db"))
        swaps = _swaps(guarded)
        if args.swap not in swaps:
            parser.error(f"--swap must be one of {', '.join(swaps)}")
        on, off = _switch(swaps[args.swap])
        fresh = Fresh(int(time.time()))
        wall: dict[str, list[float]] = {"raw": [], "guarded": [], "swapped": []}
        cpu: dict[str, list[float]] = {side: [] for side in wall}
        for round_ in range(args.calls + 50):
            for side in random.sample(list(wall), 3):
                (on if side == "swapped" else off)()
                prompt = fresh.prompt()
                started, started_cpu = time.perf_counter(), time.thread_time()
                (raw if side == "raw" else guarded).chat.completions.create(
                    model=MODEL, messages=[{"role": "user", "content": prompt}])
                elapsed, elapsed_cpu = time.perf_counter() - started, time.thread_time() - started_cpu
                off()
                if side != "raw":
                    guarded._sentinel.settle()
                if round_ >= 50:  # warm-up rounds left out
                    wall[side].append(elapsed)
                    cpu[side].append(elapsed_cpu)
        guarded.close()
    stop_server(server)
    for name, times in (("wall", wall), ("thread CPU", cpu)):
        p50 = {side: statistics.median(values) * 1e6 for side, values in times.items()}
        added, swapped = p50["guarded"] - p50["raw"], p50["swapped"] - p50["raw"]
        print(f"{name}: raw p50 {p50['raw']:.1f} µs; added {added:.1f} µs, with --swap {args.swap} {swapped:.1f} µs "
              f"(saves {added - swapped:.1f})")


if __name__ == "__main__":
    main()
