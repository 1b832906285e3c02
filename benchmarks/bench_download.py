"""A file's contents read back (``files.content``): the raw client against ``SentinelClient``, time and memory.

    python benchmarks/bench_download.py --mb 20 --runs 3 [--before /tmp/old/src]

Each run is a fresh process per client (raw, ours; and ours from ``--before``, a ``src`` folder of another tree),
in alternating order, against the fake server in this one (so never sharing a GIL with a client). The file is JSONL of fresh seeded prose (a new
seed every run: never one text twice), served as ``application/octet-stream`` as OpenAI serves files, read through
``files.with_streaming_response.content`` in 64 KiB pieces. Reported: medians over the runs of the seconds to read
it all and of the growth of the process's peak RSS while reading. The text holds no sensitive value, so all of it
must arrive (checked byte for byte).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

_CHILD = r"""
import hashlib, json, resource, sys, time
import openai
from deepsentinel import SentinelClient
from deepsentinel.testing import FakeLLMServer, Reply
which, url, digest = sys.argv[1], sys.argv[2], sys.argv[3]
client = openai.OpenAI(api_key="k", base_url=url, max_retries=0) if which == "raw" else \
    SentinelClient(api_key="k", base_url=url, max_retries=0, audit=False)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
started = time.perf_counter()
seen = hashlib.sha256()
with client.files.with_streaming_response.content("file-bench") as answer:
    for piece in answer.iter_bytes(65536):
        seen.update(piece)
took = time.perf_counter() - started
assert seen.hexdigest() == digest, "the file did not arrive as it was"
print(json.dumps({"s": took, "rss_mb": (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024}))
"""

_WORDS = ["the", "of", "and", "report", "meeting", "quarter", "revenue", "plan", "team", "review", "customer", "order", "status", "shipped", "delayed", "invoice", "region", "forecast", "supplier", "contract", "renewal", "budget", "draft", "notes", "summary"]


def _file(mb: int, seed: int) -> str:
    import random

    rng = random.Random(seed)
    lines, size, n = [], 0, 0
    while size < mb << 20:
        line = json.dumps({"custom_id": f"request-{seed}-{n}", "response": {"body": {"text": " ".join(
            rng.choice(_WORDS) for _ in range(rng.randint(20, 60)))}}}) + "\n"
        lines.append(line)
        size += len(line)
        n += 1
    return "".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mb", type=int, default=20)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--before", help="a src folder of another tree, measured as a third client")
    args = parser.parse_args()
    import hashlib

    from deepsentinel.testing import FakeLLMServer, Reply

    sides = {"raw": None, "ours": None} | ({"before": args.before} if args.before else {})
    results: dict[str, list[dict[str, float]]] = {side: [] for side in sides}
    with FakeLLMServer() as server:  # in this process: the clients run in their own
        for run in range(args.runs):
            order = list(sides) if run % 2 == 0 else list(reversed(sides))
            for side in order:
                text = _file(args.mb, args.seed * 1000 + run * 10 + order.index(side))
                server.enqueue(Reply(text=text))
                env = dict(os.environ)
                if sides[side] is not None:
                    env["PYTHONPATH"] = str(sides[side])
                out = subprocess.run([sys.executable, "-c", _CHILD, "raw" if side == "raw" else "ours",
                                      server.openai_base_url, hashlib.sha256(text.encode()).hexdigest()],
                                     capture_output=True, text=True, env=env, check=True)
                results[side].append(json.loads(out.stdout))
    print(f"{args.mb} MiB of JSONL, {args.runs} runs, medians")
    print("| client | seconds to read | peak RSS growth (MB) |")
    print("|---|---|---|")
    for side, rows in results.items():
        print(f"| {side} | {statistics.median(r['s'] for r in rows):.2f} | "
              f"{statistics.median(r['rss_mb'] for r in rows):.0f} |")


if __name__ == "__main__":
    main()
