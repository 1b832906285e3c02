"""Same findings before and after a speed change: scan one fixed set of texts with two checkouts and compare.

    python benchmarks/compare_findings.py --baseline-src /work/main/src            # about a minute
    python benchmarks/compare_findings.py --baseline-src /work/main/src --scale 1  # more texts

The texts: every class of ``bench_detection.py`` (small scale, a fixed seed), the labelled corpus (clean, hard
negatives, evasions), the peers' cases, name-heavy snippets (titles, labels, greetings, hyphenated and
apostrophe names, initials) and every prefix of a few hundred documents, so the stream guard's view is covered
too. Each side runs in its own process (``--child``) with the engine as shipped (PERSON on, cache off) and every
prefilter backend; the driver prints how many texts differ, and the first few differences (types and offsets,
never the values).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE / "corpus"))

_WORDS = ["Maria", "Gonzalez", "John", "Smith", "Dr.", "Mr", "Mrs.", "Sir", "Lady", "Dear", "Hi", "thanks",
          "Regards,", "Name:", "Patient:", "from:", "O'Brien", "McDonald", "Smith-Jones", "Ab-Cd", "A.", "J.",
          "the", "and", "Street", "May", "Will", "New", "York", "Okafor", "\n", "\t", ",", ".", "-", ":", "cc",
          "Thank you", "Best", "Doctor", "Professor", "Li", "Wei", "Omar", "Jane", "Doe", "x", "Café", "José"]


def _name_snippets(rng: random.Random, count: int) -> list[str]:
    out = []
    for _ in range(count):
        words = [rng.choice(_WORDS) for _ in range(rng.randint(1, 14))]
        out.append("".join(w + rng.choice([" ", " ", "  ", "", "\n", "\t"]) for w in words))
    return out


def texts(scale: float) -> list[str]:
    from bench_detection import make_docs
    from generate import generate

    out: list[str] = []
    for i, kind in enumerate(("dense", "prompt2k", "short", "prose", "code", "hex", "base64", "digits", "emails")):
        out += make_docs(kind, 4242 + i, 0.05 * scale)
    docs = [d.text for d in generate(20261124, int(600 * scale))]
    out += docs
    data = HERE / "peers" / "data"
    for source in ("gitleaks", "presidio"):
        for line in (data / f"{source}.jsonl").read_text().splitlines():
            out.append(base64.b64decode(json.loads(line)["text_b64"]).decode())
    rng = random.Random(7)
    out += _name_snippets(rng, int(3000 * scale))
    for d in docs[: int(150 * scale)]:  # every prefix, as a stream sees the text
        out += [d[:k] for k in range(1, len(d) + 1)]
    return out


def child() -> None:
    from deepsentinel.detection import DetectionEngine

    corpus: list[str] = json.loads(sys.stdin.read())
    for backend in ("hyperscan", "re2", "none"):
        engine = DetectionEngine(cache_size=0, names=None, prefilter=backend)  # type: ignore[arg-type]
        for i, text in enumerate(corpus):
            found = [(f.type, f.start, f.end, f.confidence, f.severity.value, f.detector)
                     for f in engine.scan(text).findings]
            print(json.dumps([backend, i, found]))


def run(src: str | None, corpus: str) -> list[list[object]]:
    """Findings of every text with the code in ``src`` (None: this checkout), in a process of its own."""
    env = {**os.environ, "PYTHONPATH": src} if src else None
    proc = subprocess.run([sys.executable, __file__, "--child"], input=corpus, capture_output=True, text=True,
                          env=env, check=True)
    return [json.loads(line) for line in proc.stdout.splitlines()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline-src", required=False, help="the other checkout's src/ directory")
    parser.add_argument("--scale", type=float, default=0.3)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child()
        return
    if not args.baseline_src:
        parser.error("--baseline-src is required")
    # Generated once and handed to both sides (the generators draw some values from the OS, not the seed).
    corpus = json.dumps(texts(args.scale))
    ours, theirs = run(None, corpus), run(args.baseline_src, corpus)
    assert len(ours) == len(theirs), "different text sets"
    differ = [(a, b) for a, b in zip(ours, theirs, strict=True) if a != b]
    print(f"{len(ours)} scans (3 backends), {len(differ)} differ")
    for a, b in differ[:10]:
        print(f"  {a[0]} text {a[1]}: ours {a[2]}\n  {'':>{len(str(a[0]))}} base {b[2]}")
    sys.exit(1 if differ else 0)


if __name__ == "__main__":
    main()
