"""Peers' public test cases (gitleaks' rule examples, Presidio's recognizer tests) as a quality floor.

The data is made by ``benchmarks/peers/extract_*.py``; ``benchmarks/peers/evaluate.py`` prints the full table.
The floors are the measured figures rounded down, so a change that loses recall or adds false positives fails.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks" / "peers"))

from evaluate import evaluate, summary  # noqa: E402

from deepsentinel.detection import DetectionEngine  # noqa: E402

FLOORS = {"gitleaks": (0.95, 0.02), "presidio": (0.74, 0.01)}  # targets: recall 0.95, fp 0.02


@pytest.mark.timeout(120)
@pytest.mark.parametrize("source", sorted(FLOORS))
def test_peer_cases_recall_and_false_positives(source: str) -> None:
    """Recall on the supported rules/entities and the false-positive rate on the peers' negatives hold."""
    if not (Path(__file__).resolve().parents[1] / "benchmarks" / "peers" / "data" / f"{source}.jsonl").exists():
        pytest.fail(f"missing data file for {source}")
    per_key, _ = evaluate(source, DetectionEngine(names=None))
    total = summary(per_key, supported_only=True)
    min_recall, max_fp = FLOORS[source]
    assert total.recall >= min_recall
    assert total.fp_rate <= max_fp
