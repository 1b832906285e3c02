"""Peers' public test cases (gitleaks' rule examples, Presidio's recognizer tests) as a quality floor.

The data is made by ``benchmarks/peers/extract_*.py``; ``benchmarks/peers/evaluate.py`` prints the full table.
The floors are the measured figures rounded down, so a change that loses recall or adds false positives fails.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks" / "peers"))

from evaluate import evaluate, load, summary  # noqa: E402

from deepsentinel.detection import DetectionEngine  # noqa: E402

FLOORS = {"gitleaks": (0.95, 0.02), "presidio": (0.77, 0.01)}  # targets: recall 0.95, fp 0.02


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


def test_presidio_ner_rows_keep_their_own_entity() -> None:
    """Presidio's NER tables mix PERSON and DATE_TIME rows (``entity_num``): no date is counted as a PERSON case."""
    cases = load("presidio")
    person = [str(c["text"]) for c in cases if c["key"] == "PERSON"]
    dates = [str(c["text"]) for c in cases if c["key"] == "DATE_TIME"]
    assert person and "Richard M. Nixon" in person
    assert "1972" in dates and not any(t in ("1972", "May 1st") for t in person)
    assert all(c["entity"] == "PERSON" for c in cases if c["key"] == "PERSON")  # a type we detect: supported


def test_presidio_scores_come_from_its_own_tests() -> None:
    """Each positive carries the score Presidio's test expects of its recognizer where the table gives one."""
    by_text = {(c["key"], c["text"]): c.get("presidio_score") for c in load("presidio") if c["label"] == "tp"}
    assert by_text[("CA_SIN", "130 692 544")] == pytest.approx(0.81)  # grouped: Presidio's medium score
    assert by_text[("CA_SIN", "130692544")] == pytest.approx(0.3)  # bare digits: Presidio's weak score
