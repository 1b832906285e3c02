"""safe_boundary on cases found in review: prose is held by one word, and group runs start mid-token."""

from __future__ import annotations

import pytest

from deepsentinel.detection.engine import DetectionEngine

ENGINE = DetectionEngine(cache_size=0)


@pytest.mark.parametrize(
    ("text", "held"),
    [
        ("I bought a new car and then drove it home and", "and"),  # "a" is an article, not a partial "at"
        ("meet me at the station at noon and then", "then"),  # words after "at" that spell no domain
        ("routing jane a", "jane a"),  # ... but a trailing "a" may still become "at"
        ("write to bob at example d", "bob at example d"),  # a domain in progress, with a partial "dot"
        ("bob [at] example [dot] com and", "and"),
    ],
)
def test_prose_is_held_back_by_as_little_as_possible(text: str, held: str) -> None:
    assert text[ENGINE.safe_boundary(text):] == held


@pytest.mark.parametrize(
    "doc",
    [
        "SSN 4111 1111 1111 1111order #AB 12 34 56 C",  # a NINO starting after '#' inside a token
        "write to bob at example dot com please",
        "0000card jane at example dot com\u200b000000000000routing jane at example dot com/SSN",
    ],
)
def test_findings_before_the_boundary_never_change(doc: str) -> None:
    """For every prefix, the findings that start before its boundary are those of the whole text."""
    whole = ENGINE.scan(doc).findings
    for cut in range(len(doc) + 1):
        prefix = doc[:cut]
        k = ENGINE.safe_boundary(prefix)
        before = [(f.type, f.start, f.end) for f in ENGINE.scan(prefix).findings if f.start < k]
        after = [(f.type, f.start, f.end) for f in whole if f.start < k]
        assert before == after, (cut, k)
