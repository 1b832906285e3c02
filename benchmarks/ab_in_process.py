"""Two versions of the guard in one process: what a change saves a plain call, with the noise of one run shared.

    python benchmarks/ab_in_process.py --before /tmp/old/src --calls 600
    python benchmarks/ab_in_process.py --before src --calls 600      # the A/A: this tree against itself

A diagnostic for comparing code, not a figure of record (``bench_client.py`` is). Two runs of ``bench_client.py``
on a shared machine differ by about ±0.02 in their ratio (±100 µs of a 5 ms call), more than most changes save.
Here the package in ``--before`` (a ``src`` directory, for example of a ``git worktree`` of an older commit) is
copied under another name (``deepsentinel_before``, its imports rewritten), and its ``SentinelClient`` calls beside
this tree's, the raw ``openai.OpenAI`` and a second raw one (the A/A row), in a fresh random order every round,
against ``bench_client.py``'s server in its own process, each with a fresh prompt and answer. Plain calls only
(``--streams`` puts a stream of each client between rounds, as ``bench_client.py`` did before stop 28). Each guarded
call's audit write is waited for, untimed. It prints what each version adds over the raw client at p50.
"""

from __future__ import annotations

import argparse
import importlib
import os
import random
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "src"))  # "after" is this tree, whatever is installed

BEFORE = "deepsentinel_before"
_IMPORTS = re.compile(r"\bdeepsentinel(?=\.[A-Za-z_])|(?<=import )deepsentinel\b|(?<=from )deepsentinel(?= import)")
# Process-wide names the package registers: renamed too, or the last registration would serve both versions.
_REGISTERED = re.compile(r"\bdeepsentinel(?=-one-byte\b)")


def copy_renamed(src: Path, into: Path) -> None:
    """``src/deepsentinel`` as ``into/deepsentinel_before``, every import of the package renamed."""
    target = into / BEFORE
    shutil.copytree(src / "deepsentinel", target, ignore=shutil.ignore_patterns("__pycache__"))
    for path in target.rglob("*.py"):
        text = _IMPORTS.sub(BEFORE, path.read_text(encoding="utf-8"))
        path.write_text(_REGISTERED.sub(BEFORE, text), encoding="utf-8")


def main() -> None:
    import openai
    from bench_client import MODEL, Fresh, start_server, stop_server

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", required=True, type=Path, help="a src directory holding the other version")
    parser.add_argument("--calls", type=int, default=600, help="measured plain calls per client")
    parser.add_argument("--streams", action="store_true", help="a stream of each client between rounds")
    args = parser.parse_args()
    if not (args.before / "deepsentinel" / "__init__.py").is_file():
        parser.error(f"{args.before} holds no deepsentinel package")
    rounds = args.calls + 50
    per_round = 4 * (2 if args.streams else 1)
    server, base_url = start_server(rounds * per_round + 10, 200)
    with tempfile.TemporaryDirectory(prefix="ab-in-process-") as tmp:
        copy_renamed(args.before, Path(tmp))
        sys.path.insert(0, tmp)
        packages = {"before": BEFORE, "after": "deepsentinel"}
        clients: dict[str, Any] = {kind: openai.OpenAI(api_key="bench", base_url=base_url) for kind in ("raw", "raw-2")}
        for kind in random.sample(list(packages), 2):  # neither version is always imported and built first
            package = importlib.import_module(packages[kind])
            clients[kind] = package.SentinelClient(openai_api_key="bench", base_url=base_url,
                                                   audit=os.path.join(tmp, f"{kind}.db"))
        fresh = Fresh(int(time.time()))
        wall: dict[str, list[float]] = {kind: [] for kind in clients}
        for round_ in range(rounds):
            for kind in random.sample(list(clients), len(clients)):
                prompt = fresh.prompt()
                started = time.perf_counter()
                clients[kind].chat.completions.create(model=MODEL, messages=[{"role": "user", "content": prompt}])
                elapsed = time.perf_counter() - started
                if kind in ("before", "after"):
                    clients[kind].audit  # noqa: B018 - the property flushes the store: its work is not timed
                if round_ >= 50:  # warm-up rounds left out
                    wall[kind].append(elapsed * 1e6)
            if args.streams:
                for kind in random.sample(list(clients), len(clients)):
                    with clients[kind].chat.completions.create(
                            model=MODEL, messages=[{"role": "user", "content": fresh.prompt()}], stream=True) as stream:
                        for _ in stream:
                            pass
                    if kind in ("before", "after"):
                        clients[kind].audit  # noqa: B018
        for client in clients.values():
            client.close()
    stop_server(server)
    p50 = {kind: statistics.median(values) for kind, values in wall.items()}
    raw = p50["raw"]
    print(f"python {sys.version.split()[0]}, load {os.getloadavg()[0]:.1f}, {args.calls} plain calls per client"
          f"{' with streams between rounds' if args.streams else ''}; raw p50 {raw:.0f} µs")
    for kind in ("raw-2", "before", "after"):
        print(f"{kind:>6}: {p50[kind] - raw:+.0f} µs over raw at p50 (ratio {p50[kind] / raw:.3f})")
    print(f"after - before: {p50['after'] - p50['before']:+.0f} µs")


if __name__ == "__main__":
    main()
