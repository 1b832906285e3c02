"""Text without spaces (Chinese, Japanese, Thai) streams as it arrives, and no value it may hide slips out.

The stream boundary holds back a trailing run of non-spaces that could still grow into a value. A run of
Chinese is a whole paragraph, so it held everything (up to the longest token, 9,100 characters) until the
stream ended. Past its last non-ASCII character, only a value that can hold one reaches back; in the built-in
catalog each of those is matched with an ASCII letter first (a key word, a URL scheme), which the first test
checks, so prose with no such letter in reach is released at once.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deepsentinel.detection import DetectionEngine
from deepsentinel.detection.pattern_shapes import wide as _wide
from deepsentinel.detection.recognizers import BUILTIN_RECOGNIZERS
from deepsentinel.guard.stream_guard import StreamGuard
from deepsentinel.policy.policy import DEFAULT_POLICY, CompliancePolicy

ENGINE = DetectionEngine(cache_size=0)
WIDE = [(r, p) for r in BUILTIN_RECOGNIZERS if r.entity != "PRIVATE_KEY" for p in r.patterns if _wide(p.body)]
PROSE = "这是一个关于河流的简短说明，它们从山上流向大海。河水滋养了两岸的田地和城市。"


@pytest.mark.parametrize(("recognizer", "pattern"), WIDE, ids=[f"{r.entity}:{p.name}" for r, p in WIDE])
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(data=st.data())
def test_a_built_in_value_that_may_hold_non_ascii_is_matched_with_an_ascii_letter_first(recognizer, pattern, data) -> None:
    """The boundary's assumption (``wide_lettered``): a match reaching a non-ASCII character has an ASCII letter
    before it, and is at most twice the recognizer's longest value."""
    match = data.draw(st.from_regex(re.compile(pattern.body, re.ASCII), fullmatch=True))
    first_foreign = next((i for i, ch in enumerate(match) if not ch.isascii()), None)
    if first_foreign is not None:
        assert re.search("[A-Za-z]", match[:first_foreign]), match
    assert len(match) <= 2 * recognizer.max_length


def _stream(engine: DetectionEngine, text: str, step: int, policies: list[CompliancePolicy] | None = None) -> tuple[list[str], bool]:
    guard = StreamGuard(engine, policies or [DEFAULT_POLICY])
    shown: list[str] = []
    for i in range(0, len(text), step):
        result = guard.feed(text[i:i + step])
        shown.append(result.text)
        if result.blocked:
            return shown, True
    end = guard.flush()
    shown.append(end.text)
    return shown, end.blocked


@pytest.mark.parametrize("step", [1, 2, 3, 7])
def test_chinese_prose_is_released_as_it_arrives(step: int) -> None:
    text = PROSE * 4
    shown, blocked = _stream(ENGINE, text, step)
    assert not blocked and "".join(shown) == text
    # Held back at any time: at most the delta's last character (a full-width comma normalises to ASCII ",",
    # which could still start something), never the paragraph.
    lag = [min(len(text), (i + 1) * step) - len("".join(shown[: i + 1])) for i in range(len(shown) - 1)]
    assert max(lag) <= 1


@pytest.mark.parametrize("step", [1, 2, 3, 5, 11])
def test_credentials_in_a_url_inside_chinese_prose_never_show(step: int) -> None:
    secret = "密码很长的值" + "Zq9"
    text = f"{PROSE}连接 https://admin:{secret}@db.example.com 吧。{PROSE}"
    shown, blocked = _stream(ENGINE, text, step)
    assert blocked and secret[:2] not in "".join(shown)


@pytest.mark.parametrize("step", [1, 2, 4])
def test_a_custom_pattern_on_chinese_text_is_never_split(step: int) -> None:
    """Custom patterns may start with any character: the boundary then holds the longest value that can hold
    one (512 characters here, a built-in keyword secret), not the whole run."""
    policy = CompliancePolicy(name="codes", custom_patterns={"project_code": "机密[0-9]{4}"},
                              entity_actions={"PROJECT_CODE": "block"})
    engine = ENGINE.with_custom_patterns(policy.custom_patterns)
    text = f"{PROSE}项目机密4821已批准。{PROSE}"
    shown, blocked = _stream(engine, text, step, [policy])
    assert blocked and "机密" not in "".join(shown)
    long = PROSE * 30  # 1,170 characters, no value in it
    shown, blocked = _stream(engine, long, 5, [policy])
    assert not blocked and "".join(shown) == long
    assert len("".join(shown[:-1])) >= len(long) - 5 - engine._wide > 0


def test_a_custom_pattern_longer_than_its_declared_length_keeps_the_old_hold() -> None:
    """A policy's custom pattern cannot declare its length (64 by default) and its match may be longer: its
    start must not show before it ends, as before the boundary relied on that length."""
    policy = CompliancePolicy(name="docs", custom_patterns={"doc": "内部机密[一-龥]{550,700}结束"},
                              entity_actions={"DOC": "block"})
    engine = ENGINE.with_custom_patterns(policy.custom_patterns)
    text = "前言内部机密" + "河" * 700 + "结束"
    shown, blocked = _stream(engine, text, 1, [policy])
    assert blocked and "机密" not in "".join(shown)
