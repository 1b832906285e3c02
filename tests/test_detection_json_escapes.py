"""JSON string escapes (tool-call arguments, prompts carrying JSON) hide nothing, and offsets stay exact."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deepsentinel.detection import DetectionEngine
from tests.test_detection_properties import documents

ENGINE = DetectionEngine(cache_size=0)


def escape(ch: str) -> str:
    return "\\/" if ch == "/" else f"\\u{ord(ch):04x}"


@st.composite
def escaped_documents(draw: st.DrawFn) -> str:
    """A document with some of its characters written as JSON escapes."""
    doc = draw(documents())
    picks = draw(st.lists(st.booleans(), min_size=len(doc), max_size=len(doc)))
    rate = draw(st.sampled_from([0, 3, 8]))  # none, some, most
    return "".join(escape(c) if p and (i % 10) < rate else c for i, (c, p) in enumerate(zip(doc, picks, strict=True)))


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        ("mail jane\\u0040example.com now", "EMAIL_ADDRESS", "jane\\u0040example.com"),
        ("https:\\/\\/admin:" + "S3cr3tpw" + "@db.example.com", "URL_WITH_CREDENTIALS", None),
        ("card 4111\\u00201111\\u00201111\\u00201111", "CREDIT_CARD", "4111\\u00201111\\u00201111\\u00201111"),
        ("ssn \\u0031\\u0032\\u0033-45-6789", "US_SSN", "\\u0031\\u0032\\u0033-45-6789"),
    ],
)
def test_escaped_values_are_found_with_exact_offsets(text: str, kind: str, value: str | None) -> None:
    (finding,) = [f for f in ENGINE.scan(text).findings if f.type == kind]
    if value is not None:
        assert text[finding.start : finding.end] == value


def test_backslashes_that_are_no_escapes_change_nothing() -> None:
    text = "C:\\temp\\new \\n and \\\\ but no escape"
    assert ENGINE.scan(text).findings == ()


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(escaped_documents(), st.data())
def test_safe_boundary_holds_with_escapes(doc: str, data: st.DataObject) -> None:
    """The safe_boundary contract holds when values arrive as JSON escapes, cut anywhere (mid-escape too)."""
    cut = data.draw(st.integers(0, len(doc)))
    prefix = doc[:cut]
    k = ENGINE.safe_boundary(prefix)
    before = [(f.type, f.start, f.end) for f in ENGINE.scan(prefix).findings if f.start < k]
    after = [(f.type, f.start, f.end) for f in ENGINE.scan(doc).findings if f.start < k]
    assert before == after, (prefix, k)
    assert all(end <= k for _, _, end in before)


@settings(max_examples=150, deadline=None)
@given(escaped_documents())
def test_offsets_cover_whole_escapes(doc: str) -> None:
    """No finding starts or ends inside an escape: redaction replaces whole escapes."""
    escapes = [m.span() for m in re.finditer(r"\\u[0-9a-fA-F]{4}|\\/", doc)]
    for f in ENGINE.scan(doc).findings:
        assert 0 <= f.start < f.end <= len(doc)
        for s, e in escapes:
            assert not s < f.start < e and not s < f.end < e, (doc, f)


def test_escapes_in_ascii_text_are_found_where_a_full_scan_finds_them() -> None:
    """ASCII text is searched for escapes only at backslashes, percent signs and ampersands: same escapes as a
    regex scan of every position (random texts of escape fragments, and one full of backslashes)."""
    import random

    from deepsentinel.detection import normalizer

    rng = random.Random(11)
    pieces = ["\\", "u", "0", "4", "/", "%", "2F", "&", "#", "6", ";", "amp", "lt;", "x", " ", "\\u0041", "&#x41;"]
    texts = ["".join(rng.choice(pieces) for _ in range(rng.randint(0, 40))) for _ in range(5000)]
    texts.append("\\" * 5000 + "\\u0040")
    for text in texts:
        expected = [m.span() for m in normalizer._SPECIAL.finditer(text)]
        assert [m.span() for m in normalizer._specials(text)] == expected, text
