"""Detection speed: throughput on a mixed corpus and latency for a 2 KB prompt, on one core.

    python benchmarks/bench_detection.py            # full run (about a minute)
    python benchmarks/bench_detection.py --quick    # smaller samples

Measures the default catalog with the per-text cache **off** (every scan does the full work), and, in the same
run, a baseline: one Python ``re`` alternation of the same patterns (no prefilter, no validation), as people
write a first scanner. The mixed corpus is what an LLM gateway sees: mostly prompts without sensitive data
(prose, code, logs) plus the labelled corpus documents (entities, evasions, lookalikes), scanned one by one.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from faker import Faker

sys.path.insert(0, str(Path(__file__).resolve().parent / "corpus"))

from generate import DEFAULT_SEED, generate  # noqa: E402

from deepsentinel.detection import DetectionEngine  # noqa: E402
from deepsentinel.detection.recognizers import BUILTIN_RECOGNIZERS  # noqa: E402

CODE = '''def handler(event, context):
    """Resize the uploaded image and store it under thumbnails/."""
    bucket = event["Records"][0]["s3"]["bucket"]["name"]
    for size in (64, 128, 256):
        resized = image.resize((size, size), Image.LANCZOS)
        key = f"thumbnails/{size}/{name}"
        s3.put_object(Bucket=bucket, Key=key, Body=encode(resized), ContentType="image/png")
    return {"statusCode": 200, "body": json.dumps({"count": 3, "elapsed_ms": 41.5})}
'''
LOG = "2025-03-14T09:26:53.589Z INFO worker-7 job=resize id=8f14e45f duration=412ms status=ok retries=0\n"


def pin_one_core() -> str:
    if hasattr(os, "sched_setaffinity"):
        cpu = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpu})
        return f"pinned to CPU {cpu}"
    return "not pinned (no sched_setaffinity)"


def prompt_without_findings(fake: Faker, size: int = 2048) -> str:
    text = ""
    while len(text) < size:
        text += fake.paragraph(nb_sentences=6) + f" In {fake.year()} we shipped {fake.random_int(2, 40)} releases.\n"
    return text[:size]


def prompt_with_findings(fake: Faker, size: int = 2048) -> str:
    base = prompt_without_findings(fake, size - 120)
    third = len(base) // 3
    return (base[:third] + " Reach me at jane.doe@example.com. " + base[third:2 * third]
            + " My card is 4111 1111 1111 1111 and SSN 123-45-6789. " + base[2 * third:])[:size + 40]


def labelled_corpus(docs: int) -> list[str]:
    return [d.text for d in generate(DEFAULT_SEED, max(1, docs // 10))]


def mixed_corpus(fake: Faker, rng: random.Random, docs: int) -> list[str]:
    labelled = labelled_corpus(docs)
    clean: list[str] = []
    while len(clean) < docs:
        kind = rng.random()
        if kind < 0.5:
            clean.append(prompt_without_findings(fake, rng.choice([300, 800, 2048, 4096])))
        elif kind < 0.75:
            clean.append(CODE * rng.randint(1, 6))
        else:
            clean.append(LOG * rng.randint(3, 40))
    return clean + labelled


def naive_baseline() -> Callable[[str], int]:
    alternation = re.compile("|".join(f"(?:{p.regex})" for r in BUILTIN_RECOGNIZERS for p in r.patterns), re.ASCII)

    def scan(text: str) -> int:
        return sum(1 for _ in alternation.finditer(text))

    return scan


def throughput(scan: Callable[[str], object], docs: list[str], min_seconds: float) -> float:
    total = sum(len(d.encode()) for d in docs)
    rounds = 0
    started = time.perf_counter()
    while True:
        for d in docs:
            scan(d)
        rounds += 1
        elapsed = time.perf_counter() - started
        if elapsed >= min_seconds:
            return total * rounds / elapsed / 1e6


def latencies(scan: Callable[[str], object], text: str, runs: int) -> tuple[float, float]:
    for _ in range(50):
        scan(text)
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter_ns()
        scan(text)
        samples.append((time.perf_counter_ns() - t0) / 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.99) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    pinned = pin_one_core()
    fake = Faker("en_US")
    fake.seed_instance(DEFAULT_SEED)
    rng = random.Random(DEFAULT_SEED)
    docs = mixed_corpus(fake, rng, 150 if args.quick else 600)
    engine = DetectionEngine(cache_size=0)
    baseline = naive_baseline()
    quiet, loud = prompt_without_findings(fake), prompt_with_findings(fake)
    assert not engine.scan(quiet).findings and len(engine.scan(loud).findings) == 3
    runs = 500 if args.quick else 3000
    seconds = 1.0 if args.quick else 5.0

    size_mb = sum(len(d.encode()) for d in docs) / 1e6
    ours = throughput(engine.scan, docs, seconds)
    dense_docs = labelled_corpus(len(docs))
    dense = throughput(engine.scan, dense_docs, seconds / 2)
    naive = throughput(baseline, docs, seconds / 2)
    q50, q99 = latencies(engine.scan, quiet, runs)
    l50, l99 = latencies(engine.scan, loud, runs)
    b50, _ = latencies(baseline, quiet, runs // 3)
    print(f"# detection benchmark ({pinned}; Python {sys.version.split()[0]}; {len(docs)} docs, {size_mb:.2f} MB)")
    print(f"throughput, mixed corpus          : {ours:8.1f} MB/s   (naive re alternation: {naive:.1f} MB/s, "
          f"x{ours / naive:.1f})")
    print(f"throughput, labelled docs only   : {dense:8.1f} MB/s   ({len(dense_docs)} short documents, "
          f"nearly all with findings)")
    print(f"2 KB prompt, no findings   p50/p99: {q50:8.1f} / {q99:.1f} us   (naive: p50 {b50:.1f} us, x{b50 / q50:.1f})")
    print(f"2 KB prompt, 3 findings    p50/p99: {l50:8.1f} / {l99:.1f} us")


if __name__ == "__main__":
    main()
