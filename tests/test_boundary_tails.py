"""The stream guard's open-tail search was rewritten for speed (see ``boundary._OPEN_TAILS``): it must find the
same earliest start as the patterns as first written, on any text and from any position."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from deepsentinel.detection.boundary import _OPEN_TAIL
from deepsentinel.detection.recognizers.fragments import MONTH

# The reference: the tails as first written (a look-behind first, greedy words that backtrack).
_REFERENCE = re.compile("|".join(f"(?:{p})" for p in (
    r"(?<![0-9A-Za-z_])[0-9]{1,6}(?:[ \t]+(?:[A-Z][A-Za-z]{0,20}\.?,?|[0-9]{1,3}(?:st|nd|rd|th)?\.?,?|"
    r"#?[0-9][0-9A-Za-z\-]{0,5}|#))*[ \t]*\Z",
    rf"(?<![0-9A-Za-z_]){MONTH}\.?(?:[ \t]+[0-9]{{1,2}}(?:st|nd|rd|th)?,?)?(?:[ \t]+[0-9]{{0,4}})?[ \t]*\Z",
    r"(?<![0-9A-Za-z_])[0-9]{1,2}(?:st|nd|rd|th)?(?:[ \t]+(?:of[ \t]+)?[A-Za-z]{0,9}\.?,?)?(?:[ \t]+[0-9]{0,4})?[ \t]*\Z",
    r"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9._%+\-]{1,64}"
    r"(?:(?:[ \t]{1,2}|[ \t]{0,2}[\[\(\{<][ \t]?)(?i:a)\Z|"
    r"(?:(?:[ \t]{1,2}|[ \t]{0,2}[\[\(\{<][ \t]?)(?i:at)(?![A-Za-z])|[ \t]{0,2}@)"
    r"[ \t\]\)\}>]{0,3}[A-Za-z0-9\-]{0,63}"
    r"(?:(?:[ \t]{0,2}\.|[ \t]{1,2}[\[\(\{<]?[ \t]?(?i:dot)[ \t]?[\]\)\}>]?|[ \t]{0,2}[\[\(\{<][ \t]?(?i:dot)"
    r"[ \t]?[\]\)\}>]?)[ \t]{0,2}[A-Za-z0-9\-]{0,63}){0,9}"
    r"(?:[ \t]{1,2}[\[\(\{<]?[ \t]?(?i:do?))?)?[ \t\[\(\{<\]\)\}>]*\Z",
)))

_TOKENS = ["at", "AT", "a", "A", "dot", "do", "@", ".", " ", "  ", "\t", "[", "]", "(", ")", "<", ">", "{", "}",
           "jane", "x", "y_z", "221", "3", "3rd", "21st", "of", "March", "mar", "MAY", "Sept", "dec", "1990", "19",
           "St", "Baker", ",", "-", "_", "%", "+", "é", "\n", "example", "com", "#", "4b", "Apt", "a" * 70]


@settings(max_examples=3000)
@given(tokens=st.lists(st.sampled_from(_TOKENS), max_size=16), at=st.integers(0, 400))
def test_the_open_tail_search_finds_the_same_start_as_the_reference(tokens: list[str], at: int) -> None:
    text = "".join(tokens)
    pos = min(at, len(text))
    found, expected = _OPEN_TAIL.search(text, pos), _REFERENCE.search(text, pos)
    assert (found.start() if found else None) == (expected.start() if expected else None)


@given(text=st.text(alphabet=st.sampled_from("aAtTdoO@.3 \t[]()<>#-_%+xéJjM\n,s"), max_size=60))
def test_the_same_start_on_any_text_of_the_relevant_characters(text: str) -> None:
    for pos in (0, len(text) // 2, len(text)):
        found, expected = _OPEN_TAIL.search(text, pos), _REFERENCE.search(text, pos)
        assert (found.start() if found else None) == (expected.start() if expected else None)


MONTHS = ["January", "feb", "MAR", "apr", "May", "june", "Jul", "aug", "Sept", "oct", "November", "dec", "Dec", "DECEMBER"]


def test_each_kind_of_tail_in_progress_starts_where_the_reference_starts() -> None:
    """Shapes that only one tail reaches back to (random tokens rarely line them up)."""
    texts = [f"Due by {m} 3, 19" for m in MONTHS] + [f"on 3rd of {m}" for m in MONTHS] + [
        "Ship to 221 Baker St", "at 12 W 3rd Ave, Apt 4", "born 3 March 199", "write to jane at example dot co",
        "mail jane [at] example [dot] org", "contact jane@exa", "x" * 80 + " at example", "see 4b-12 #",
    ]
    for text in texts:
        for pos in range(len(text) + 1):
            found, expected = _OPEN_TAIL.search(text, pos), _REFERENCE.search(text, pos)
            assert (found.start() if found else None) == (expected.start() if expected else None), (text, pos)
    assert _OPEN_TAIL.search("Due by dec 3, 19").start() == len("Due by ")  # type: ignore[union-attr]
