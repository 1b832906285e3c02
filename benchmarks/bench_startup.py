"""Start-up time: `import deepsentinel` and `deepsentinel --version`, each in a fresh interpreter.

    python benchmarks/bench_startup.py [--runs 30] [--before OTHER_CHECKOUT/src]

Every row is a new process, rows interleaved round by round so machine noise hits them alike. Wall time is
measured from spawn to exit; peak RSS comes from the kernel's accounting of the child (``wait4``). The
baseline is a bare ``python -c pass`` in the same run, and ``import deepsentinel`` is measured twice (A/A)
to show the noise floor. ``--before`` adds the same commands run from another source tree (put first on
``PYTHONPATH``), e.g. the code before a change, measured in the same run. Byte-code caches are warm, as they
are after an install; nothing else is reused.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time

PY = sys.executable


Row = tuple[list[str], dict[str, str] | None]


def rows(before: str | None) -> dict[str, Row]:
    script = shutil.which("deepsentinel") or os.path.join(os.path.dirname(PY), "deepsentinel")
    out: dict[str, Row] = {name: (argv, None) for name, argv in {
        "python -c pass (baseline)": [PY, "-c", "pass"],
        "import deepsentinel": [PY, "-c", "import deepsentinel"],
        "import deepsentinel (A/A)": [PY, "-c", "import deepsentinel"],
        "deepsentinel --version": [script, "--version"],
        "python -m deepsentinel --version": [PY, "-m", "deepsentinel", "--version"],
        "import + first use of SentinelClient": [PY, "-c", "import deepsentinel; deepsentinel.SentinelClient"],
        "deepsentinel --help (loads every command)": [script, "--help"],
    }.items()}
    if before:
        env = {**os.environ, "PYTHONPATH": os.path.abspath(before)}
        out["before: import deepsentinel"] = ([PY, "-c", "import deepsentinel"], env)
        out["before: python -m deepsentinel --version"] = ([PY, "-m", "deepsentinel", "--version"], env)
    return out


def run_once(argv: list[str], env: dict[str, str] | None) -> tuple[float, int]:
    """Wall milliseconds and peak RSS (KiB) of one process."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = (time.perf_counter() - start) * 1e3
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{argv} exited {proc.returncode}")
    return elapsed, usage.ru_maxrss


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--before", help="another checkout's src/ directory to measure in the same run")
    args = ap.parse_args()
    table = rows(args.before)
    times: dict[str, list[float]] = {name: [] for name in table}
    rss: dict[str, int] = dict.fromkeys(table, 0)
    for argv, env in table.values():  # one untimed warm-up each: byte-code compiled, files in the page cache
        run_once(argv, env)
    for _ in range(args.runs):
        for name, (argv, env) in table.items():
            ms, kib = run_once(argv, env)
            times[name].append(ms)
            rss[name] = max(rss[name], kib)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"{args.runs} runs per row, Python {sys.version.split()[0]}, load average {load:.1f}")
    base = statistics.median(times["python -c pass (baseline)"])
    print(f"| {'command':<42} | median ms | p99 ms | minus baseline | peak RSS MiB |")
    print(f"|{'-' * 44}|-----------|--------|----------------|--------------|")
    for name, values in times.items():
        med = statistics.median(values)
        print(f"| {name:<42} | {med:9.0f} | {pct(values, 0.99):6.0f} | {med - base:14.0f} | {rss[name] / 1024:12.1f} |")


if __name__ == "__main__":
    main()
