"""Presidio itself on its own recognizer test cases, counted the way ``evaluate.py`` counts ours.

    pip install -e '.[bench]'          # presidio-analyzer
    python benchmarks/peers/presidio_baseline.py

Two configurations of Presidio's pattern recognizers (no NLP model, so no context enhancement; the URL
recognizer is left out: it fetches the public-suffix list):

* ``default (en)``: the recognizers Presidio's default registry loads for English. Most country-specific ones
  ship disabled (``enabled: false`` in its ``default_recognizers.yaml``) or for another language;
* ``all enabled``: every predefined pattern recognizer, as its own unit tests run them.

Each at score > 0 (Presidio's default ``score_threshold`` is 0) and at >= 0.5. Cases are the supported ones of
``data/presidio.jsonl`` (PERSON, found by Presidio's NER recognizers only, is left out here). A positive counts
when a result of Presidio's entity type overlaps the expected span, a negative when any result of that type is
reported.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from evaluate import UNSUPPORTED, Tally, load  # noqa: E402  (before bench_detection puts corpus/evaluate.py first)

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_detection import presidio_recognizers  # noqa: E402


def _default_en() -> list[Any]:
    from presidio_analyzer import PatternRecognizer, RecognizerRegistry

    registry = RecognizerRegistry()
    registry.load_predefined_recognizers(languages=["en"])
    return [r for r in registry.recognizers if isinstance(r, PatternRecognizer) and "Url" not in type(r).__name__]


def measure(recognizers: Sequence[Any], threshold: float) -> Tally:
    """Presidio's recall and false positives on the supported cases at ``threshold`` (0: any score > 0)."""
    tally = Tally()
    for case in load("presidio"):
        key = str(case["key"])
        if case["entity"] is None or key in UNSUPPORTED or key == "PERSON":
            continue
        text = str(case["text"])
        spans = case.get("spans") or [[0, len(text)]]
        results = [res for r in recognizers if key in r.supported_entities for res in r.analyze(text, [key], None)]
        found = any(res.entity_type == key and res.score > 0 and res.score >= threshold
                    and any(res.start < e and s < res.end for s, e in spans)  # type: ignore[attr-defined]
                    for res in results)
        if case["label"] == "tp":
            tally.tp += found
            tally.fn += not found
        else:
            tally.fp += found
            tally.tn += not found
    return tally


def main() -> None:
    print("| Presidio configuration | score | positives | recall | negatives | false positives |\n"
          "|---|---|---|---|---|---|")
    for name, recognizers in (("default (en)", _default_en()), ("all enabled", presidio_recognizers())):
        for threshold, label in ((0.0, "> 0"), (0.5, ">= 0.5")):
            t = measure(recognizers, threshold)
            print(f"| {name} ({len(recognizers)} recognizers) | {label} | {t.tp + t.fn} | {t.recall:.1%} "
                  f"| {t.fp + t.tn} | {t.fp_rate:.1%} |")


if __name__ == "__main__":
    main()
