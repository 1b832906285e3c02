"""Recall and false positives of the default engine on peers' public test cases.

    python benchmarks/peers/evaluate.py                # summary per source
    python benchmarks/peers/evaluate.py --per-rule     # every rule / entity, worst first
    python benchmarks/peers/evaluate.py --misses gcp   # the texts a rule or entity missed
    python benchmarks/peers/evaluate.py --bare-numbers      # plus the opt-in weak-checksum recognizers
    python benchmarks/peers/evaluate.py --by-presidio-score # Presidio's supported positives by the score its own
                                                            # test expects of its recognizer

Data (``data/*.jsonl``, texts base64-encoded) is made by ``extract_gitleaks.py`` and ``extract_presidio.py``
from the peers' own repositories. A positive case counts as found when the engine reports a finding of the
expected kind that overlaps the expected value (gitleaks: any secret finding, since their cases do not mark
the value); a negative case is a false positive when it does. ``supported`` leaves out the rules and entity
types listed in ``UNSUPPORTED`` (see docs/detection.md, "Not detected").
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from deepsentinel.detection import DetectionEngine
from deepsentinel.detection.findings import Category
from deepsentinel.detection.recognizers import BARE_NUMBER_RECOGNIZERS, BUILTIN_RECOGNIZERS

sys.path.insert(0, str(Path(__file__).resolve().parent))
from extract_presidio import OURS  # noqa: E402

DATA = Path(__file__).resolve().parent / "data"

# Rules and entity types we do not claim to detect (documented in docs/detection.md).
UNSUPPORTED = frozenset({
    # gitleaks: keys without any prefix whose only mark is a generic word, or formats we leave out.
    "generic-api-key", "kubernetes-secret-yaml", "pkcs12-file", "facebook-access-token", "jwt-base64",
    "sourcegraph-access-token", "hashicorp-tf-password", "sidekiq-secret", "sidekiq-sensitive-url",
    "aws-amazon-bedrock-api-key-short-lived", "nuget-config-password", "freemius-secret-key",
    # Presidio entity types without a recognizer here.
    "URL", "DATE_TIME", "NRP", "LOCATION",
})

# Entity types we detect only after a label word, while Presidio's cases are mostly the bare value (licence
# plates, see docs/detection.md "Not detected"): reported as their own scope, not counted as supported.
LABEL_ONLY = frozenset({"DE_KFZ", "UK_VEHICLE_REGISTRATION", "IN_VEHICLE_REGISTRATION", "NG_VEHICLE_REGISTRATION",
                        "TR_LICENSE_PLATE"})

UNSUPPORTED_SEEN: set[str] = set()  # Presidio entity types the data marks as having no recognizer here


@dataclass
class Tally:
    tp: int = 0
    fn: int = 0
    fp: int = 0
    tn: int = 0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def fp_rate(self) -> float:
        return self.fp / (self.fp + self.tn) if self.fp + self.tn else 0.0


def load(source: str) -> list[dict[str, object]]:
    cases = []
    for line in (DATA / f"{source}.jsonl").read_text().splitlines():
        case = json.loads(line)
        case["text"] = base64.b64decode(case.pop("text_b64")).decode()
        if "entity" in case:  # Presidio: the mapping as it is now, not as it was when the data was extracted
            case["entity"] = OURS.get(str(case["key"]))
        cases.append(case)
    return cases


def hit(engine: DetectionEngine, case: dict[str, object]) -> bool:
    """Whether the engine reports what the case is about."""
    text = str(case["text"])
    findings = engine.scan(text).findings
    if "entity" not in case:  # gitleaks: any secret
        return any(f.category is Category.SECRET for f in findings)
    if case["entity"] is None:  # a type we have no recognizer for: any finding on the value
        wanted = {f.type for f in findings}
    else:
        wanted = set(case["entity"]) if isinstance(case["entity"], list) else {case["entity"]}
    spans = case.get("spans") or [[0, len(text)]]
    return any(f.type in wanted and any(f.start < e and s < f.end for s, e in spans)  # type: ignore[misc]
               for f in findings)


def evaluate(source: str, engine: DetectionEngine) -> tuple[dict[str, Tally], list[tuple[str, str, str]]]:
    per_key: dict[str, Tally] = defaultdict(Tally)
    misses = []
    for case in load(source):
        key = str(case.get("rule") or case.get("key"))
        if "entity" in case and case["entity"] is None:
            UNSUPPORTED_SEEN.add(key)
        found = hit(engine, case)
        tally = per_key[key]
        if case["label"] == "tp":
            tally.tp += found
            tally.fn += not found
            if not found:
                misses.append((key, "FN", str(case["text"])))
        else:
            tally.fp += found
            tally.tn += not found
            if found:
                misses.append((key, "FP", str(case["text"])))
    return per_key, misses


def by_presidio_score(engine: DetectionEngine) -> dict[str, Tally]:
    """Presidio's supported positives split by the score its own test expects of its recognizer, before context
    (``presidio_score``): below 0.5 Presidio itself calls the value weak (a bare shape, 0.05-0.4)."""
    buckets: dict[str, Tally] = defaultdict(Tally)
    for case in load("presidio"):
        key = str(case["key"])
        if case["label"] != "tp" or case["entity"] is None or key in UNSUPPORTED or key in LABEL_ONLY:
            continue
        score = case.get("presidio_score")
        bucket = "not given" if not isinstance(score, (int, float)) else ">= 0.5" if score >= 0.5 else "< 0.5"
        found = hit(engine, case)
        buckets[bucket].tp += found
        buckets[bucket].fn += not found
    return buckets


def summary(per_key: dict[str, Tally], supported_only: bool, label_only: bool = False) -> Tally:
    total = Tally()
    for key, t in per_key.items():
        if label_only and key not in LABEL_ONLY:
            continue
        if supported_only and (key in UNSUPPORTED or key in UNSUPPORTED_SEEN or key in LABEL_ONLY):
            continue
        total.tp += t.tp
        total.fn += t.fn
        total.fp += t.fp
        total.tn += t.tn
    return total


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--per-rule", action="store_true")
    parser.add_argument("--misses", default=None)
    parser.add_argument("--sources", default="gitleaks,presidio")
    parser.add_argument("--bare-numbers", action="store_true",
                        help="add the opt-in BARE_NUMBER_RECOGNIZERS (weak checksums alone) to the catalog")
    parser.add_argument("--by-presidio-score", action="store_true",
                        help="Presidio's supported positives by the score its own test expects of its recognizer")
    args = parser.parse_args()
    engine = DetectionEngine(BUILTIN_RECOGNIZERS + (BARE_NUMBER_RECOGNIZERS if args.bare_numbers else ()), names=None)
    print("| source | scope | positives | recall | negatives | false positives |\n|---|---|---|---|---|---|")
    for source in args.sources.split(","):
        per_key, misses = evaluate(source, engine)
        for scope, only, labelled in (("supported", True, False), ("label-only", False, True), ("all", False, False)):
            t = summary(per_key, only, labelled)
            if t.tp + t.fn + t.fp + t.tn:
                print(f"| {source} | {scope} | {t.tp + t.fn} | {t.recall:.1%} | {t.fp + t.tn} | {t.fp_rate:.1%} |")
        if args.per_rule:
            for key, t in sorted(per_key.items(), key=lambda kv: (kv[1].recall, -kv[1].fp)):
                flag = (" (unsupported)" if key in UNSUPPORTED or key in UNSUPPORTED_SEEN
                        else " (label only)" if key in LABEL_ONLY else "")
                print(f"  {key}{flag}: recall {t.recall:.0%} ({t.tp}/{t.tp + t.fn}), fp {t.fp}/{t.fp + t.tn}")
        if args.misses:
            for key, kind, text in misses:
                if args.misses in key:
                    print(f"  {kind} {key}: {text[:160]!r}", file=sys.stderr)
    if args.by_presidio_score:
        print("\n| Presidio's own score (its test, before context) | positives | recall |\n|---|---|---|")
        for bucket, t in sorted(by_presidio_score(engine).items()):
            print(f"| {bucket} | {t.tp + t.fn} | {t.recall:.1%} |")


if __name__ == "__main__":
    main()
