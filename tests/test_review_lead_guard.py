"""Leaks a hostile review of the stream guard's ``start=`` (released text is final) found, each a regression test.

At d474336 the guard searched the open tails over the released context too, so a release that was not truly final
(a flush before ``resume()``, a boundary misled by an escape still arriving) held the rest of the value once the
next delta showed it was one. With ``start=`` that second look is gone: these streams showed more of the value.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deepsentinel.detection.engine import DetectionEngine
from deepsentinel.detection.findings import Category
from deepsentinel.guard.stream_guard import StreamGuard
from deepsentinel.policy.actions import Action
from deepsentinel.policy.policy import CompliancePolicy

ENGINE = DetectionEngine()
FLUSH = None  # in a list of deltas: flush() then resume()


def _policy(action: Action) -> CompliancePolicy:
    return CompliancePolicy(name="p", category_actions={c: action for c in Category}, anonymization_strategy="redact")


def _shown(deltas: list[str | None], action: Action = Action.BLOCK) -> tuple[list[str], bool]:
    """What the caller sees, piece by piece, and whether the stream was cut."""
    guard = StreamGuard(ENGINE, [_policy(action)])
    shown: list[str] = []
    for delta in deltas:
        if delta is None:
            result = guard.flush()
            guard.resume()
        else:
            result = guard.feed(delta)
        shown.append(result.text)
        if result.blocked:
            return shown, True
    result = guard.flush()
    shown.append(result.text)
    return shown, result.blocked


@pytest.mark.parametrize("escaped_t", ["&#116;", "%74", "\\u0074"])
def test_an_at_written_with_an_escape_never_shows_the_domain(escaped_t: str) -> None:
    """"bob a" + an escaped "t" still arriving: the boundary must not call "bob a" final, and what follows the
    "at" is the e-mail's domain (main showed "bob at example " before cutting the stream)."""
    first, rest = escaped_t[:-2], escaped_t[-2:]
    shown, blocked = _shown(["Mail bob a" + first, rest, " example", " dot", " org. Thanks"])
    assert blocked
    assert "example" not in "".join(shown)
    assert "".join(shown) == "Mail "  # the whole-text answer: everything before the e-mail


def test_a_spelled_out_dot_written_with_an_escape_is_held() -> None:
    """"example d" + an escaped "o": "do" may become "dot", so the e-mail is still open."""
    shown, blocked = _shown(["Mail bob at example d&#1", "11;", "t org. Thanks"])
    assert blocked
    assert "".join(shown) == "Mail "


@pytest.mark.parametrize("escaped_i", ["&#105;", "%69", "\\u0069"])
def test_a_spelled_out_number_with_an_escaped_letter_still_arriving_is_held(escaped_i: str) -> None:
    """"five three s" + an escaped "i" still arriving may be "six": the spelled-out SSN is held from its first word
    (the stream showed "SSN is five three " before the cut)."""
    shown, blocked = _shown(["SSN is five three s" + escaped_i[:-2], escaped_i[-2:] + "x two two one two three four."])
    assert blocked
    assert "five" not in "".join(shown)


def test_text_released_by_flush_is_checked_again_after_resume() -> None:
    """flush() releases what it holds whatever comes next, so the next delta must look back into it: the value
    that turns out to continue across the end is held, not released piece by piece (main showed " at ")."""
    shown, blocked = _shown(["Mail bob", FLUSH, " at", " example", " dot org. Thanks"])
    assert blocked
    assert shown[:2] == ["Mail ", "bob"]  # flush: released as it was (no value yet)
    assert "".join(shown[2:]) == ""  # after resume: nothing more of the e-mail


def test_a_date_continued_after_resume_is_held() -> None:
    """The same for a date in words: ", 19" after a flushed "March 3" is part of it."""
    shown, blocked = _shown(["born March 3", FLUSH, ", 19", "90 ok"])
    assert blocked
    assert "".join(shown[2:]) == ""


_ESCAPES = {"html": lambda c: f"&#{ord(c)};", "url": lambda c: f"%{ord(c):02X}", "json": lambda c: f"\\u{ord(c):04x}",
            "plain": lambda c: c}


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(sorted(_ESCAPES)), min_size=6, max_size=6), st.lists(st.integers(1, 6), min_size=1,
       max_size=12), st.booleans())
def test_a_spelled_out_e_mail_with_escaped_letters_is_cut_before_any_of_it(styles: list[str], sizes: list[int],
                                                                          bracket: bool) -> None:
    """Whatever letters of "at" and "dot" arrive escaped, and however the stream is split, a blocking policy cuts
    the stream before the e-mail: the caller sees only the text before it."""
    a, t, d, o, t2, dot = (_ESCAPES[s] for s in styles)
    at = a("a") + t("t")
    value = "jane.doe " + (f"[{at}]" if bracket else at) + " example " + d("d") + o("o") + t2("t") + " org"
    text = "Write to " + value + ". Thanks" + dot(".")
    deltas, pos, i = [], 0, 0
    while pos < len(text):
        deltas.append(text[pos : pos + sizes[i % len(sizes)]])
        pos, i = pos + sizes[i % len(sizes)], i + 1
    shown, blocked = _shown(list(deltas))
    assert blocked
    assert "".join(shown) == "Write to "
