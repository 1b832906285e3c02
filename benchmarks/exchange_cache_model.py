"""What one non-streamed exchange costs the caller's thread, in instructions and modelled cache misses.

    python benchmarks/exchange_cache_model.py            # about 10 minutes (valgrind runs four processes)

Wall-clock ratios swing with a shared machine's cache pressure; these counts do not. Each kind of client (the raw
``openai.OpenAI`` and ``protect(openai.OpenAI(...))`` with its default audit store) makes 20 and then 120 calls in
process against an in-memory upstream (``httpx2.MockTransport``), each with a fresh prompt and a fresh answer,
under ``valgrind --tool=callgrind --cache-sim=yes`` with the last level modelled as a 512 KB L2
(``--LL=524288,8,64``) and threads counted apart. The difference between the two runs, over 100, is one
exchange's cost on the calling thread; the audit writer's thread is reported beside it.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

MEASURES = ("instructions", "L1 data read misses", "L2-model data read misses", "L2-model data write misses",
            "L2-model instruction misses")


def exchanges(kind: str, calls: int) -> None:
    """``calls`` chat completions through ``kind``'s client against an in-memory upstream (the child)."""
    import httpx2
    import openai
    from bench_client import Fresh, answers

    fresh, scripted = Fresh(11), answers(11, 200)

    def upstream(request: httpx2.Request) -> httpx2.Response:
        message = {"role": "assistant", "content": "".join(next(scripted)), "refusal": None}
        return httpx2.Response(200, json={
            "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "gpt-4o-mini",
            "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 200, "total_tokens": 210}})

    client = openai.OpenAI(api_key="bench", base_url="http://upstream.test/v1",
                           http_client=httpx2.Client(transport=httpx2.MockTransport(upstream)))
    if kind == "protect":
        import deepsentinel

        client = deepsentinel.protect(client, audit=str(Path(tempfile.mkdtemp()) / "audit.db"))
    for _ in range(calls):
        client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": fresh.prompt()}])


def counts(out: Path) -> list[int]:
    """The totals of one callgrind output file, in ``MEASURES`` order."""
    text = subprocess.run(["callgrind_annotate", "--show=Ir,D1mr,DLmr,DLmw,ILmr", str(out)],
                          check=True, capture_output=True, text=True).stdout
    line = next(ln for ln in text.splitlines() if "PROGRAM TOTALS" in ln)
    return [int(n.replace(",", "")) for n in re.findall(r"([\d,]+) \(", line)]


def measure(kind: str, warm: int, measured: int, work: Path) -> dict[str, list[float]]:
    """Per-exchange counts of ``kind``, by thread ("caller", "writer")."""
    runs = []
    for calls in (warm, warm + measured):
        out = work / f"{kind}.{calls}.out"
        subprocess.run(["valgrind", "--tool=callgrind", "--cache-sim=yes", "--LL=524288,8,64",
                        "--separate-threads=yes", f"--callgrind-out-file={out}",
                        sys.executable, __file__, "--child", kind, "--calls", str(calls)],
                       check=True, capture_output=True)
        runs.append({thread: counts(Path(f"{out}-0{n}")) for n, thread in ((1, "caller"), (2, "writer"))
                     if Path(f"{out}-0{n}").exists()})
    return {thread: [(b - a) / measured for a, b in zip(runs[0][thread], runs[1][thread], strict=True)]
            for thread in runs[1] if thread in runs[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--warm", type=int, default=20)
    parser.add_argument("--calls", type=int, default=100, help="measured calls (or, with --child, calls to make)")
    parser.add_argument("--child", choices=("raw", "protect"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        exchanges(args.child, args.calls)
        return
    with tempfile.TemporaryDirectory(prefix="exchange-cache-") as tmp:
        raw = measure("raw", args.warm, args.calls, Path(tmp))
        ours = measure("protect", args.warm, args.calls, Path(tmp))
    print("| per exchange, caller's thread | raw `openai.OpenAI` | `protect(openai.OpenAI())` | added |")
    print("|---|---|---|---|")
    for name, r, o in zip(MEASURES, raw["caller"], ours["caller"], strict=True):
        print(f"| {name} | {r:,.0f} | {o:,.0f} | {(o / r - 1) * 100:+.0f}% |")
    if "writer" in ours:
        print(f"\nThe audit writer's thread: {ours['writer'][0]:,.0f} instructions per exchange.")


if __name__ == "__main__":
    main()
