"""The wire guard on a streamed answer, per event, in process: what a burst of events costs to guard.

    python benchmarks/bench_events.py                      # bursts of 64 and 1, 300 streams each
    python benchmarks/bench_events.py --bursts 64 --streams 600

Each row runs in its own cold process (``--child``) on streams generated from a seed no other row uses: chat
completion chunks as the fake server writes them, 200 word-sized content deltas, a fresh answer per stream and a
fresh prompt per call, fed to the guard's ``EventBody`` in bursts of ``--bursts`` events (as the SDK transports'
reader and the gateway hand them over). Rows:

* ``guard``: ``Exchange.open`` then ``EventBody.feed`` on every burst and ``end()`` (default policy, no audit);
  the time counted is the body's, per event;
* ``guard (A/A)``: the same on other fresh streams, so the noise between two identical rows is visible;
* ``decode + encode``: the baseline, what any proxy that reads events does: ``SSEDecoder.feed`` and each
  event's bytes joined back.

Reported: p50 and p99 over streams of the time per event, the ratio of p50s to the baseline, and each
process's peak RSS. The first 10 streams of a row are not counted (the guard's first calls import and compile).
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from typing import Any

from bench_client import Fresh

ROWS = ("guard", "guard (A/A)", "decode + encode")
WARMUP = 10
URL = "http://127.0.0.1:9/v1/chat/completions"


def streams(seed: int, count: int, burst: int) -> tuple[list[list[bytes]], list[str]]:
    """``count`` fresh 200-delta chat streams, as bursts of ``burst`` events, and a fresh prompt for each."""
    from deepsentinel.testing import Reply
    from deepsentinel.testing.openai_wire import stream_events
    from deepsentinel.testing.wire import CallFacts

    fresh = Fresh(seed)
    out = []
    for n in range(count):
        facts = CallFacts(model="gpt-4o-mini", prompt_tokens=10, request_number=n, created=1_700_000_000)
        events = [e.encode() for e in stream_events(Reply(chunks=fresh.answer(200)), facts)]
        out.append([b"".join(events[i:i + burst]) for i in range(0, len(events), burst)])
    return out, [fresh.prompt() for _ in range(count)]


def child(row: str, seed: int, count: int, burst: int) -> None:
    data, prompts = streams(seed, count + WARMUP, burst)
    per_event: list[float] = []
    if row == "decode + encode":
        from deepsentinel.wire.sse import SSEDecoder

        for n, stream in enumerate(data):
            decoder, events = SSEDecoder(), 0
            started = time.perf_counter()
            for chunk in stream:
                decoded = decoder.feed(chunk)
                b"".join(e.encode() for e in decoded)
                events += len(decoded)
            if n >= WARMUP:
                per_event.append((time.perf_counter() - started) * 1e6 / events)
    else:
        from deepsentinel.sentinel import Sentinel
        from deepsentinel.wire.exchange import Exchange

        sentinel = Sentinel(audit=False)
        headers = {"content-type": "application/json", "authorization": "Bearer bench"}
        for n, (stream, prompt) in enumerate(zip(data, prompts, strict=True)):
            body = json.dumps({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": prompt}],
                               "stream": True}).encode()
            exchange = Exchange.open(sentinel, "POST", URL, "/v1/chat/completions", headers, body)
            filt: Any = exchange.body_for(200, [(b"content-type", b"text/event-stream")])
            started = time.perf_counter()
            for chunk in stream:
                filt.feed(chunk)
            filt.end()
            elapsed = time.perf_counter() - started
            filt.close(None)
            if n >= WARMUP:
                per_event.append(elapsed * 1e6 / filt.events.events)
    print(json.dumps({"per_event": per_event, "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


def pct(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bursts", default="64,1", help="events per burst, comma-separated (one table row set each)")
    ap.add_argument("--streams", type=int, default=300, help="measured streams per row")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--burst", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child is not None:
        child(args.child, args.seed, args.streams, args.burst)
        return
    print(f"python {sys.version.split()[0]}; {args.streams} measured streams of 201 events per row, fresh text each\n")
    print("| burst | row | per event p50 (µs) | p99 (µs) | p50 / baseline | peak RSS (MB) |")
    print("|---|---|---|---|---|---|")
    for b, burst in enumerate(int(x) for x in args.bursts.split(",")):
        results = {}
        for r, row in enumerate(ROWS):
            seed = args.seed * 1000 + b * 10 + r  # no two rows share a text
            out = subprocess.run([sys.executable, __file__, "--child", row, "--seed", str(seed), "--streams",
                                  str(args.streams), "--burst", str(burst)], check=True, capture_output=True, text=True)
            results[row] = json.loads(out.stdout.strip().splitlines()[-1])
        base = statistics.median(results["decode + encode"]["per_event"])
        for row in ROWS:
            values = results[row]["per_event"]
            p50 = statistics.median(values)
            print(f"| {burst} | {row} | {p50:.2f} | {pct(values, 99):.2f} | {p50 / base:.1f}x | "
                  f"{results[row]['rss_mb']:.0f} |")


if __name__ == "__main__":
    main()
