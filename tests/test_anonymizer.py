"""Anonymizer strategies, the vault and the streaming deanonymizer."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deepsentinel.detection.anonymizer import (
    Anonymizer,
    HashStrategy,
    MaskStrategy,
    PlaceholderStrategy,
    RedactStrategy,
    make_strategy,
)
from deepsentinel.detection.vault import Deanonymizer, PlaceholderBook, Vault, partial_token_start


@dataclass(frozen=True)
class Span:
    type: str
    start: int
    end: int


def spans_of(text: str, *values: tuple[str, str]) -> list[Span]:
    out = []
    for entity_type, value in values:
        start = text.index(value)
        out.append(Span(entity_type, start, start + len(value)))
    return out


CARD = "4111 1111 1111 1111"
EMAIL = "jane.doe@example.com"


@pytest.mark.parametrize(
    ("entity_type", "value", "masked"),
    [
        ("CREDIT_CARD", "4111-1111-1111-1111", "****-****-****-1111"),
        ("CREDIT_CARD", CARD, "**** **** **** 1111"),
        ("CREDIT_CARD", "4111111111111111", "************1111"),
        ("US_SSN", "123-45-6789", "***-**-6789"),
        ("PHONE_NUMBER", "(555) 123-4567", "(***) ***-4567"),
        ("EMAIL_ADDRESS", EMAIL, "j*******@*******.com"),
        ("GITHUB_TOKEN", "ghp_" + "a1" * 18, "ghp_" + "*" * 36),
        ("ZIP", "12345", "*****"),
    ],
)
def test_mask_keeps_separators_and_only_harmless_parts(entity_type: str, value: str, masked: str) -> None:
    """Masks keep the shape, the last four of long numbers, an email's first letter and a secret's prefix."""
    assert MaskStrategy().replace(value, entity_type) == masked


def test_redact_names_the_type() -> None:
    """Redaction leaves only the entity type."""
    assert RedactStrategy().replace(CARD, "CREDIT_CARD") == "[CREDIT_CARD]"


def test_hash_is_keyed_stable_short_and_not_md5() -> None:
    """The same key and value give the same token; another key gives another; the digest is HMAC-SHA256."""
    import hashlib
    import hmac

    key = b"k" * 32
    token = HashStrategy(key).replace(EMAIL, "EMAIL_ADDRESS")
    expected = hmac.new(key, f"EMAIL_ADDRESS\x00{EMAIL}".encode(), hashlib.sha256).hexdigest()[:8]
    assert token == f"<EMAIL_ADDRESS:{expected}>"
    assert HashStrategy(key).replace(EMAIL, "EMAIL_ADDRESS") == token
    assert HashStrategy(b"x" * 32).replace(EMAIL, "EMAIL_ADDRESS") != token
    assert hashlib.md5(EMAIL.encode()).hexdigest()[:8] not in token
    assert "k" * 8 not in repr(HashStrategy(key))


def test_placeholders_are_numbered_per_type_and_reused_for_equal_values() -> None:
    """Same value, same placeholder; a new value gets the next number of its type."""
    strategy = PlaceholderStrategy()
    assert strategy.replace("a@x.com", "EMAIL_ADDRESS") == "<EMAIL_1>"
    assert strategy.replace("b@x.com", "EMAIL_ADDRESS") == "<EMAIL_2>"
    assert strategy.replace("a@x.com", "EMAIL_ADDRESS") == "<EMAIL_1>"
    assert strategy.replace(CARD, "CREDIT_CARD") == "<CREDIT_CARD_1>"


def test_placeholder_book_keeps_no_values() -> None:
    """The numbering book is keyed by digests: neither its state nor its repr holds a value."""
    book = PlaceholderBook()
    book.assign("EMAIL", EMAIL)
    assert EMAIL not in repr(book)
    assert all(EMAIL not in str(k) for k in book._assigned)


def test_anonymize_replaces_exactly_the_spans() -> None:
    """Only the characters inside each span change; the rest of the text is untouched."""
    text = f"Mail {EMAIL} or pay with {CARD}."
    result = Anonymizer("redact").anonymize(text, spans_of(text, ("EMAIL_ADDRESS", EMAIL), ("CREDIT_CARD", CARD)))
    assert result.text == "Mail [EMAIL_ADDRESS] or pay with [CREDIT_CARD]."
    assert [(r.type, r.replacement) for r in result.replacements] == [
        ("EMAIL_ADDRESS", "[EMAIL_ADDRESS]"), ("CREDIT_CARD", "[CREDIT_CARD]"),
    ]
    assert text[result.replacements[1].start : result.replacements[1].end] == CARD


def test_overlapping_spans_are_merged_so_nothing_leaks() -> None:
    """Overlapping spans become one replacement covering their union."""
    text = "x 4111111111111111 y"
    result = Anonymizer("redact").anonymize(text, [Span("CREDIT_CARD", 2, 12), Span("US_SSN", 8, 18)])
    assert result.text == "x [CREDIT_CARD] y"


def test_no_spans_returns_the_text_unchanged() -> None:
    """Without spans the text is returned as is."""
    assert Anonymizer("mask").anonymize("hello", []).text == "hello"


def test_unknown_strategy_is_rejected() -> None:
    """A typo in the strategy name fails loudly."""
    with pytest.raises(ValueError, match="unknown anonymization strategy"):
        make_strategy("scramble")


def test_vault_restores_placeholders_and_never_shows_values() -> None:
    """Tokens issued with a vault are restored by it; its repr shows a count only."""
    vault = Vault()
    anonymizer = Anonymizer("placeholder", vault=vault)
    text = f"Contact {EMAIL} about {CARD}"
    anonymized = anonymizer.anonymize(text, spans_of(text, ("EMAIL_ADDRESS", EMAIL), ("CREDIT_CARD", CARD)))
    assert anonymized.text == "Contact <EMAIL_1> about <CREDIT_CARD_1>"
    assert vault.deanonymize("Sure, I will write to <EMAIL_1>. <SSN_9> stays.") == (
        f"Sure, I will write to {EMAIL}. <SSN_9> stays."
    )
    assert EMAIL not in repr(vault) and CARD not in repr(vault) and EMAIL not in repr(anonymizer)
    assert len(vault) == 2


def test_vault_restores_hash_tokens_too() -> None:
    """Hash tokens are reversible through the vault that saw them."""
    vault = Vault()
    token = Anonymizer("hash", key=b"k" * 32, vault=vault).replace(EMAIL, "EMAIL_ADDRESS")
    assert vault.deanonymize(f"to {token}") == f"to {EMAIL}"


def test_vault_records_nothing_for_irreversible_strategies_or_when_told_not_to() -> None:
    """Masks and redactions are not reversible; ``remember=False`` keeps a token out of the vault."""
    vault = Vault()
    Anonymizer("mask", vault=vault).replace(CARD, "CREDIT_CARD")
    Anonymizer("redact", vault=vault).replace(CARD, "CREDIT_CARD")
    token = Anonymizer("placeholder", vault=vault).replace(EMAIL, "EMAIL_ADDRESS", remember=False)
    assert len(vault) == 0
    assert vault.deanonymize(token) == token


def test_anonymizers_sharing_a_vault_share_numbering() -> None:
    """Two anonymizers on one vault (two turns of a conversation) agree on placeholders."""
    vault = Vault()
    first = Anonymizer("placeholder", vault=vault).replace(EMAIL, "EMAIL_ADDRESS")
    second = Anonymizer("placeholder", vault=vault).replace(EMAIL, "EMAIL_ADDRESS")
    other = Anonymizer("placeholder", vault=vault).replace("x@y.org", "EMAIL_ADDRESS")
    assert first == second == "<EMAIL_1>" and other == "<EMAIL_2>"
    vault.clear()
    assert len(vault) == 0 and vault.deanonymize(first) == first


@pytest.mark.parametrize(
    ("text", "start"),
    [("see <EMA", 4), ("see <", 4), ("see <EMAIL_1", 4), ("<EMAIL_1> ok", 12), ("a < b", 5), ("x <email", 8), ("", 0)],
)
def test_partial_token_start(text: str, start: int) -> None:
    """Only a tail that can still become a token is held back."""
    assert partial_token_start(text) == start


def _vault_with_two() -> tuple[Vault, str]:
    vault = Vault()
    anonymizer = Anonymizer("placeholder", vault=vault)
    anonymizer.replace(EMAIL, "EMAIL_ADDRESS")
    anonymizer.replace(CARD, "CREDIT_CARD")
    return vault, "Hi <EMAIL_1>, card <CREDIT_CARD_1> ends; 3 < 4 and <NOT_A_TOKEN_7> stays <EMAIL_1>"


@settings(max_examples=150, deadline=None)
@given(cuts=st.lists(st.integers(min_value=1, max_value=8), min_size=1, max_size=80))
def test_deanonymizer_restores_tokens_split_anywhere(cuts: list[int]) -> None:
    """However the text is split, the streamed restoration equals restoring the whole text."""
    vault, text = _vault_with_two()
    stream = Deanonymizer(vault)
    out, pos, i = [], 0, 0
    while pos < len(text):
        size = cuts[i % len(cuts)]
        out.append(stream.feed(text[pos : pos + size]))
        assert stream.held <= 64
        pos, i = pos + size, i + 1
    out.append(stream.flush())
    assert "".join(out) == vault.deanonymize(text)
    assert "".join(out).count(EMAIL) == 2


def test_deanonymizer_holds_only_a_possible_token() -> None:
    """Plain text goes straight through; ``<EMA`` waits for the rest."""
    vault, _ = _vault_with_two()
    stream = vault.deanonymizer()
    assert stream.feed("Hello there ") == "Hello there "
    assert stream.feed("write to <EMA") == "write to "
    assert stream.held == 4
    assert stream.feed("IL_1> now") == f"{EMAIL} now"
    assert stream.feed("<") == "" and stream.flush() == "<"


def test_vault_and_book_forget_the_oldest_entries_past_their_bound() -> None:
    """A long-lived vault stays bounded; forgotten tokens stay tokens and numbers are never reused."""
    vault = Vault(max_entries=2)
    anonymizer = Anonymizer("placeholder", vault=vault)
    tokens = [anonymizer.replace(f"u{i}@x.com", "EMAIL_ADDRESS") for i in range(3)]
    assert tokens == ["<EMAIL_1>", "<EMAIL_2>", "<EMAIL_3>"]
    assert len(vault) == 2 and len(vault.book) == 2
    assert vault.deanonymize("<EMAIL_1> <EMAIL_3>") == "<EMAIL_1> u2@x.com"
    assert anonymizer.replace("u0@x.com", "EMAIL_ADDRESS") == "<EMAIL_4>"
