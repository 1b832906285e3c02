"""What DeepSentinel adds to a call: SentinelClient against the raw openai client, same fake server, same run.

    python benchmarks/bench_client.py [--calls 300] [--chunks 60]

Reports medians and p99 of whole non-streamed calls, streamed time-to-first-token and whole streams, for both
clients, and the ratio. Both talk to the bundled fake server over loopback with keep-alive, so the figures
are dominated by local work: they are an upper bound of the overhead a real provider's latency would hide.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import openai

from deepsentinel import SentinelClient
from deepsentinel.testing import FakeLLMServer, Reply

PROMPT = [{"role": "user", "content": "Summarise the benefits of unit tests in three sentences. " * 8}]


def timed(fn: Callable[[], object], n: int) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1e3)
    return out


def p(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=300)
    ap.add_argument("--chunks", type=int, default=60)
    args = ap.parse_args()
    words = [f"word{i % 7} " for i in range(args.chunks)]
    with FakeLLMServer() as server:
        server.add_rule("unit tests", Reply(chunks=[w.replace("0", "o") for w in words]))
        raw = openai.OpenAI(api_key="bench", base_url=server.openai_base_url, max_retries=0)
        ours = SentinelClient(openai_api_key="bench", base_url=server.openai_base_url, audit=False)

        def call(client: object, stream: bool) -> Callable[[], object]:
            def run() -> object:
                r = client.chat.completions.create(model="gpt-4o", messages=PROMPT, stream=stream)  # type: ignore[attr-defined]
                if stream:
                    for _ in r:
                        pass
                return r
            return run

        def ttft(client: object) -> Callable[[], object]:
            def run() -> object:
                s = client.chat.completions.create(model="gpt-4o", messages=PROMPT, stream=True)  # type: ignore[attr-defined]
                next(iter(s))
                s.close()
                return s
            return run

        rows = []
        for label, make in (("non-streamed call", lambda c: call(c, False)), ("time to first chunk", ttft),
                            ("whole stream", lambda c: call(c, True))):
            for c in (raw, ours):  # warm up pools and caches
                timed(make(c), 20)
            # Interleave the two clients so machine noise hits both alike.
            a: list[float] = []
            b: list[float] = []
            for _ in range(5):
                a += timed(make(raw), args.calls // 5)
                b += timed(make(ours), args.calls // 5)
            rows.append((label, a, b))
        raw.close()
        ours.close()

    print(f"calls={args.calls} chunks/stream={args.chunks}  (milliseconds; median / p99)")
    print(f"{'':22}{'raw openai':>22}{'DeepSentinel':>22}{'added (median)':>18}{'ratio':>8}")
    for label, a, b in rows:
        ma, mb = statistics.median(a), statistics.median(b)
        print(f"{label:22}{ma:>12.3f} / {p(a, .99):<7.3f}{mb:>12.3f} / {p(b, .99):<7.3f}{mb - ma:>16.3f}  {mb / ma:>6.2f}x")


if __name__ == "__main__":
    main()
