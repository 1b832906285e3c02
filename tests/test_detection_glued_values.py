"""A card number glued into an identifier is still a card number, and a hex digest's digits are not one."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from deepsentinel.detection import DetectionEngine
from deepsentinel.detection.engine import default_engine
from deepsentinel.guard.stream_guard import StreamGuard
from deepsentinel.policy.policy import DEFAULT_POLICY

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
    f"ptr 0x{CARD}",  # a hex literal (the "x" of "0x" is no word), found since ae74cdc
    f"mask 0X{CARD} set",
    f"id 0xab{CARD}",
])
def test_digits_inside_hex_or_a_document_id_are_not_a_card(text: str) -> None:
    assert ENGINE.scan(text).types() == []


@pytest.mark.parametrize("address", [f"john{CARD}@example.com", f"john_{CARD}x@example.com"])
def test_a_card_glued_into_an_email_leaves_the_whole_address_found(address: str) -> None:
    """The e-mail finding covers the address; a card taken from its local part would win on risk and leave the
    rest of the address (name, domain) to be shown under an anonymizing policy, as it was not before ae74cdc."""
    text = f"mail {address} now"
    [finding] = ENGINE.scan(text).findings
    assert text[finding.start:finding.end] == address


GROUPED = " ".join(CARD[i:i + 4] for i in range(0, 16, 4))


@pytest.mark.parametrize(("text", "value", "kind"), [
    # Found in review: a grouped card or a dashed SSN with a word glued on was not found at all.
    (f"the{GROUPED}", GROUPED, "CREDIT_CARD"),
    (f"card {GROUPED}river", GROUPED, "CREDIT_CARD"),
    (f"pay {GROUPED.replace(' ', '-')}now", GROUPED.replace(" ", "-"), "CREDIT_CARD"),
    ("garden536-22-1234", "536-22-1234", "US_SSN"),
    ("SSN 536-22-1234abc", "536-22-1234", "US_SSN"),
])
def test_a_grouped_card_or_dashed_ssn_glued_to_a_word_is_found(text: str, value: str, kind: str) -> None:
    [finding] = ENGINE.scan(text).findings
    assert (finding.type, text[finding.start:finding.end]) == (kind, value)


@pytest.mark.parametrize("text", [
    f"the{GROUPED[:-1]}2",  # Luhn fails
    f"x{GROUPED} 5678",  # one more group: a longer number, not a card
    f"ab{GROUPED}9",  # more digits glued on
    "order AB123-45-6789",  # an invalid SSN (the advertising number)
    "garden536-22-12345",
])
def test_glued_numbers_that_are_not_a_card_or_ssn_are_not_found(text: str) -> None:
    assert ENGINE.scan(text).types() == []


@given(text=st.sampled_from([f"Your number is the{GROUPED} ok", f"Pay {GROUPED.replace(' ', '-')}now please",
                             "id garden536-22-1234 end", "SSN 536-22-1234abc done"]),
       cuts=st.lists(st.integers(1, 6), min_size=1, max_size=40))
def test_a_glued_value_streamed_in_any_pieces_never_shows(text: str, cuts: list[int]) -> None:
    guard = StreamGuard(default_engine(), [DEFAULT_POLICY])
    shown: list[str] = []
    at, blocked = 0, False
    for size in [*cuts, len(text)]:
        result = guard.feed(text[at:at + size])
        shown.append(result.text)
        at += size
        blocked = result.blocked
        if blocked or at >= len(text):
            break
    if not blocked:
        shown.append(guard.flush().text)  # the stream ended: what is held is released, or blocked
    joined = "".join(shown)
    assert not any(part in joined for part in ("4111", "1111", "536-22", "1234"))
