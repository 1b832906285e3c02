"""The "any chunking" strategies: every split the fake server replays arrives as exactly those deltas."""

from __future__ import annotations

import anthropic
import openai
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deepsentinel.testing import FakeLLMServer, Reply
from deepsentinel.testing.strategies import (
    TEXT_APIS,
    TOOL_APIS,
    chunked_text_reply,
    chunked_tool_reply,
    read_text_deltas,
    read_tool_argument_deltas,
    splits,
)

CARD_TEXT = "Your card is 4111 1111 1111 1111, thanks."
ARGUMENTS = '{"card": "4111 1111 1111 1111", "note": "ok"}'


@given(text=st.text(max_size=40), data=st.data())
def test_splits_cover_the_text_with_non_empty_pieces(text: str, data: st.DataObject) -> None:
    """Any split joins back to the text, with no empty piece and at most max_pieces pieces."""
    pieces = data.draw(splits(text, max_pieces=5))
    assert "".join(pieces) == text and all(pieces) and len(pieces) <= 5


def _client(api: str, server: FakeLLMServer) -> openai.OpenAI | anthropic.Anthropic:
    if api == "anthropic":
        return anthropic.Anthropic(base_url=server.anthropic_base_url, api_key="test", max_retries=0)
    return openai.OpenAI(base_url=server.openai_base_url, api_key="test", max_retries=0)


@pytest.mark.parametrize("api", TEXT_APIS)
def test_text_deltas_arrive_as_chunked(api: str) -> None:
    """For every text stream grammar, the SDK sees exactly the drawn chunks."""
    with FakeLLMServer() as server, _client(api, server) as client:

        @settings(max_examples=15, deadline=None)
        @given(reply=chunked_text_reply(CARD_TEXT))
        def check(reply: Reply) -> None:
            server.enqueue(reply)
            assert read_text_deltas(api, client) == list(reply.chunks or [])  # type: ignore[arg-type]

        check()


@pytest.mark.parametrize("api", TOOL_APIS)
def test_tool_argument_deltas_arrive_as_chunked(api: str) -> None:
    """For every tool-argument stream grammar (chat, Responses, Anthropic input_json), the same."""
    with FakeLLMServer() as server, _client(api, server) as client:

        @settings(max_examples=15, deadline=None)
        @given(reply=chunked_tool_reply("pay", ARGUMENTS))
        def check(reply: Reply) -> None:
            server.enqueue(reply)
            expected = list(reply.tool_calls[0].argument_chunks or [])
            assert read_tool_argument_deltas(api, client) == expected  # type: ignore[arg-type]

        check()
