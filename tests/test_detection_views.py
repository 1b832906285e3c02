"""Disguises undone by a second pass: any separator, every digit spaced, digit words, defanged e-mails, base64
and hex. Findings always map back onto the disguised characters of the original text."""

from __future__ import annotations

import base64

import pytest

from deepsentinel.detection import DetectionEngine

ENGINE = DetectionEngine(cache_size=0)
SSN = "536-22-1234"


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@pytest.mark.parametrize(("text", "entity", "value"), [
    ("SSN 536 22 1234", "US_SSN", "536 22 1234"),
    ("SSN 536\n22\n1234", "US_SSN", "536\n22\n1234"),
    ("SSN 536/22/1234", "US_SSN", "536/22/1234"),
    ("SSN 536_22_1234", "US_SSN", "536_22_1234"),
    ("SSN 536,22,1234", "US_SSN", "536,22,1234"),
    ("SSN 536.22.1234", "US_SSN", "536.22.1234"),
    ("SSN 536 /22_1234", "US_SSN", "536 /22_1234"),
    ("SSN 5 3 6 2 2 1 2 3 4", "US_SSN", "5 3 6 2 2 1 2 3 4"),
    ("SSN 5\n3\n6\n2\n2\n1\n2\n3\n4", "US_SSN", "5\n3\n6\n2\n2\n1\n2\n3\n4"),
    ("my SSN is five three six two two one two three four.", "US_SSN",
     "five three six two two one two three four"),
    ("card 4111/1111/1111/1111", "CREDIT_CARD", "4111/1111/1111/1111"),
    ("card 4111_1111_1111_1111", "CREDIT_CARD", "4111_1111_1111_1111"),
    ("card 4111,1111,1111,1111", "CREDIT_CARD", "4111,1111,1111,1111"),
    ("card 4 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1", "CREDIT_CARD", "4 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1"),
    ("call 6 1 7 4 6 4 6 0 8 3", "PHONE_NUMBER", "6 1 7 4 6 4 6 0 8 3"),
    ("call 617/464/6083", "PHONE_NUMBER", "617/464/6083"),
    ("mail jane[@]example[.]com", "EMAIL_ADDRESS", "jane[@]example[.]com"),
    ("mail jane(at)example(dot)com", "EMAIL_ADDRESS", "jane(at)example(dot)com"),
    ("mail jane [at] example [dot] com", "EMAIL_ADDRESS", "jane [at] example [dot] com"),
    ("hex 3533362d32322d31323334 end", "US_SSN", "3533362d32322d31323334"),
])
def test_a_disguised_value_is_found_over_its_original_characters(text: str, entity: str, value: str) -> None:
    """Each disguise is read as the value; the finding covers exactly the disguised characters."""
    found = [(f.type, text[f.start:f.end]) for f in ENGINE.scan(text).findings]
    assert found == [(entity, value)]


def test_a_base64_value_maps_onto_the_encoded_characters() -> None:
    """A value inside base64 text is found, and redacting its span removes every encoded character of it."""
    blob = _b64(f"note: my ssn is {SSN} thanks")
    text = f"attachment {blob} end"
    findings = ENGINE.scan(text).findings
    assert [f.type for f in findings] == ["US_SSN"]
    f = findings[0]
    assert text.index(blob) <= f.start < f.end <= text.index(blob) + len(blob)
    redacted = text[:f.start] + "A" * (f.end - f.start) + text[f.end:]
    assert SSN.encode() not in base64.b64decode(redacted.split()[1] + "==", validate=False)


def test_url_safe_base64_and_a_secret_inside_are_found() -> None:
    """base64url tokens decode too; a secret inside one is a secret."""
    token = "ghp_" + "R4nd0mT0k3nV4lu3" * 2 + "Ab12"  # a repeated "a1B2" now reads as a dummy
    text = "cfg " + base64.urlsafe_b64encode(f"token={token}".encode()).decode().rstrip("=")
    assert "GITHUB_TOKEN" in ENGINE.scan(text).types()


@pytest.mark.parametrize("text", [
    "version 1.2.3 released on 2024-11-05 at 10:30, build 4521",
    "totals 1,234,567.89 and 2,345,678.90",
    "sha 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "identifier ThisIsAVeryLongIdentifierName and resize_and_store_thumbnails",
    "we met at one two three different places",
])
def test_ordinary_numbers_and_tokens_stay_quiet(text: str) -> None:
    """Dates, amounts, versions, hashes and identifiers are not turned into values."""
    assert ENGINE.scan(text).findings == ()


def test_a_finished_run_followed_by_a_word_is_released() -> None:
    """'4111 1111 1111 1111 ok' is final up to the last word: 'ok' cannot be the start of a digit word."""
    text = "the card is 4111 1111 1111 1111 ok"
    assert text[ENGINE.safe_boundary(text):] == "ok"


@pytest.mark.parametrize(("text", "held"), [
    ("my SSN is 536 / 22 / 12", "536 / 22 / 12"),
    ("SSN five three six tw", "five three six tw"),
    ("SSN 5 3 6 2 2 1 ", "5 3 6 2 2 1 "),
])
def test_safe_boundary_holds_back_a_digit_run_still_being_written(text: str, held: str) -> None:
    """A run the digit view may still rewrite is not released (other rules may hold back more)."""
    assert text[ENGINE.safe_boundary(text):].endswith(held)


def test_numbers_in_words_ending_sentences_are_prose() -> None:
    """'one. two. three. four.' is released up to its last word: full stops end a spelled-out number."""
    text = "one. two. three. four."
    assert text[ENGINE.safe_boundary(text):] == "four."
    assert ENGINE.scan(text).findings == ()
