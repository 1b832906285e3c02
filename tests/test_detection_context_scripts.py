"""Context words outside ASCII: accented Latin labels, Thai and Korean labels name the value after them.

Before, a word ending in a non-ASCII letter never matched (``\\b`` under ``re.ASCII`` sees no word there), and
the prefilter, which sees each non-ASCII character as one byte, never let its pattern run.
"""

from __future__ import annotations

import pytest

from deepsentinel.detection import DetectionEngine
from deepsentinel.detection.prefilter import hyperscan_available
from deepsentinel.detection.recognizer import context_regex

BACKENDS = ["re2", "none"] + (["hyperscan"] if hyperscan_available() else [])
ENGINES = {b: DetectionEngine(names=None, prefilter=b, cache_size=0) for b in BACKENDS}  # type: ignore[arg-type]


def _types(backend: str, text: str) -> set[str]:
    return {f.type for f in ENGINES[backend].scan(text).findings}


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(("text", "entity"), [
    ("Carta d'identità AA1234567", "IT_IDENTITY_CARD"),
    ("carta di identita: AA1234567", "IT_IDENTITY_CARD"),  # typed without the accent
    ("carta d'identita\u0300 AA1234567", "IT_IDENTITY_CARD"),  # the accent as a combining mark
    ("เลขประจำตัวประชาชน: 3456789012347", "TH_TNIN"),  # Presidio's case
    ("เลขบัตรประชาชน 2345678901234", "TH_TNIN"),  # Presidio's case
    ("ผู้ถือเลขประจำตัวประชาชน 3456789012347", "TH_TNIN"),  # no space before the label: Thai has none
    ("사업자등록번호는 1048656659", "KR_BRN"),  # a particle right after the label
])
def test_a_label_in_another_script_names_the_value(backend: str, text: str, entity: str) -> None:
    """The value after a non-ASCII label is found, by every prefilter backend alike."""
    assert entity in _types(backend, text)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(("text", "entity"), [
    ("carta d'identitàx AA1234567", "IT_IDENTITY_CARD"),  # a longer word, not the label
    ("ข้อมูล 3456789012347", "TH_TNIN"),  # Thai text, but no ID label ("data")
    ("ประชาชน 3456789012347", "TH_TNIN"),  # "citizens" alone is no label
    ("사업자 1048656659", "KR_BRN"),  # "business" alone
])
def test_text_in_the_same_script_without_the_label_is_not_enough(backend: str, text: str, entity: str) -> None:
    """The gate lets the pattern run on any text of that script; the exact words still decide."""
    assert entity not in _types(backend, text)


def test_the_gate_stands_for_non_ascii_characters_as_the_prefilter_sees_them() -> None:
    """The prefilter gate matches a Thai label as one non-ASCII unit per character, never its UTF-8 bytes."""
    gate = context_regex(("บัตรประชาชน", "tnin"))
    assert "บ" not in gate and r"[^\x00-\x7f]" in gate and r"\btnin\b" in gate
