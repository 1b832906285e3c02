"""Detection and stream guard cases found in review: odd input, odd splits, odd stream endings."""

from __future__ import annotations

from deepsentinel.detection.engine import DetectionEngine
from deepsentinel.guard.stream_guard import StreamGuard
from deepsentinel.policy.policy import DEFAULT_POLICY

ENGINE = DetectionEngine(cache_size=0)


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
