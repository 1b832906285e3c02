"""Properties of the Anthropic translation: alternation always holds, and stream and non-stream agree."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from deepsentinel.providers.anthropic import AnthropicAdapter
from deepsentinel.providers.anthropic_request import translate_messages
from deepsentinel.providers.base import ChatRequest
from deepsentinel.testing import anthropic_wire
from deepsentinel.testing.replies import Reply, ToolCall, Usage
from deepsentinel.testing.wire import CallFacts

MODEL = "claude-3-5-haiku-latest"
text = st.text(alphabet="abc xyz", max_size=8)


@st.composite
def conversations(draw: st.DrawFn) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = [{"role": "user", "content": draw(text) + "q"}]
    for i in range(draw(st.integers(0, 8))):
        kind = draw(st.sampled_from(["user", "assistant", "system", "tool_round", "empty"]))
        if kind in ("user", "assistant", "system"):
            messages.append({"role": kind, "content": draw(text)})
        elif kind == "tool_round":
            call_id = f"call_{i}"
            call = {"id": call_id, "type": "function", "function": {"name": "f", "arguments": "{}"}}
            messages.append({"role": "assistant", "content": draw(st.none() | text), "tool_calls": [call]})
            messages.append({"role": "tool", "tool_call_id": call_id, "content": draw(text)})
        else:
            messages.append({"role": draw(st.sampled_from(["user", "assistant"])), "content": None})
    return messages


@settings(max_examples=150, deadline=None)
@given(conversations())
def test_translated_turns_alternate_and_keep_every_block(messages: list[dict[str, Any]]) -> None:
    """Whatever the OpenAI order, turns alternate, none is empty, and tool results open their user turn."""
    system, turns = translate_messages(messages)
    roles = [t["role"] for t in turns]
    assert roles[0] == "user"
    assert all(a != b for a, b in zip(roles, roles[1:], strict=False))
    assert all(t["content"] for t in turns)
    for turn in turns:
        kinds = [b["type"] for b in turn["content"]]
        assert kinds == sorted(kinds, key=lambda k: k != "tool_result")
    sent_text = sum(1 for m in messages if m["role"] in ("user", "assistant") and m.get("content"))
    got_text = sum(1 for t in turns for b in t["content"] if b["type"] == "text")
    assert got_text == sent_text
    tool_uses = sum(1 for t in turns for b in t["content"] if b["type"] == "tool_use")
    tool_results = sum(1 for t in turns for b in t["content"] if b["type"] == "tool_result")
    assert tool_uses == tool_results == sum(1 for m in messages if m["role"] == "tool")
    systems = [m["content"] for m in messages if m["role"] == "system" and m["content"]]
    assert system == ("\n\n".join(systems) if systems else None)


tool_calls = st.lists(
    st.builds(
        lambda name, args: ToolCall(name, json.dumps(args)),
        st.sampled_from(["lookup", "get_weather"]),
        st.dictionaries(st.sampled_from(["q", "city", "n"]), st.integers(0, 99) | text, max_size=3),
    ),
    max_size=3,
)


@settings(max_examples=100, deadline=None)
@given(
    chunks=st.lists(st.text(alphabet="ab .\n", min_size=1, max_size=6), max_size=6),
    calls=tool_calls,
    finish=st.sampled_from([None, "stop", "length", "tool_calls"]),
)
def test_stream_and_message_translate_to_the_same_answer(
    chunks: list[str], calls: list[ToolCall], finish: str | None
) -> None:
    """The fake server's event sequence and its message for one reply give the same text, calls and finish."""
    reply = Reply(chunks=chunks, tool_calls=calls, finish_reason=finish, usage=Usage(7, 5))
    facts = CallFacts(MODEL, 7, 1, 0)
    adapter = AnthropicAdapter("k", clock=lambda: 0.0)
    completion = adapter.parse_chat_response(json.dumps(anthropic_wire.message(reply, facts)).encode(), MODEL)

    request = ChatRequest(MODEL, [{"role": "user", "content": "x"}], stream=True, params={"stream_options": {"include_usage": True}})
    parser = adapter.stream_parser(request)
    streamed = [c for e in anthropic_wire.stream_events(reply, facts) for c in parser.feed(e.event or "", e.data)]
    assert parser.done

    choice = completion.choices[0]
    content = "".join(c.choices[0].delta.content or "" for c in streamed if c.choices)
    assert content == (choice.message.content or "")
    arguments: dict[int, str] = {}
    names: dict[int, str | None] = {}
    for chunk in streamed:
        for call in (chunk.choices[0].delta.tool_calls or []) if chunk.choices else []:
            assert call.function is not None
            arguments[call.index] = arguments.get(call.index, "") + (call.function.arguments or "")
            names.setdefault(call.index, call.function.name)
    expected = choice.message.tool_calls or []
    assert [names[i] for i in sorted(names)] == [c.function.name for c in expected]  # type: ignore[union-attr]
    assert [json.loads(arguments[i]) for i in sorted(arguments)] == [json.loads(c.function.arguments) for c in expected]  # type: ignore[union-attr]
    assert [c.choices[0].finish_reason for c in streamed if c.choices and c.choices[0].finish_reason] == [choice.finish_reason]
    assert streamed[-1].usage == completion.usage
