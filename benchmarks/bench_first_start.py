"""A first start on a fresh machine: nothing in the Hyperscan cache directory, so the catalog is compiled.

    python benchmarks/bench_first_start.py --runs 3 --before /tmp/old/src

Each run is a fresh process with a fresh, empty ``DEEPSENTINEL_CACHE_DIR``. It times, from before ``import
deepsentinel``: a ``SentinelClient`` built (no call is made), then the first scan of a prompt with numbers in it
(an SSN, a card, a phone number; its findings are printed so both sides can be seen to agree), then, where the
code has it, the wait until every database is compiled (``wait_compiled``). With ``--before`` (a ``src`` folder of
another tree, such as ``git worktree add --detach /tmp/old <commit>``) the same runs alternate with that code.
Medians over the runs, and each process's peak RSS.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

_CHILD = r"""
import json, resource, time
started = time.perf_counter()
from deepsentinel import SentinelClient
client = SentinelClient(openai_api_key="bench", base_url="http://127.0.0.1:9/v1", audit=False)
built = time.perf_counter()
engine = client._sentinel.guard.engine
found = engine.scan("Ref 7 for SSN 536-22-1234, card 4111 1111 1111 1111, call +1 415 555 2671").types()
scanned = time.perf_counter()
waited = engine.wait_compiled() if hasattr(engine, "wait_compiled") else None
compiled = time.perf_counter()
client.close()
print(json.dumps({"build_s": built - started, "first_scan_s": scanned - started,
                  "compiled_s": compiled - started if waited is not None else None, "found": found,
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def _run(src: str | None) -> dict[str, object]:
    env = dict(os.environ)
    if src is not None:
        env["PYTHONPATH"] = src
    with tempfile.TemporaryDirectory(prefix="first-start-") as cache:
        env["DEEPSENTINEL_CACHE_DIR"] = cache
        out = subprocess.run([sys.executable, "-c", _CHILD], env=env, check=True, capture_output=True, text=True)
    result: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--before", help="a src folder of the code to compare with (run first in odd rounds)")
    args = parser.parse_args()
    sides = {"this tree": None} if args.before is None else {"before": args.before, "this tree": None}
    results: dict[str, list[dict[str, object]]] = {side: [] for side in sides}
    for n in range(args.runs):
        order = list(sides) if n % 2 == 0 else list(reversed(sides))  # alternate which goes first
        for side in order:
            results[side].append(_run(sides[side]))
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}; {args.runs} runs "
          "each, a fresh empty cache directory per run\n")
    print("| code | built (s) | first scan done (s) | every database compiled (s) | peak RSS (MB) | findings |")
    print("|---|---|---|---|---|---|")
    for side, runs in results.items():
        def med(key: str, runs: list[dict[str, object]] = runs) -> str:
            values = [float(r[key]) for r in runs if r[key] is not None]  # type: ignore[arg-type]
            return f"{statistics.median(values):.2f}" if values else "(no wait)"
        found = {", ".join(r["found"]) for r in runs}  # type: ignore[arg-type]
        print(f"| {side} | {med('build_s')} | {med('first_scan_s')} | {med('compiled_s')} | {med('rss_mb')} | "
              f"{' / '.join(sorted(found))} |")


if __name__ == "__main__":
    main()
