"""Per-entity precision, recall and F1 of the default engine on the generated corpus.

    python benchmarks/corpus/evaluate.py                 # seed 20261124, 600 documents per split
    python benchmarks/corpus/evaluate.py --markdown      # the tables in docs/detection.md

A prediction is a true positive when a label of the same type overlaps it; every label without one is a false
negative, every prediction without one a false positive. On the hard-negative split (no labels) we report the
share of documents with any finding.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import DEFAULT_SEED, Document, generate  # noqa: E402

from deepsentinel.detection import DetectionEngine  # noqa: E402


@dataclass
class Scores:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def evaluate(docs: list[Document], engine: DetectionEngine) -> tuple[dict[str, Scores], list[str]]:
    per_entity: dict[str, Scores] = defaultdict(Scores)
    errors: list[str] = []
    for doc in docs:
        found = engine.scan(doc.text).findings
        matched: set[int] = set()
        for label in doc.labels:
            hit = next((i for i, f in enumerate(found)
                        if f.type == label.type and f.start < label.end and label.start < f.end), None)
            if hit is None:
                per_entity[label.type].fn += 1
                errors.append(f"FN {label.type}: {doc.text[label.start:label.end]!r}")
            else:
                per_entity[label.type].tp += 1
                matched.add(hit)
        for i, f in enumerate(found):
            if i not in matched:
                per_entity[f.type].fp += 1
                errors.append(f"FP {f.type}: {doc.text[max(0, f.start - 20):f.end]!r}")
    return per_entity, errors


def micro(scores: dict[str, Scores]) -> Scores:
    total = Scores()
    for s in scores.values():
        total.tp += s.tp
        total.fp += s.fp
        total.fn += s.fn
    return total


def report(seed: int, docs_per_split: int, markdown: bool, show_errors: int) -> dict[str, float]:
    engine = DetectionEngine(cache_size=0, names=None)  # names=None: PERSON on, as in default_engine()
    corpus = list(generate(seed, docs_per_split))
    splits: dict[str, list[Document]] = defaultdict(list)
    for doc in corpus:
        splits[doc.split].append(doc)
    summary: dict[str, float] = {}
    for split in ("clean", "evasion"):
        scores, errors = evaluate(splits[split], engine)
        total = micro(scores)
        summary[f"{split}_micro_f1"] = total.f1
        print(f"\n### {split} split ({len(splits[split])} documents, {total.tp + total.fn} entities)\n")
        _table(scores, total, markdown)
        for line in errors[:show_errors]:
            print("   ", line)
    negatives = splits["hard_negative"]
    flagged = Counter()
    flagged_docs = 0
    for doc in negatives:
        found = engine.scan(doc.text).findings
        flagged_docs += bool(found)
        flagged.update(f.type for f in found)
        if found and show_errors:
            print("    FP", [(f.type, doc.text[f.start:f.end]) for f in found])
    rate = flagged_docs / len(negatives)
    summary["hard_negative_flagged"] = rate
    print(f"\n### hard-negative split ({len(negatives)} documents)\n")
    print(f"documents flagged: {flagged_docs} ({rate:.2%}); by type: {dict(flagged) or '-'}")
    return summary


def _table(scores: dict[str, Scores], total: Scores, markdown: bool) -> None:
    rows = [(name, s) for name, s in sorted(scores.items())] + [("**micro**" if markdown else "micro", total)]
    if markdown:
        print("| entity | precision | recall | F1 | support |")
        print("|---|---:|---:|---:|---:|")
        for name, s in rows:
            print(f"| {name} | {s.precision:.3f} | {s.recall:.3f} | {s.f1:.3f} | {s.tp + s.fn} |")
    else:
        print(f"{'entity':24} {'prec':>6} {'recall':>6} {'F1':>6} {'n':>5}")
        for name, s in rows:
            print(f"{name:24} {s.precision:6.3f} {s.recall:6.3f} {s.f1:6.3f} {s.tp + s.fn:5d}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--docs", type=int, default=600, help="documents per split")
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("--errors", type=int, default=0, help="show this many misses per split")
    args = parser.parse_args()
    summary = report(args.seed, args.docs, args.markdown, args.errors)
    print("\n" + " ".join(f"{k}={v:.4f}" for k, v in summary.items()))


if __name__ == "__main__":
    main()
