"""What the compliance checks of the drop-in matrix assert, shared by every path.

(a) A prompt with a valid SSN fails with ``deepsentinel.ComplianceViolationError`` somewhere in the
exception chain (libraries may wrap it) and the fake server logs no request to the endpoint.
(b) An answer carrying a card number never shows any group of its digits to the caller: the call
either ends with the compliance error (after harmless text) or returns the text with the number
taken out.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterable, Callable, Iterable
from typing import Any

import pytest

import deepsentinel
from deepsentinel.testing import FakeLLMServer, Reply, ToolCall


def ssn_prompt() -> str:
    """A prompt with a valid SSN, assembled at run time."""
    return "My SSN is " + "-".join(["536", "22", "1234"]) + ", please file my taxes."


CARD_DIGITS = "4111" * 1 + "1111" * 3
# The number split mid-group across chunks: a guard must hold back "4111 11" until it knows.
CARD_CHUNKS = ["Your card is 4111 11", "11 1111 ", "1111, thanks."]
CARD_ARGUMENT_CHUNKS = ['{"card": "4111 11', '11 1111 11', '11"}']


def card_reply() -> Reply:
    """A text answer with the card number split across chunks."""
    return Reply(chunks=CARD_CHUNKS)


def card_tool_reply(name: str) -> Reply:
    """A tool call whose streamed arguments carry the card number split across deltas."""
    return Reply(tool_calls=[ToolCall(name=name, arguments="".join(CARD_ARGUMENT_CHUNKS),
                                      argument_chunks=CARD_ARGUMENT_CHUNKS)])


def compliance_in_chain(error: BaseException) -> bool:
    """Whether ``ComplianceViolationError`` is ``error`` or anywhere in its cause/context chain."""
    seen: set[int] = set()
    todo: list[BaseException] = [error]
    while todo:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, deepsentinel.ComplianceViolationError):
            return True
        todo += [e for e in (current.__cause__, current.__context__) if e is not None]
        todo += list(getattr(current, "exceptions", ()))  # exception groups
    return False


def assert_no_card(text: str) -> None:
    """No group of the card's digits is visible, with or without separators."""
    squeezed = re.sub(r"[\s\-]", "", text)
    assert "4111" not in squeezed and "1111" not in squeezed, "card digits reached the caller"


def assert_prompt_blocked(server: FakeLLMServer, path: str, call: Callable[[], Any]) -> None:
    """``call`` fails with the compliance error in its chain and ``path`` got no request."""
    before = server.request_count(path)
    with pytest.raises(Exception) as caught:  # noqa: B017, PT011 - each library wraps differently; the chain is checked
        call()
    assert compliance_in_chain(caught.value), f"not a compliance error: {type(caught.value).__name__}"
    assert server.request_count(path) == before, f"the prompt reached {path}"


async def assert_prompt_blocked_async(server: FakeLLMServer, path: str, call: Callable[[], Any]) -> None:
    """The async form of :func:`assert_prompt_blocked` (``call`` returns an awaitable)."""
    before = server.request_count(path)
    with pytest.raises(Exception) as caught:  # noqa: B017, PT011
        await call()
    assert compliance_in_chain(caught.value), f"not a compliance error: {type(caught.value).__name__}"
    assert server.request_count(path) == before, f"the prompt reached {path}"


def collect(pieces: Callable[[], Iterable[str]]) -> str:
    """Everything the caller saw from ``pieces`` before it ended or failed; a failure must be ours."""
    seen: list[str] = []
    try:
        for piece in pieces():
            seen.append(piece)
    except Exception as error:  # noqa: BLE001 - checked just below
        assert compliance_in_chain(error), f"failed, but not with a compliance error: {type(error).__name__}"
    return "".join(seen)


async def collect_async(pieces: Callable[[], AsyncIterable[str]]) -> str:
    """The async form of :func:`collect`."""
    seen: list[str] = []
    try:
        async for piece in pieces():
            seen.append(piece)
    except Exception as error:  # noqa: BLE001
        assert compliance_in_chain(error), f"failed, but not with a compliance error: {type(error).__name__}"
    return "".join(seen)


def one(value: Callable[[], str]) -> Callable[[], Iterable[str]]:
    """A non-streamed call as a one-piece stream, so :func:`collect` checks it the same way."""
    return lambda: iter([value()])
