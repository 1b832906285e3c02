"""Hypothesis strategies for "any chunking" of streamed answers, and readers of what an SDK saw.

A :class:`Reply` is provider-neutral, so one scripted chunking drives every stream grammar the fake
server speaks: chat ``delta.content``, Responses ``response.output_text.delta``, Anthropic
``text_delta`` and legacy completions for text; chat ``tool_calls[].function.arguments``, Responses
``response.function_call_arguments.delta`` and Anthropic ``input_json_delta`` for tool arguments::

    @given(reply=chunked_text_reply("Card 4111 1111 1111 1111 ok"))  # deepsentinel: allow
    def test_any_chunking(reply):
        server.enqueue(reply)
        seen = read_text_deltas("responses", client)     # the deltas, as the SDK parsed them
        ...

Like :mod:`deepsentinel.testing.pytest_plugin`, this module needs a test-only package (hypothesis).
"""

from __future__ import annotations

from typing import Any, Literal

import anthropic
import openai
from hypothesis import strategies as st

from deepsentinel.testing.replies import Reply, ToolCall

TextApi = Literal["chat", "responses", "anthropic", "completions"]
ToolApi = Literal["chat", "responses", "anthropic"]
TEXT_APIS: tuple[TextApi, ...] = ("chat", "responses", "anthropic", "completions")
TOOL_APIS: tuple[ToolApi, ...] = ("chat", "responses", "anthropic")
OPENAI_MODEL = "gpt-4o-mini"
ANTHROPIC_MODEL = "claude-haiku-4-5"


@st.composite
def splits(draw: st.DrawFn, text: str, *, max_pieces: int | None = None) -> list[str]:
    """``text`` cut at any set of positions: non-empty pieces whose concatenation is ``text``."""
    if len(text) <= 1:
        return [text] if text else []
    limit = len(text) - 1 if max_pieces is None else min(len(text) - 1, max_pieces - 1)
    cuts = draw(st.sets(st.integers(min_value=1, max_value=len(text) - 1), max_size=limit))
    bounds = [0, *sorted(cuts), len(text)]
    return [text[start:end] for start, end in zip(bounds, bounds[1:], strict=False)]


def chunked_text_reply(text: str | st.SearchStrategy[str], *, max_pieces: int | None = None) -> st.SearchStrategy[Reply]:
    """Replies whose text (given, or drawn) is streamed in any chunking."""
    texts = text if isinstance(text, st.SearchStrategy) else st.just(text)
    return texts.flatmap(lambda t: splits(t, max_pieces=max_pieces)).map(lambda pieces: Reply(chunks=pieces))


def chunked_tool_reply(name: str, arguments: str, *, max_pieces: int | None = None) -> st.SearchStrategy[Reply]:
    """Replies with one tool call whose JSON ``arguments`` are streamed in any chunking."""
    return splits(arguments, max_pieces=max_pieces).map(
        lambda pieces: Reply(tool_calls=[ToolCall(name=name, arguments=arguments, argument_chunks=pieces)]))


def _user(text: str) -> Any:
    return [{"role": "user", "content": text}]


def read_text_deltas(api: TextApi, client: openai.OpenAI | anthropic.Anthropic, prompt: str = "hi") -> list[str]:
    """Stream one answer through the official SDK and return its non-empty text deltas in order."""
    if api == "anthropic":
        assert isinstance(client, anthropic.Anthropic)
        with client.messages.stream(model=ANTHROPIC_MODEL, max_tokens=256, messages=_user(prompt)) as events:
            return [text for text in events.text_stream if text]
    assert isinstance(client, openai.OpenAI)
    if api == "chat":
        with client.chat.completions.create(model=OPENAI_MODEL, messages=_user(prompt), stream=True) as chunks:
            return [c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content]
    if api == "completions":
        with client.completions.create(model="gpt-3.5-turbo-instruct", prompt=prompt, stream=True) as pieces:
            return [c.choices[0].text for c in pieces if c.choices and c.choices[0].text]
    with client.responses.create(model=OPENAI_MODEL, input=prompt, stream=True) as stream:
        return [e.delta for e in stream if e.type == "response.output_text.delta" and e.delta]


def read_tool_argument_deltas(api: ToolApi, client: openai.OpenAI | anthropic.Anthropic,
                              prompt: str = "hi") -> list[str]:
    """Stream one tool-calling answer through the official SDK and return its argument deltas in order."""
    if api == "anthropic":
        assert isinstance(client, anthropic.Anthropic)
        with client.messages.stream(model=ANTHROPIC_MODEL, max_tokens=256, messages=_user(prompt)) as events:
            return [e.partial_json for e in events if e.type == "input_json" and e.partial_json]
    assert isinstance(client, openai.OpenAI)
    if api == "chat":
        seen: list[str] = []
        with client.chat.completions.create(model=OPENAI_MODEL, messages=_user(prompt), stream=True) as chunks:
            for chunk in chunks:
                for call in (chunk.choices[0].delta.tool_calls or []) if chunk.choices else []:
                    if call.function is not None and call.function.arguments:
                        seen.append(call.function.arguments)
        return seen
    with client.responses.create(model=OPENAI_MODEL, input=prompt, stream=True) as stream:
        return [e.delta for e in stream if e.type == "response.function_call_arguments.delta" and e.delta]
