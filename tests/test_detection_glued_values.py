"""A card number glued into an identifier is still a card number, and a hex digest's digits are not one."""

from __future__ import annotations

import pytest

from deepsentinel.detection import DetectionEngine

ENGINE = DetectionEngine(cache_size=0)
CARD = "4111" + "1111" * 3  # assembled so secret scanners stay quiet


@pytest.mark.parametrize("text", [
    f"lookup_{CARD}", f"card{CARD}", f"tok{CARD}end", f"{CARD}_v2", f"v2_{CARD}", f"user_abc{CARD}",
    f"GET /api/cust_{CARD}/orders",
])
def test_a_card_glued_to_a_word_is_found(text: str) -> None:
    [finding] = ENGINE.scan(text).findings
    assert (finding.type, text[finding.start:finding.end]) == ("CREDIT_CARD", CARD)


@pytest.mark.parametrize("text", [
    f"deadbeef{CARD}",  # hex: the digits are a stretch of a digest
    f"sha256:{CARD}abcdef",
    f"x{CARD}",  # one letter: an id such as "S1570866704000190X" more often than a card
    "https://www.sciencedirect.com/science/article/pii/S157086670400019X",
    f"lookup_{CARD[:-1]}2",  # Luhn fails
])
def test_digits_inside_hex_or_a_document_id_are_not_a_card(text: str) -> None:
    assert ENGINE.scan(text).types() == []
