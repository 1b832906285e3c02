"""Detection and stream guard cases found in review: odd input, odd splits, odd stream endings."""

from __future__ import annotations

import pytest

from deepsentinel.detection.engine import DetectionEngine
from deepsentinel.detection.findings import Category
from deepsentinel.guard.stream_guard import StreamGuard
from deepsentinel.policy.actions import Action
from deepsentinel.policy.policy import DEFAULT_POLICY, CompliancePolicy

ENGINE = DetectionEngine(cache_size=0)
CARD = "4111 1111 1111 1111"
REDACT = CompliancePolicy(
    name="redact", category_actions={c: Action.ANONYMIZE for c in Category}, anonymization_strategy="redact"
)


def test_lone_surrogates_neither_crash_the_scan_nor_hide_a_value() -> None:
    """A lone surrogate (a JSON "\\ud83d" escape) is dropped like an invisible character, not an encoding error."""
    hidden = "4111\ud800" + "1111" * 3
    assert ENGINE.scan(f"card {hidden} \ud83d").types() == ["CREDIT_CARD"]
    assert 0 <= ENGINE.safe_boundary("hi \udc00 4111 1111") <= len("hi \udc00 4111 1111")
    guard = StreamGuard(ENGINE, [DEFAULT_POLICY])
    shown = guard.feed("hi \ud83d").text
    result = guard.feed("\ude00 card " + hidden + " ok")
    assert result.blocked and "1111" not in shown + result.text


def test_an_earlier_unterminated_private_key_is_held_until_an_end_line_arrives() -> None:
    """Two BEGIN lines and no END yet: the first block reaches up to the next END line, so it is not final."""
    first = "-----BEGIN PRIVATE KEY-----\nMIIEow" + "A" * 30
    second = "-----BEGIN RSA PRIVATE KEY-----\nMIIEow" + "A" * 60 + "\n-----END RSA PRIVATE KEY-----"
    doc = f"SSN {first}<SSN {second}"
    whole = [(f.type, f.start, f.end) for f in ENGINE.scan(doc).findings]
    for cut in range(len(doc) + 1):
        prefix = doc[:cut]
        k = ENGINE.safe_boundary(prefix)
        before = [(f.type, f.start, f.end) for f in ENGINE.scan(prefix).findings if f.start < k]
        assert before == [f for f in whole if f[1] < k], cut
        assert all(end <= k for _, _, end in before)


@pytest.mark.parametrize(
    "doc",
    # (not "abc...defghi": a value typed along the alphabet is a dummy, not a password)
    ["password: k7q\u2028x9zmrt ok", "see https://admin:pa\u2028ssword@db.example.com ok", "password: k7q\x1fx9zmrt ok"],
)
def test_a_unicode_line_separator_inside_a_secret_does_not_end_the_held_token(doc: str) -> None:
    """A secret's value may hold any non-ASCII-space character; the guard holds all of it, not just the start."""
    guard = StreamGuard(ENGINE, [REDACT])
    out = "".join(guard.feed(ch).text for ch in doc) + guard.flush().text
    assert out.endswith("] ok") and "k7q" not in out and "admin" not in out


@pytest.mark.parametrize("header", ["-----BEGIN PRIVATE KEY-----", "-----BEGIN RSA PRIVATE KEY-----\n"])
def test_repeated_private_key_headers_scan_in_linear_time(header: str) -> None:
    """400 KB of BEGIN lines took seconds (each header looked 12 000 characters ahead for an END line).

    Checked as growth, not as a time limit (a loaded machine makes any fixed bound flaky): four times the text
    costs about four to seven times as much here, sixteen when quadratic. Best of three runs of each size.
    """
    import time

    engine = ENGINE

    def cost(size: int) -> float:
        text = header * (size // len(header))
        runs = []
        for _ in range(3):
            started = time.perf_counter()
            assert engine.scan(text).types() == []  # headers alone hold no key material (64 base64 characters at least)
            engine.safe_boundary(text)
            runs.append(time.perf_counter() - started)
        return min(runs)

    assert cost(400_000) < 12 * cost(100_000)


@pytest.mark.parametrize(
    ("pattern", "doc"),
    [(r"K\d{6}\x20[a-z]{3}", "id K123456 xyz ok"), (r"K\d{6}\D[a-z]{3}", "id K123456 xyz ok"),
     (r"K\d{6}\t[a-z]{3}", "id K123456\txyz ok")],
)
def test_a_custom_pattern_that_spans_whitespace_through_an_escape_is_held_whole(pattern: str, doc: str) -> None:
    """\\x20, \\D or \\t let a custom entity span a space: its first word is held until the entity is decided."""
    engine = DetectionEngine(custom_patterns={"badge": pattern}, cache_size=0)
    guard = StreamGuard(engine, [DEFAULT_POLICY])
    shown = ""
    for ch in doc:
        result = guard.feed(ch)
        shown += result.text
        if result.blocked:
            break
    else:
        shown += guard.flush().text
    assert guard.blocked and "K123" not in shown


def test_escaped_punctuation_does_not_make_a_custom_pattern_free_form() -> None:
    """``EMP\\.\\d{6}`` cannot span a space, so prose around it is not held back by the pattern's length."""
    engine = DetectionEngine(custom_patterns={"badge": r"EMP\.\d{6}", "ref": r"X\-\d+"}, cache_size=0)
    text = "the badge was checked at the door and"
    assert text[engine.safe_boundary(text):] == "and"


@pytest.mark.parametrize("mark", ["\u0332", "\u0301", "\u0336", "\u20dd"])
def test_combining_marks_on_the_digits_do_not_hide_a_card(mark: str) -> None:
    """An underlined or struck-through card number is still a card number, and its redaction removes the digits."""
    text = "pay with " + mark.join("4111111111111111") + mark + " today"
    (finding,) = ENGINE.scan(text).findings
    assert finding.type == "CREDIT_CARD"
    assert not any(ch.isdigit() for ch in text[: finding.start] + text[finding.end :])


