"""What DeepSentinel adds to a call: SentinelClient and protect() against the raw openai client, same run.

    python benchmarks/bench_client.py --calls 300 --chunks 200

One command, three kinds of process:

* the fake server runs in its own process (``--serve``), so its work never shares a GIL with the clients; it
  queues one scripted answer per request, each a fresh seeded text of ``--chunks`` content deltas;
* one cold process per client kind (``--cold KIND``) times the import, the first non-streamed call and the
  first streamed call, and reports its own peak RSS;
* this process then measures the steady state: four clients (raw ``openai.OpenAI``, a second raw one for
  the A/A row, ``SentinelClient``, ``protect(openai.OpenAI(...))``) call in turn, one call each per round
  in a fresh random order every round, so machine noise hits them alike. The non-streamed calls run in a
  phase of their own, then the streamed ones: a stream between two plain calls would leave the guard warm.
  Every prompt is a fresh seeded text and every answer is checked to arrive exactly as scripted. After each
  guarded call the client's audit write is waited for, untimed (so it never runs during another client's
  call), and its CPU is added to that call's CPU row.

Our clients run with their default policy and the default SQLite audit store (in a temporary directory).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

_T0 = time.perf_counter()  # before the heavy imports: a cold process reports its import time from here

# Plain words that no detector reads as a name, a number or a secret; sentences drawn from them never repeat.
_WORD_TEXT = (
    "river mountain garden window paper yellow gentle quick slow bright quiet narrow wide forest ocean cloud "
    "table chair lamp story music simple careful honest early late morning evening summer winter autumn spring "
    "kitchen bridge market village castle harbor meadow valley island desert canyon lantern compass ladder "
    "basket pencil button mirror candle blanket pillow carpet curtain ribbon marble copper silver wooden "
    "stone glass cotton woolen silent busy sleepy hungry clever patient curious eager friendly polite "
    "walk read build paint carry follow gather borrow deliver explore measure notice prepare remember "
    "travel whisper wander arrange compare describe imagine improve observe organize practice protect "
    "recommend review suggest summarize translate understand weather season journey lesson habit method "
    "pattern reason result detail example feature fashion harvest balance comfort courage freedom"
)
WORDS = _WORD_TEXT.split()
MODEL = "gpt-4o-mini"
T = TypeVar("T", str, list[str])
KINDS = ("raw", "raw-2", "sentinel", "protect")
LABELS = {
    "raw": "raw `openai.OpenAI`",
    "raw-2": "raw `openai.OpenAI` #2 (A/A)",
    "sentinel": "`SentinelClient`",
    "protect": "`protect(openai.OpenAI())`",
}


class Fresh:
    """Seeded texts that are never repeated within one run (a collision is simply drawn again)."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.seen: set[str] = set()

    def sentence(self) -> str:
        words = self.rng.choices(WORDS, k=self.rng.randint(6, 14))
        return " ".join(words).capitalize() + self.rng.choice((".", ".", ".", "?", "!"))

    def unique(self, make: Callable[[], T]) -> T:
        while True:
            item = make()
            key = "".join(item) if isinstance(item, list) else item
            if key not in self.seen:
                self.seen.add(key)
                return item

    def prompt(self) -> str:
        """About 60 words in 3-6 sentences."""
        return self.unique(lambda: " ".join(self.sentence() for _ in range(self.rng.randint(3, 6))))

    def answer(self, chunks: int) -> list[str]:
        """``chunks`` word-sized deltas, as a model streams them."""
        def make() -> list[str]:
            words: list[str] = []
            while len(words) < chunks:
                words += self.sentence().split()
            return [w if i == 0 else " " + w for i, w in enumerate(words[:chunks])]
        return self.unique(make)


def answers(seed: int, chunks: int) -> Iterator[list[str]]:
    """The scripted answers in the order the server hands them out (server and checker share the seed)."""
    fresh = Fresh(seed + 1)
    while True:
        yield fresh.answer(chunks)


def make_client(kind: str, base_url: str, audit_dir: str) -> Any:
    import openai

    if kind in ("raw", "raw-2"):
        return openai.OpenAI(api_key="bench", base_url=base_url)
    if kind == "sentinel":
        from deepsentinel import SentinelClient

        return SentinelClient(openai_api_key="bench", base_url=base_url, audit=os.path.join(audit_dir, f"{kind}.db"))
    from deepsentinel import protect

    return protect(openai.OpenAI(api_key="bench", base_url=base_url), audit=os.path.join(audit_dir, f"{kind}.db"))


@dataclass
class Timings:
    """Milliseconds per call, per measure."""

    call: list[float] = field(default_factory=list)
    ttfc: list[float] = field(default_factory=list)
    stream: list[float] = field(default_factory=list)
    per_chunk: list[float] = field(default_factory=list)  # microseconds
    call_cpu: list[float] = field(default_factory=list)
    chunk_cpu: list[float] = field(default_factory=list)  # microseconds


def call_once(client: Any, prompt: str) -> tuple[float, float, str]:
    """Wall and CPU milliseconds of one non-streamed call, and its text."""
    c0, t0 = time.process_time(), time.perf_counter()
    r = client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": prompt}])
    elapsed, cpu = (time.perf_counter() - t0) * 1e3, (time.process_time() - c0) * 1e3
    return elapsed, cpu, r.choices[0].message.content or ""


def stream_once(client: Any, prompt: str, chunks: int) -> tuple[float, float, float, float, str]:
    """Time to the first chunk carrying text, the whole stream, (whole - first) per remaining upstream delta and
    the process's CPU time per upstream delta (microseconds), and the text."""
    text: list[str] = []
    first = 0.0
    c0, t0 = time.process_time(), time.perf_counter()
    with client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": prompt}], stream=True) as s:
        for chunk in s:
            piece = chunk.choices[0].delta.content if chunk.choices else None
            if piece:
                if not text:
                    first = time.perf_counter()
                text.append(piece)
    end, cpu = time.perf_counter(), (time.process_time() - c0) * 1e6 / chunks
    per_chunk = (end - first) * 1e6 / max(1, chunks - 1)
    return (first - t0) * 1e3, (end - t0) * 1e3, per_chunk, cpu, "".join(text)


def settle(client: Any) -> float:
    """Wait, untimed, until a guarded client's audit event of the call just made is written; its CPU (ms).

    The writer thread runs after the call returns: left alone, its work would land on whichever client calls
    next (often the raw one), hiding our cost in the baseline. Its CPU is ours, so the CPU rows count it.
    """
    if not hasattr(client, "audit"):
        return 0.0
    c0 = time.process_time()
    client.audit  # noqa: B018 - the property flushes the store
    return (time.process_time() - c0) * 1e3


# -- the child processes ---------------------------------------------------------------------------------------


def serve(seed: int, chunks: int, count: int) -> None:
    """Serve ``count`` fresh answers until stdin closes, then say how many were left unused."""
    from deepsentinel.testing import FakeLLMServer, Reply

    source = answers(seed, chunks)
    with FakeLLMServer() as server:
        server.enqueue(*(Reply(chunks=next(source)) for _ in range(count)))
        print(server.openai_base_url, flush=True)
        sys.stdin.read()
        print(json.dumps({"unused": server.pending_replies, "requests": len(server.requests)}), flush=True)


def start_server(count: int, chunks: int, seed: int = 1) -> tuple[subprocess.Popen[str], str]:
    """``serve`` in a process of its own (so its work never shares a GIL with the clients), and its base URL. Close
    its stdin to stop it; it then prints how many answers were left unused."""
    server = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--seed", str(seed), "--chunks", str(chunks),
                               "--serve", str(count)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert server.stdout is not None and server.stdin is not None
    return server, server.stdout.readline().strip()


def stop_server(server: subprocess.Popen[str]) -> str:
    """Stop a server ``start_server`` started; what it printed after its base URL."""
    assert server.stdout is not None and server.stdin is not None
    server.stdin.close()
    out = server.stdout.read()
    server.wait()
    return out


def cold(kind: str, base_url: str, seed: int, chunks: int, audit_dir: str) -> None:
    """First calls in a fresh interpreter: import, construct, one non-streamed call, one streamed call."""
    import openai  # noqa: F401 - the import is what is timed

    if kind != "raw":
        import deepsentinel  # noqa: F401
    imported = time.perf_counter()
    client = make_client(kind, base_url, audit_dir)
    built = time.perf_counter()
    fresh = Fresh(seed + 1000 + KINDS.index(kind))
    first_call, _, _ = call_once(client, fresh.prompt())
    ttfc, whole, _, _, _ = stream_once(client, fresh.prompt(), chunks)
    client.close()
    print(json.dumps({
        "import_ms": (imported - _T0) * 1e3, "construct_ms": (built - imported) * 1e3, "first_call_ms": first_call,
        "first_ttfc_ms": ttfc, "first_stream_ms": whole,
        "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }))


# -- the parent ------------------------------------------------------------------------------------------------


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1] if len(values) > 1 else values[0]


def run(args: argparse.Namespace) -> None:
    cold_kinds = ("raw", "sentinel", "protect")
    per_client = args.warmup + args.calls
    count = len(cold_kinds) * 2 + len(KINDS) * per_client * 2 + 10
    me = [sys.executable, os.path.abspath(__file__), "--seed", str(args.seed), "--chunks", str(args.chunks)]
    server, base_url = start_server(count, args.chunks, args.seed)
    expected = answers(args.seed, args.chunks)
    with tempfile.TemporaryDirectory(prefix="bench-client-") as audit_dir:
        colds: dict[str, dict[str, float]] = {}
        for kind in cold_kinds:
            out = subprocess.run([*me, "--cold", kind, "--base-url", base_url, "--audit-dir", audit_dir],
                                 check=True, capture_output=True, text=True).stdout
            colds[kind] = json.loads(out.strip().splitlines()[-1])
            next(expected), next(expected)

        fresh = Fresh(args.seed)
        clients = {kind: make_client(kind, base_url, audit_dir) for kind in KINDS}
        times = {kind: Timings() for kind in KINDS}
        wrong = dict.fromkeys(KINDS, 0)
        # A fresh random order every round: a fixed rotation would give each client the same predecessor (and
        # so the same share of its garbage and cache misses) every time.
        shuffle = random.Random(args.seed + 2)
        started = time.perf_counter()
        # Non-streamed calls first, in a phase of their own: a stream between two calls runs the guard's code 200
        # times over and leaves it in the CPU's caches, which flattered this row by half (see docs/performance.md,
        # "Stop 28"). An application making plain calls gets no such help.
        for rnd in range(per_client):
            order = list(KINDS)
            shuffle.shuffle(order)
            for kind in order:
                ms, cpu, text = call_once(clients[kind], fresh.prompt())
                cpu += settle(clients[kind])
                wrong[kind] += text != "".join(next(expected))
                if rnd >= args.warmup:
                    times[kind].call.append(ms)
                    times[kind].call_cpu.append(cpu)
        for rnd in range(per_client):
            order = list(KINDS)
            shuffle.shuffle(order)
            for kind in order:
                ttfc, whole, per_chunk, cpu, text = stream_once(clients[kind], fresh.prompt(), args.chunks)
                cpu += settle(clients[kind]) * 1e3 / args.chunks
                wrong[kind] += text != "".join(next(expected))
                if rnd >= args.warmup:
                    times[kind].ttfc.append(ttfc)
                    times[kind].stream.append(whole)
                    times[kind].per_chunk.append(per_chunk)
                    times[kind].chunk_cpu.append(cpu)
        wall = time.perf_counter() - started
        for client in clients.values():
            client.close()
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    served = json.loads(stop_server(server).strip().splitlines()[-1])
    report(args, colds, times, wrong, rss, wall, served)


def report(args: argparse.Namespace, colds: dict[str, dict[str, float]], times: dict[str, Timings],
           wrong: dict[str, int], rss: float, wall: float, served: dict[str, int]) -> None:
    load = os.getloadavg()[0]
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average {load:.1f}; calls={args.calls} "
          f"per client and measure (after {args.warmup} warm-up), chunks={args.chunks}, seed={args.seed}, "
          f"{wall:.0f} s")
    print(f"answers not as scripted: {wrong}; server: {served['requests']} requests, {served['unused']} answers unused")
    print("\nSteady state, one process, interleaved. p50 / p99; ratio = p50 / p50 of raw (p99 / p99 in brackets)\n")
    measures = (("Non-streamed call (ms)", "call"), ("Streamed: time to first text chunk (ms)", "ttfc"),
                (f"Streamed: whole {args.chunks}-chunk stream (ms)", "stream"), ("Streamed: per chunk (µs)", "per_chunk"),
                ("Non-streamed call, CPU of this process (ms)", "call_cpu"),
                ("Streamed, CPU of this process per chunk (µs)", "chunk_cpu"))
    print("| " + " | ".join(["Measure", *(LABELS[k] for k in KINDS)]) + " |")
    print("|---" * (len(KINDS) + 1) + "|")
    for title, name in measures:
        base = getattr(times["raw"], name)
        cells = []
        for kind in KINDS:
            v = getattr(times[kind], name)
            cell = f"{statistics.median(v):.3f} / {pct(v, 99):.3f}"
            if kind != "raw":
                cell += (f" ({statistics.median(v) / statistics.median(base):.2f}x"
                         f" [{pct(v, 99) / pct(base, 99):.2f}x])")
            cells.append(cell)
        print(f"| {title} | " + " | ".join(cells) + " |")
    print(f"\nPeak RSS of this process (all four clients): {rss:.0f} MB")
    print("\nCold processes, first calls (one run each, so no percentiles)\n")
    keys = (("Import (ms)", "import_ms"), ("Construct the client (ms)", "construct_ms"),
            ("First non-streamed call (ms)", "first_call_ms"), ("First stream: time to first text (ms)", "first_ttfc_ms"),
            ("First stream: whole (ms)", "first_stream_ms"), ("Peak RSS of the process (MB)", "rss_mb"))
    print("| " + " | ".join(["Measure", *(LABELS[k] for k in colds)]) + " |")
    print("|---" * (len(colds) + 1) + "|")
    for title, key in keys:
        print(f"| {title} | " + " | ".join(f"{c[key]:.1f}" for c in colds.values()) + " |")
    call = statistics.median(times["sentinel"].call) / statistics.median(times["raw"].call)
    chunk = statistics.median(times["sentinel"].per_chunk) / statistics.median(times["raw"].per_chunk)
    print(f"\nTargets (SentinelClient): non-streamed p50 ratio {call:.2f} (target <= 1.05: "
          f"{'met' if call <= 1.05 else 'NOT met'}); per-chunk p50 ratio {chunk:.2f} (target <= 1.15: "
          f"{'met' if chunk <= 1.15 else 'NOT met'})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--calls", type=int, default=300, help="measured calls per client and measure")
    ap.add_argument("--chunks", type=int, default=200, help="content deltas per answer")
    ap.add_argument("--warmup", type=int, default=10, help="unmeasured calls per client first")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--serve", type=int, metavar="N", help=argparse.SUPPRESS)
    ap.add_argument("--cold", choices=KINDS, help=argparse.SUPPRESS)
    ap.add_argument("--base-url", help=argparse.SUPPRESS)
    ap.add_argument("--audit-dir", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve is not None:
        serve(args.seed, args.chunks, args.serve)
    elif args.cold is not None:
        cold(args.cold, args.base_url, args.seed, args.chunks, args.audit_dir)
    else:
        run(args)


if __name__ == "__main__":
    main()
