"""The chat codec answers "which text pieces, if nothing else" for the common chunk without the general walk:
the answer must be the general one's for any chunk."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from deepsentinel.detection.engine import default_engine
from deepsentinel.policy.policy import DEFAULT_POLICY
from deepsentinel.wire.codec import Codec
from deepsentinel.wire.event_guard import EventGuard
from deepsentinel.wire.guard import WireGuard
from deepsentinel.wire.openai_codecs import ChatCodec
from deepsentinel.wire.sse import Event

_TEXT = st.sampled_from(["", " word", "Carpet", "4111"])
_DELTA = st.dictionaries(
    st.sampled_from(["content", "role", "refusal", "tool_calls", "audio", "reasoning_content"]),
    st.one_of(_TEXT, st.none(), st.just(3), st.just([{"index": 0, "function": {"arguments": "{\"a\":"}}]),
              st.just({"transcript": " hi"})),
    max_size=3,
)
_CHOICE = st.fixed_dictionaries(
    {"delta": st.one_of(_DELTA, st.none(), st.just("text"))},
    optional={"index": st.integers(0, 2), "finish_reason": st.sampled_from([None, "", "stop"]),
              "logprobs": st.sampled_from([None, {"content": []}, {"content": [{"token": "x"}]}])},
)
_CHUNK = st.fixed_dictionaries(
    {"id": st.just("chatcmpl-1")},
    optional={"choices": st.one_of(st.lists(st.one_of(_CHOICE, st.just("x")), max_size=2), st.none(), st.just({})),
              "usage": st.sampled_from([None, {"total_tokens": 3}]), "obfuscation": st.just("pad")},
)


_ONE = {"id": "c", "choices": [{"index": 0, "delta": {"content": " river"}}]}


@settings(max_examples=500)
@given(payload=st.one_of(_CHUNK, st.just([1]), st.none()))
@example(payload={**_ONE, "choices": [{"index": 0, "delta": {"content": " river"}, "finish_reason": "stop"}]})
@example(payload={**_ONE, "choices": [{"index": 1, "delta": {"content": " river"}, "logprobs": {"content": [1]}}]})
@example(payload={**_ONE, "usage": {"total_tokens": 3}})
@example(payload={**_ONE, "choices": [{"delta": {"content": " river"}}, {"delta": {"content": " x"}}]})
@example(payload={**_ONE, "choices": ["x", {"delta": {"content": ""}}]})
def test_the_fast_answer_is_the_general_answer(payload: Any) -> None:
    event = Event("", "{}")
    codec = ChatCodec()
    assert codec.text_pieces(event, payload) == Codec.text_pieces(codec, event, payload)


def test_a_plain_content_chunk_is_one_piece() -> None:
    payload = {"id": "c", "choices": [{"index": 0, "delta": {"content": " river"}, "logprobs": None,
                                       "finish_reason": None}], "obfuscation": "pad"}
    assert ChatCodec().text_pieces(Event("", "{}"), payload) == [((0, "content"), ("choices", 0, "delta", "content"), " river")]


def test_a_choice_that_is_not_an_object_does_not_shift_the_paths_of_the_others() -> None:
    """Paths name a choice by its position in the list: a non-object choice before it used to shift them (the
    path then named the wrong element, and the stream was cut by the guard's own TypeError)."""
    guard = WireGuard([DEFAULT_POLICY], default_engine())
    check = guard.check_request("/v1/chat/completions", json.dumps(
        {"model": "m", "messages": [{"role": "user", "content": "hi"}]}).encode())
    words = ["Quiet", " river", " garden", " window"]
    events = [Event("", json.dumps({"id": "c", "choices": [None, {"index": 0, "delta": {"content": w}}]})) for w in words]
    finish = {"id": "c", "choices": [None, {"index": 0, "delta": {}, "finish_reason": "stop"}]}
    events += [Event("", json.dumps(finish)), Event("", "[DONE]")]
    for burst in (False, True):
        events_guard = EventGuard(guard, check)
        if burst:
            sent, error = events_guard.feed_many(events)
            assert error is None
        else:
            sent = [e for event in events for e in events_guard.feed(event)]
        shown = [c["delta"].get("content") or "" for e in sent if e.data != "[DONE]"
                 for c in json.loads(e.data)["choices"] if isinstance(c, dict)]
        assert "".join(shown) == "".join(words)
