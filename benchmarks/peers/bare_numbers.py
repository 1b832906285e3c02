"""What reporting bare checksummed numbers costs: the share of plain numbers, with no label, that get flagged.

    python benchmarks/peers/bare_numbers.py                 # 2,000 numbers per row, seed 1
    python benchmarks/peers/bare_numbers.py --seed 7 --n 5000
    python benchmarks/peers/bare_numbers.py --bare-numbers  # with the opt-in BARE_NUMBER_RECOGNIZERS

A plain 9- to 13-digit number passes one national checksum or another surprisingly often (a mod-10 check one
time in ten, a mod-11 one in eleven), so the catalog reports a number without a label only when its check is
strong; the weak ones are the opt-in ``BARE_NUMBER_RECOGNIZERS``. This prints, per kind of number, how many were
reported at all and how many would be blocked (risk >= 0.8), with the entity types that took them. Numbers
are drawn fresh from the seed; the sentences around them carry no label and no negative word.
"""

from __future__ import annotations

import argparse
import random
from collections import Counter
from collections.abc import Callable

from deepsentinel.detection import DetectionEngine
from deepsentinel.detection.recognizers import BARE_NUMBER_RECOGNIZERS, BUILTIN_RECOGNIZERS

SENTENCES = ("The value was {n}.", "{n}", "Please check {n} again", "see {n} for details", "x = {n}")


def _digits(rng: random.Random, length: int) -> str:
    return str(rng.randint(1, 9)) + "".join(rng.choice("0123456789") for _ in range(length - 1))


def _random(length: int) -> Callable[[random.Random], str]:
    return lambda rng: _digits(rng, length)


KINDS: dict[str, Callable[[random.Random], str]] = {
    **{f"random {k} digits": _random(k) for k in range(8, 14)},
    "unix time (s)": lambda rng: str(rng.randint(1_000_000_000, 2_000_000_000)),
    "unix time (ms)": lambda rng: str(rng.randint(1_000_000_000_000, 2_000_000_000_000)),
    "amount in cents": lambda rng: str(rng.randint(1_000_000, 999_999_999)),
    "3-3-3 grouped": lambda rng: " ".join(_digits(rng, 3) for _ in range(3)),
    "4-4-4 grouped": lambda rng: " ".join(_digits(rng, 4) for _ in range(3)),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--n", type=int, default=2000, help="numbers per kind")
    parser.add_argument("--bare-numbers", action="store_true",
                        help="add the opt-in BARE_NUMBER_RECOGNIZERS (weak checksums alone) to the catalog")
    args = parser.parse_args()
    recognizers = BUILTIN_RECOGNIZERS + (BARE_NUMBER_RECOGNIZERS if args.bare_numbers else ())
    engine = DetectionEngine(recognizers, names=None, cache_size=0)
    rng = random.Random(args.seed)
    print("| kind | numbers | reported | blocked (risk >= 0.8) | types |\n|---|---:|---:|---:|---|")
    for kind, make in KINDS.items():
        reported = blocked = 0
        types: Counter[str] = Counter()
        for _ in range(args.n):
            number = make(rng)
            text = rng.choice(SENTENCES).format(n=number)
            start = text.index(number)
            hits = [f for f in engine.scan(text).findings if f.start < start + len(number) and start < f.end]
            reported += bool(hits)
            blocked += any(f.risk >= 0.8 for f in hits)
            types.update(f.type for f in hits)
        top = ", ".join(f"{t} {c}" for t, c in types.most_common(4)) or "-"
        print(f"| {kind} | {args.n} | {reported / args.n:.1%} | {blocked / args.n:.1%} | {top} |")


if __name__ == "__main__":
    main()
