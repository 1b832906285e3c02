"""A stream's text events are read by the shape of the last clean one: literals around the text's hole (and the
padding's). The shape must be sound: whatever fills its holes, an event it accepts parses to the learned event
with only the hole strings changed, and its text is exactly the string in the text hole. And it must be useful:
plain strings in the holes are always accepted."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from deepsentinel.detection.engine import default_engine
from deepsentinel.errors import ComplianceViolationError
from deepsentinel.policy.policy import DEFAULT_POLICY
from deepsentinel.wire.event_guard import EventGuard
from deepsentinel.wire.event_shape import EventShape
from deepsentinel.wire.guard import WireGuard
from deepsentinel.wire.sse import Event
from deepsentinel.wire.texts import TextRef

CHAT = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "m", "system_fingerprint": "fp",
        "choices": [{"index": 0, "delta": {"content": "word"}, "logprobs": None, "finish_reason": None}],
        "obfuscation": "Zx9"}
CHAT_TEXT = ("choices", 0, "delta", "content")
ANTHROPIC = {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "word"}}
ANTHROPIC_TEXT = ("delta", "text")
# Where a text hole could be mistaken for another string: the same value under another key, and a key that
# holds the same value nested deeper.
DECOY = {"content": "word", "meta": {"content": "word"}, "choices": [{"delta": {"content": "word"}}]}
DECOY_TEXT = ("choices", 0, "delta", "content")

SHAPES = [
    ("chat, compact", Event("", json.dumps(CHAT, separators=(",", ":"))), CHAT, CHAT_TEXT, [("obfuscation",)]),
    ("chat, spaced", Event("", json.dumps(CHAT)), CHAT, CHAT_TEXT, [("obfuscation",)]),
    ("anthropic", Event("content_block_delta", json.dumps(ANTHROPIC, separators=(",", ":"))), ANTHROPIC,
     ANTHROPIC_TEXT, []),
    ("decoy", Event("", json.dumps(DECOY, separators=(",", ":"))), DECOY, DECOY_TEXT, []),
]


def _shape(case: tuple[str, Event, dict[str, Any], tuple[Any, ...], list[tuple[Any, ...]]]) -> EventShape:
    _, event, payload, text, padding = case
    shape = EventShape.of(event, payload, text, padding)
    assert shape is not None
    return shape


def _blank(doc: Any, paths: list[tuple[Any, ...]]) -> Any:
    doc = json.loads(json.dumps(doc))
    for path in paths:
        TextRef(path).set(doc, "")
    return doc


ANY_TEXT = st.lists(st.sampled_from(['"', "\\", "\n", "\x00", ",", ":", "}", "]", "{", "a", " ", "é", "u", "0",
                                     '\\"', '","x":"', "\u2028"]), max_size=12).map("".join) | st.text(max_size=8)


@pytest.mark.parametrize("case", SHAPES, ids=[c[0] for c in SHAPES])
@given(fills=st.lists(ANY_TEXT, min_size=2, max_size=2))
def test_an_event_the_shape_accepts_is_the_learned_event_with_other_strings(case: Any, fills: list[str]) -> None:
    _, event, payload, text_path, padding = case
    shape = _shape(case)
    holes = len(shape.literals) - 1
    data = shape.literals[0] + "".join(f + lit for f, lit in zip(fills[:holes], shape.literals[1:], strict=True))
    text = shape.match(Event(event.event, data))
    plain = all(not any(c in f for c in '"\\') and all(ord(c) >= 0x20 for c in f) for f in fills[:holes])
    assert (text is not None) == plain  # plain strings always fit; anything else is parsed as usual
    if text is None:
        return
    parsed = json.loads(data)
    assert TextRef(text_path).get(parsed) == text
    assert _blank(parsed, [text_path, *padding]) == _blank(payload, [text_path, *padding])


def test_a_backslash_before_the_closing_quote_is_not_read_as_the_end_of_the_text() -> None:
    shape = _shape(SHAPES[0])
    # ``x\`` then the literal: the quote is escaped, so the string runs on and the event is another document.
    data = shape.literals[0] + "x\\" + shape.literals[1] + "Zx9" + shape.literals[2]
    assert shape.match(Event("", data)) is None


def test_another_event_name_does_not_match() -> None:
    case = SHAPES[2]
    shape = _shape(case)
    assert shape.match(Event("content_block_delta", case[1].data)) == "word"
    assert shape.match(Event("message_delta", case[1].data)) is None


@pytest.mark.parametrize("data", [
    '{"choices":[{"delta":{"content":"caf\\u00e9"}}]}',  # written escaped: no literal holds it
    '{"choices":[{"delta":{"content":"a\\"b"}}]}',
])
def test_no_shape_for_an_escaped_text(data: str) -> None:
    payload = json.loads(data)
    assert EventShape.of(Event("", data), payload, ("choices", 0, "delta", "content"), []) is None


def test_a_duplicate_key_is_shaped_at_the_value_that_counts_or_not_at_all() -> None:
    data = '{"choices":[{"delta":{"content":"one","content":"two"}}]}'
    payload = json.loads(data)
    shape = EventShape.of(Event("", data), payload, ("choices", 0, "delta", "content"), [])
    if shape is not None:
        other = shape.literals[0] + "three" + shape.literals[1]
        assert shape.match(Event("", other)) == json.loads(other)["choices"][0]["delta"]["content"]


# The guard with shapes: the fast read must leave what is sent exactly as reading every event in full would.
GUARD = WireGuard([DEFAULT_POLICY], default_engine())
WORDS = ["river", " garden", " window", " paper", " yellow", " gentle", " quick", " slow", " bright", " quiet"] * 3


def _guard() -> EventGuard:
    check = GUARD.check_request("/v1/chat/completions", json.dumps(
        {"model": "m", "messages": [{"role": "user", "content": "hi"}]}).encode())
    return EventGuard(GUARD, check)


def _chunk(content: str, pad: str = "p") -> Event:
    return Event("", json.dumps({**CHAT, "choices": [{**CHAT["choices"][0], "delta": {"content": content}}],
                                 "obfuscation": pad}, separators=(",", ":")))


def test_a_clean_stream_read_by_shape_is_sent_byte_for_byte() -> None:
    events = [_chunk(w, pad=f"p{n}") for n, w in enumerate(WORDS)]
    guard = _guard()
    sent, error = guard.feed_many(events[:5])
    more, error2 = guard.feed_many(events[5:])
    assert error is None and error2 is None
    assert guard._shape is not None  # the rows after the first were read by shape
    out = sent + more
    text = "".join(json.loads(e.data)["choices"][0]["delta"]["content"] for e in out)
    assert "".join(WORDS).startswith(text) and len(text) > len("".join(WORDS)) - 10  # the end may wait
    assert all(e.encode() == next(x for x in events if x.data == e.data).encode() for e in out if e.raw is not None)


@given(at=st.integers(3, 25), split=st.integers(1, 18), groups=st.lists(st.integers(1, 7), min_size=1, max_size=8))
def test_a_card_streamed_through_shaped_events_never_shows(at: int, split: int, groups: list[int]) -> None:
    card = "4111 1111 1111 1111"
    words = list(WORDS)
    words[at:at] = [" " + card[:split], card[split:], "."]
    events = [_chunk(w) for w in words]
    guard = _guard()
    shown: list[str] = []
    start = 0
    for size in [*groups, len(events)]:
        out, error = guard.feed_many(events[start:start + size])
        shown += [json.loads(e.data)["choices"][0]["delta"].get("content") or "" for e in out]
        start += size
        if error is not None:
            assert isinstance(error, ComplianceViolationError)
            break
    joined = "".join(shown)
    assert "4111" not in joined and "1111" not in joined


def test_a_tail_released_after_a_shaped_event_is_built_from_that_event_as_sent() -> None:
    # Found in review: the tail was built from the shaped event as it arrived, so it carried the logprobs that
    # spell the held text; built from the event as sent (rewritten, its logprobs dropped), it does not.
    check = GUARD.check_request("/v1/responses", json.dumps({"model": "m", "input": "hi", "stream": True}).encode())

    def delta(text: str) -> Event:
        return Event("response.output_text.delta", json.dumps(
            {"type": "response.output_text.delta", "item_id": "msg_1", "output_index": 0, "content_index": 0,
             "delta": text, "logprobs": []}, separators=(",", ":")))

    done = Event("response.output_text.done", json.dumps(
        {"type": "response.output_text.done", "item_id": "msg_1", "output_index": 0, "content_index": 0,
         "text": "Total: 42"}, separators=(",", ":")))
    events = [delta("Total:"), delta(" 42"), done]
    sent, error = EventGuard(GUARD, check).feed_many(events)
    assert error is None
    tails = [json.loads(e.data) for e in sent if e.event == "response.output_text.delta"][2:]
    assert tails and all(not t.get("logprobs") for t in tails)
    assert "".join(json.loads(e.data).get("delta", "") for e in sent) == "Total: 42"
