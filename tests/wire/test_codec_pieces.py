"""The chat codec answers "which text pieces, if nothing else" for the common chunk without the general walk:
the answer must be the general one's for any chunk."""

from __future__ import annotations

from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from deepsentinel.wire.codec import Codec
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
def test_the_fast_answer_is_the_general_answer(payload: Any) -> None:
    event = Event("", "{}")
    codec = ChatCodec()
    assert codec.text_pieces(event, payload) == Codec.text_pieces(codec, event, payload)


def test_a_plain_content_chunk_is_one_piece() -> None:
    payload = {"id": "c", "choices": [{"index": 0, "delta": {"content": " river"}, "logprobs": None,
                                       "finish_reason": None}], "obfuscation": "pad"}
    assert ChatCodec().text_pieces(Event("", "{}"), payload) == [((0, "content"), ("choices", 0, "delta", "content"), " river")]
