"""Evasion resistance: disguised values are found, and offsets point at the original characters."""

from __future__ import annotations

import pytest

from deepsentinel.detection import DetectionEngine, normalize

ENGINE = DetectionEngine(cache_size=0)
FW = {chr(c): chr(c + 0xFEE0) for c in range(0x21, 0x7F)}

CASES = [
    ("CREDIT_CARD", "".join(FW.get(c, c) for c in "4111 1111 1111 1111")),  # full-width digits
    ("CREDIT_CARD", "\u200b".join("4111111111111111")),  # zero-width space between every digit
    ("CREDIT_CARD", "4 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1"),  # spaced digits
    ("CREDIT_CARD", "4111.1111.1111.1111"),  # dots
    ("CREDIT_CARD", "4111\n1111\n1111\n1111"),  # line breaks
    ("CREDIT_CARD", "4111\u20131111\u20131111\u20131111"),  # en dashes
    ("CREDIT_CARD", "4111\u00a01111\u00a01111\u00a01111"),  # non-breaking spaces
    ("CREDIT_CARD", "\u0664\u0661\u0661\u0661 1111 1111 1111"),  # Arabic-Indic digits
    ("US_SSN", "536\u2060-22\ufeff-1234"),  # invisible joiners
    ("US_SSN", "".join(FW.get(c, c) for c in "536-22-1234")),
    ("EMAIL_ADDRESS", "j\u0430ne@ex\u0430mple.com"),  # Cyrillic a
    ("EMAIL_ADDRESS", "jane\uff20example.com"),  # full-width @
    ("EMAIL_ADDRESS", "jane at example dot com"),
    ("EMAIL_ADDRESS", "jane [at] example [dot] co [dot] uk"),
    ("EMAIL_ADDRESS", "jane(at)example(dot)org"),
    ("EMAIL_ADDRESS", "jane@example dot com"),
    ("AWS_ACCESS_KEY", "AKIA\u200b" + "Q3VZ7RTMWK2LPX4N"),
    ("GITHUB_TOKEN", "".join(FW.get(c, c) for c in "ghp_" + "a1B2c3" * 6)),
]


@pytest.mark.parametrize(("entity", "value"), CASES, ids=[f"{e}-{i}" for i, (e, _) in enumerate(CASES)])
def test_disguised_value_is_found_and_spans_the_original(entity: str, value: str) -> None:
    """The finding covers exactly the disguised characters of the original text."""
    text = f"please use {value} now"
    findings = ENGINE.scan(text).findings
    assert [(f.type, text[f.start:f.end]) for f in findings] == [(entity, value)]


def test_redaction_by_original_offsets_removes_the_value() -> None:
    """Replacing [start:end] in the original leaves nothing detectable."""
    text = "card " + "\u200b".join("4111111111111111") + " and mail j\u0430ne@example.com"
    findings = ENGINE.scan(text).findings
    assert len(findings) == 2
    for f in sorted(findings, key=lambda f: -f.start):
        text = text[: f.start] + "[X]" + text[f.end :]
    assert text == "card [X] and mail [X]"
    assert not ENGINE.scan(text).findings


def test_ascii_text_is_not_copied_or_mapped() -> None:
    """The common case costs nothing: ASCII text is used as is, without an offset map."""
    norm = normalize("plain ascii")
    assert not norm.mapped and norm.original_index(3) == 3


def test_normalisation_maps_every_character_back() -> None:
    """Dropped invisibles and expanded characters map to their original positions."""
    norm = normalize("a\u200bb\ufb01c")  # zero-width space; 'fi' ligature expands to two characters
    assert norm.text == "abfic"
    assert [norm.original_index(i) for i in range(len(norm.text))] == [0, 2, 3, 3, 4]
    assert norm.original_end(4) == 4  # the ligature's end is the end of the original character


def test_spelled_out_at_in_prose_is_not_an_email() -> None:
    """'look at this dot com' reads as prose, not as an address."""
    assert not ENGINE.scan("go look at example dot com later").findings


@pytest.mark.parametrize(("text", "entity", "value"), [
    ("write to jane%40example.com today", "EMAIL_ADDRESS", "jane%40example.com"),
    ("SSN&#58; 536&#45;22&#45;1234 on file", "US_SSN", "536&#45;22&#45;1234"),
    ("mail jane&commat;example&period;com now", "EMAIL_ADDRESS", "jane&commat;example&period;com"),
    ("card 4111&#x20;1111&#x20;1111&#x20;1111 ok", "CREDIT_CARD", "4111&#x20;1111&#x20;1111&#x20;1111"),
    ("SSN%3A%20536%2D22%2D1234", "US_SSN", "536%2D22%2D1234"),
])
def test_url_and_html_escapes_are_decoded_and_map_back(text: str, entity: str, value: str) -> None:
    """URL escapes and HTML character references hide nothing; the finding covers the escaped original."""
    findings = [f for f in ENGINE.scan(text).findings if f.type == entity]
    assert [text[f.start:f.end] for f in findings] == [value]


def test_an_unknown_entity_name_is_left_as_written() -> None:
    """'&bogus;' is no character reference: it stays, and offsets after it do not move."""
    norm = normalize("a &bogus; b &amp; c")
    assert norm.text == "a &bogus; b & c"
    assert norm.original_index(len("a &bogus; b & ")) == len("a &bogus; b &amp; ")


def test_the_offset_map_of_a_long_text_records_only_changed_units() -> None:
    """A long text with two escapes keeps two map entries, not one per character."""
    text = "x" * 100_000 + "\u00e9t\u00e9 " * 1000 + "jane%40example.com \ufb01"
    norm = normalize(text)
    assert len(norm._norm) == 2
    assert norm.original_end(len(norm.text)) == len(text)
    assert norm.original_index(len(norm.text) - 2) == len(text) - 1  # the two letters of the ligature
