"""Detection speed on text never seen before: one cold process per measurement, one pass, fresh inputs.

    python benchmarks/bench_detection.py            # every class and scanner (a few minutes)
    python benchmarks/bench_detection.py --quick    # smaller inputs and time budgets (about a minute)
    python benchmarks/bench_detection.py --only dense,prose --scanners ours,re

Every row is its own subprocess (``--child``): it generates its input from a seed no other row uses, builds
the scanner, scans every document **once** (no warm-up on the same text, the per-text cache off) and reports
MB/s over the whole pass, p50/p99 per document and the process's peak RSS. Rows:

* ``ours``: the engine as shipped (default catalog, PERSON detection on) with the Hyperscan prefilter;
  ``ours-re2``: the same with the RE2 fallback;
  ``ours (A/A)``: ``ours`` again on another fresh input, so the noise between two identical runs is visible;
* ``ours @ baseline`` (with ``--baseline-src other/src``): ``ours`` with another checkout's code, for a
  before/after measured in the same run;
* ``re``: one Python ``re`` alternation of the same patterns (no prefilter, no validation);
* ``detect-secrets``: its default plugins, line by line (``pip install -e '.[bench]'``);
* ``presidio``: Presidio's predefined pattern recognizers, no NLP model (the URL one is left out: it fetches
  the public-suffix list).

Baselines slower than the time budget scan a prefix of their input; the row says how many documents.
The ``short`` class is ~100-character prose snippets, what the stream guard scans once per delta. The ``guard`` class feeds fresh text to ``StreamGuard`` in 4-character deltas and reports per-delta times
(``passthrough``: a function returning its input, same deltas).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import re
import resource
import statistics
import subprocess
import sys
import sysconfig
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "corpus"))

CLASSES = ("dense", "prompt2k", "short", "prose", "code", "hex", "base64", "digits", "emails", "file10mb", "guard")
SCANNERS = ("ours", "ours-re2", "ours (A/A)", "re", "detect-secrets", "presidio")
TARGETS = {"dense": "≥ 10 MB/s", "prompt2k": "p50 ≤ 50 µs", "short": "(none: the cost of one scan per delta)", "prose": "≥ 100 MB/s", "code": "≥ 100 MB/s",
           "hex": "≥ 2 MB/s", "base64": "≥ 2 MB/s", "digits": "≥ 2 MB/s", "emails": "≥ 2 MB/s",
           "file10mb": "RSS ≤ 150 MB", "guard": "p50 ≤ 10 µs, p99 ≤ 50 µs"}


# --- inputs (each from its own seed) -------------------------------------------------------------------------

def _luhn_card(rng: random.Random) -> str:
    digits = [4] + [rng.randrange(10) for _ in range(14)]
    total = 0
    for i, d in enumerate(reversed(digits)):
        total += (2 * d - 9 if 2 * d > 9 else 2 * d) if i % 2 == 0 else d
    return "".join(map(str, digits)) + str((10 - total % 10) % 10)


def _ssn(rng: random.Random) -> str:
    return f"{rng.randint(100, 665)}-{rng.randint(10, 99)}-{rng.randint(1000, 9999)}"


def _prose(rng: random.Random, size: int) -> str:
    from faker import Faker

    fake = Faker("en_US")
    fake.seed_instance(rng.randrange(2**31))
    out: list[str] = []
    n = 0
    while n < size:
        p = fake.paragraph(nb_sentences=8) + "\n"
        out.append(p)
        n += len(p)
    return "".join(out)[:size]


def make_docs(kind: str, seed: int, scale: float) -> list[str]:
    rng = random.Random(seed)
    if kind == "dense":
        from generate import generate

        docs = [d.text for d in generate(seed, int(1500 * scale))]
        rng.shuffle(docs)
        return [docs[i] + "\n" + docs[i + 1] for i in range(0, len(docs) - 1, 2)]  # ~300 B prompts
    if kind == "prompt2k":
        out = []
        for _ in range(int(400 * scale)):
            base = _prose(rng, 1900)
            third = len(base) // 3
            out.append(base[:third] + f" Reach me at {rng.choice(['jane', 'li.wei', 'omar'])}{rng.randint(1, 999)}"
                       f"@example.org. " + base[third:2 * third] + f" My card is {_luhn_card(rng)} and SSN "
                       f"{_ssn(rng)}. " + base[2 * third:])
        return out
    if kind == "short":  # what the stream guard scans on each delta: ~100 characters of prose, cut at words
        text = _prose(rng, int(4000 * scale) * 110)
        out, i = [], 0
        while len(out) < int(4000 * scale) and (j := text.find(" ", i + 100)) > 0:
            out.append(text[i:j])
            i = j + 1
        return out
    if kind == "prose":
        return [_prose(rng, 16_384) for _ in range(int(120 * scale))]
    if kind == "code":
        stdlib = Path(sysconfig.get_paths()["stdlib"])
        files = sorted(p for p in stdlib.rglob("*.py") if "test" not in p.parts)
        rng.shuffle(files)
        docs: list[str] = []
        for f in files:
            try:
                text = f.read_text(encoding="utf-8")
            except (UnicodeDecodeError, OSError):
                continue
            docs.extend(text[i:i + 16_384] for i in range(0, len(text), 16_384))
            if len(docs) >= 120 * scale:
                break
        return docs
    if kind == "hex":
        return ["\n".join(rng.randbytes(32).hex() for _ in range(256)) for _ in range(int(60 * scale))]
    if kind == "base64":
        return ["\n".join(base64.b64encode(rng.randbytes(57)).decode() for _ in range(220))
                for _ in range(int(60 * scale))]
    if kind == "digits":
        return [" ".join(str(rng.randrange(10 ** rng.randint(1, 12))) for _ in range(1800))
                for _ in range(int(60 * scale))]
    if kind == "emails":
        return [", ".join(f"user{rng.randrange(10**6)}.{rng.choice(['a', 'b', 'c'])}@mail{rng.randrange(999)}.example."
                          f"{rng.choice(['com', 'org', 'net'])}" for _ in range(500)) for _ in range(int(60 * scale))]
    if kind == "file10mb":
        parts = make_docs("prose", seed, 0.25) + make_docs("code", seed + 1, 0.25) + make_docs("dense", seed + 2, 0.3)
        rng.shuffle(parts)
        blob = "\n".join(parts)
        pieces = [blob] * (10_000_000 // len(blob)) + [blob[: 10_000_000 % len(blob)]]
        return ["".join(pieces)]  # one 10 MB string, built without a larger intermediate copy
    raise SystemExit(f"unknown class {kind}")


# --- scanners ------------------------------------------------------------------------------------------------

def make_scanner(name: str) -> Callable[[str], object]:
    if name.startswith("ours"):
        from deepsentinel.detection import DetectionEngine

        # As shipped (default_engine): PERSON detection on, with the built-in statistical detector.
        engine = DetectionEngine(cache_size=0, names=None, prefilter="re2" if name == "ours-re2" else "auto")
        return engine.scan
    if name == "re":
        from deepsentinel.detection.recognizers import BUILTIN_RECOGNIZERS

        alternation = re.compile("|".join(f"(?:{p.regex})" for r in BUILTIN_RECOGNIZERS for p in r.patterns), re.ASCII)
        return lambda text: sum(1 for _ in alternation.finditer(text))
    if name == "detect-secrets":
        from detect_secrets.core.scan import scan_line
        from detect_secrets.settings import default_settings

        default_settings().__enter__()  # for the life of this child process
        return lambda text: sum(len(list(scan_line(line))) for line in text.splitlines())
    if name == "presidio":
        recognizers = presidio_recognizers()
        return lambda text: sum(len(r.analyze(text, r.supported_entities, None)) for r in recognizers)
    raise SystemExit(f"unknown scanner {name}")


def presidio_recognizers() -> list[Any]:
    """Every predefined Presidio pattern recognizer but the URL one (it fetches the public-suffix list)."""
    import presidio_analyzer.predefined_recognizers as predefined
    from presidio_analyzer import PatternRecognizer

    recognizers = []
    for attr in dir(predefined):
        cls = getattr(predefined, attr)
        if isinstance(cls, type) and issubclass(cls, PatternRecognizer) and cls is not PatternRecognizer \
                and "Url" not in attr:
            try:
                recognizers.append(cls())
            except Exception:  # noqa: BLE001 - a recognizer needing configuration is left out
                continue
    return recognizers


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(kind: str, scanner: str, seed: int, scale: float, budget: float) -> dict[str, object]:
    if kind == "guard":
        return child_guard(scanner, seed, scale)
    docs = make_docs(kind, seed, scale)
    t0 = time.perf_counter()
    scan = make_scanner(scanner)
    build = time.perf_counter() - t0
    times: list[float] = []
    done = 0
    started = time.perf_counter()
    for d in docs:
        t = time.perf_counter_ns()
        scan(d)
        times.append((time.perf_counter_ns() - t) / 1000)
        done += len(d.encode())
        if time.perf_counter() - started > budget and len(times) >= 5:
            break
    elapsed = sum(times) / 1e6
    times.sort()
    return {"class": kind, "scanner": scanner, "mb_s": done / elapsed / 1e6, "p50_us": statistics.median(times),
            "p99_us": times[min(len(times) - 1, int(len(times) * 0.99))], "rss_mb": _rss_mb(),
            "docs": f"{len(times)}/{len(docs)}", "mb": done / 1e6, "build_s": build}


def child_guard(scanner: str, seed: int, scale: float) -> dict[str, object]:
    rng = random.Random(seed)
    texts = make_docs("prompt2k", seed, 0.1 * scale)
    text = "".join(texts) + _prose(rng, 4000)
    deltas = [text[i:i + 4] for i in range(0, len(text), 4)]
    t0 = time.perf_counter()
    if scanner == "passthrough":
        def feed(delta: str) -> object:
            return delta
    else:
        from deepsentinel.detection import DetectionEngine
        from deepsentinel.guard.stream_guard import StreamGuard
        from deepsentinel.policy.policy import DEFAULT_POLICY

        engine = DetectionEngine(cache_size=0, names=None, prefilter="re2" if scanner == "ours-re2" else "auto")
        guard = StreamGuard(engine, [DEFAULT_POLICY])

        def feed(delta: str) -> object:
            return guard.feed(delta)
    build = time.perf_counter() - t0
    times = []
    blocked = 0
    for d in deltas:
        t = time.perf_counter_ns()
        result = feed(d)
        times.append((time.perf_counter_ns() - t) / 1000)
        if getattr(result, "blocked", False):
            # The policy blocked a card or an SSN: that stream is over, and a blocked guard answers at once, so
            # the rest of the text goes to a fresh guard (a new stream) instead of being timed on a dead one.
            blocked += 1
            guard = StreamGuard(engine, [DEFAULT_POLICY])
    times.sort()
    return {"class": "guard", "scanner": scanner, "mb_s": len(text) / (sum(times) / 1e6) / 1e6,
            "p50_us": statistics.median(times), "p99_us": times[int(len(times) * 0.99)], "rss_mb": _rss_mb(),
            "docs": f"{len(deltas)} deltas, {blocked + 1} streams", "mb": len(text) / 1e6, "build_s": build}


# --- driver --------------------------------------------------------------------------------------------------

def run_child(kind: str, scanner: str, seed: int, scale: float, budget: float,
              src: str | None = None) -> dict[str, object] | None:
    name = "ours" if scanner in ("ours (A/A)", "ours @ baseline") else scanner
    cmd = [sys.executable, __file__, "--child", kind, name, str(seed), str(scale), str(budget)]
    # ``src``: another checkout's src/ (say, main's), imported instead of this one, for a before/after in one run.
    env = {**os.environ, "PYTHONPATH": src} if src else None
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900, env=env)
    if proc.returncode != 0:
        print(f"  {kind}/{scanner}: failed ({proc.stderr.strip().splitlines()[-1:]})", file=sys.stderr)
        return None
    row: dict[str, object] = json.loads(proc.stdout.strip().splitlines()[-1])
    row["scanner"] = scanner
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", default=",".join(CLASSES))
    parser.add_argument("--scanners", default=",".join(SCANNERS))
    parser.add_argument("--seed", type=int, default=int(time.time()))
    parser.add_argument("--budget", type=float, help="seconds of scanning per row (default 15, --quick 4)")
    parser.add_argument("--baseline-src", help="another checkout's src/ directory: adds an 'ours @ baseline' row "
                                               "after each 'ours' row, measured with that code")
    parser.add_argument("--child", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, scanner, seed, scale, budget = args.child
        print(json.dumps(child(kind, scanner, int(seed), float(scale), float(budget))))
        return
    scale, budget = (0.3, 4.0) if args.quick else (1.0, 15.0)
    budget = args.budget or budget
    print(f"# detection benchmark: Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, seed {args.seed}, "
          f"budget {budget:.0f} s a row; one cold subprocess per row, every input scanned once")
    print("| class | scanner | MB/s | p50 µs/doc | p99 µs/doc | peak RSS MB | docs scanned | build s | target |")
    print("|---|---|---:|---:|---:|---:|---|---:|---|")
    seed = args.seed
    for kind in args.only.split(","):
        scanners = ("ours", "ours-re2", "passthrough") if kind == "guard" else args.scanners.split(",")
        if kind == "file10mb":
            scanners = [s for s in scanners if s in ("ours", "ours-re2", "re")]
        if args.baseline_src:
            scanners = [x for s in scanners for x in ((s, "ours @ baseline") if s == "ours" else (s,))]
        for scanner in scanners:
            seed += 1
            row = run_child(kind, scanner, seed, scale, budget, args.baseline_src if "baseline" in scanner else None)
            if row is None:
                continue
            print(f"| {kind} | {scanner} | {row['mb_s']:.2f} | {row['p50_us']:.1f} | {row['p99_us']:.1f} | "
                  f"{row['rss_mb']:.0f} | {row['docs']} ({row['mb']:.2f} MB) | {row['build_s']:.2f} | "
                  f"{TARGETS[kind] if scanner == 'ours' else ''} |", flush=True)


if __name__ == "__main__":
    main()
