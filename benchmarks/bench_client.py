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

from deepsentinel import CompliancePolicy, SentinelClient
from deepsentinel.testing import FakeLLMServer, Reply

PROMPT_TEXT = "Summarise the benefits of unit tests in three sentences. " * 8
_counter = iter(range(10**9))


def prompt() -> list[dict[str, str]]:
    """A new prompt every call, so the per-message scan cache never hides the cost of checking it."""
    return [{"role": "user", "content": f"{PROMPT_TEXT} (request {next(_counter)})"}]


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
        # The same client with checking switched off: the difference to `ours` is the compliance work itself.
        unchecked = SentinelClient(
            openai_api_key="bench", base_url=server.openai_base_url, audit=False,
            compliance_policies=[CompliancePolicy(name="off", check_requests=False, check_responses=False)],
        )

        def call(client: object, stream: bool) -> Callable[[], object]:
            def run() -> object:
                r = client.chat.completions.create(model="gpt-4o", messages=prompt(), stream=stream)  # type: ignore[attr-defined]
                if stream:
                    for _ in r:
                        pass
                return r
            return run

        def ttft(client: object) -> Callable[[], object]:
            def run() -> object:
                s = client.chat.completions.create(model="gpt-4o", messages=prompt(), stream=True)  # type: ignore[attr-defined]
                next(iter(s))
                s.close()
                return s
            return run

        rows = []
        for label, make in (("non-streamed call", lambda c: call(c, False)), ("time to first chunk", ttft),
                            ("whole stream", lambda c: call(c, True))):
            for c in (raw, ours, unchecked):  # warm up pools
                timed(make(c), 20)
            # Interleave the clients so machine noise hits all alike.
            a: list[float] = []
            b: list[float] = []
            u: list[float] = []
            for _ in range(5):
                a += timed(make(raw), args.calls // 5)
                b += timed(make(ours), args.calls // 5)
                u += timed(make(unchecked), args.calls // 5)
            rows.append((label, a, b, u))
        for c in (raw, ours, unchecked):
            c.close()

    print(f"calls={args.calls} chunks/stream={args.chunks}  (milliseconds; median / p99)")
    print(f"{'':22}{'raw openai SDK':>20}{'DeepSentinel':>20}{'  ratio':>8}{'checks off':>20}{'compliance cost':>17}")
    for label, a, b, u in rows:
        ma, mb, mu = statistics.median(a), statistics.median(b), statistics.median(u)
        print(f"{label:22}{ma:>10.3f} / {p(a, .99):<7.3f}{mb:>10.3f} / {p(b, .99):<7.3f}{mb / ma:>7.2f}x"
              f"{mu:>10.3f} / {p(u, .99):<7.3f}{mb - mu:>15.3f}")


if __name__ == "__main__":
    main()
