"""A streamed event with a value of an unexpected kind anywhere (an index that is an array, a delta that is a
number, an id of NaN: a provider's bug, or a hostile one) is guarded like any other: the stream goes on, or is
cut with the guard's own error, never a ``TypeError``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from deepsentinel.detection.engine import default_engine
from deepsentinel.errors import ComplianceViolationError
from deepsentinel.policy.policy import DEFAULT_POLICY
from deepsentinel.wire.event_guard import EventGuard
from deepsentinel.wire.guard import WireGuard
from deepsentinel.wire.sse import Event

WIRE = WireGuard([DEFAULT_POLICY], default_engine())
CHAT = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "stream": True}
TOKEN = {"token": "Hi", "logprob": -0.1, "bytes": [72, 105], "top_logprobs": [{"token": "Hey", "logprob": -2.0}]}
ITEM = {"id": "m1", "type": "message", "role": "assistant",
        "content": [{"type": "output_text", "text": "Hi", "logprobs": [TOKEN],
                     "annotations": [{"type": "url_citation", "title": "T", "url": "https://e.example"}]}]}
STREAMS: dict[str, tuple[str, dict[str, Any], list[tuple[str, dict[str, Any]]]]] = {
    "chat": ("/v1/chat/completions", CHAT, [
        ("", {"choices": [{"index": 0, "delta": {"content": "Hi", "tool_calls": [
            {"index": 0, "id": "t", "function": {"name": "f", "arguments": "{}"}}]}, "finish_reason": None,
            "logprobs": {"content": [TOKEN], "refusal": None}}]}),
        ("", {"choices": [{"index": 0, "delta": {"content": " there"}, "finish_reason": None}]}),
        ("", {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})]),
    "completions": ("/v1/completions", {"model": "m", "prompt": "hi", "stream": True}, [
        ("", {"choices": [{"index": 0, "text": "Hi", "finish_reason": None}]}),
        ("", {"choices": [{"index": 0, "text": "", "finish_reason": "stop"}]})]),
    "anthropic": ("/v1/messages", {**CHAT, "max_tokens": 5}, [
        ("content_block_delta", {"type": "content_block_delta", "index": 0,
                                 "delta": {"type": "text_delta", "text": "Hi"}}),
        ("content_block_stop", {"type": "content_block_stop", "index": 0})]),
    "responses": ("/v1/responses", {"model": "m", "input": "hi", "stream": True}, [
        ("response.output_text.delta", {"type": "response.output_text.delta", "item_id": "m1", "output_index": 0,
                                        "content_index": 0, "delta": "Hi", "logprobs": [TOKEN]}),
        ("response.output_text.done", {"type": "response.output_text.done", "item_id": "m1", "output_index": 0,
                                       "content_index": 0, "text": "Hi"}),
        ("response.content_part.done", {"type": "response.content_part.done", "item_id": "m1", "output_index": 0,
                                        "content_index": 0, "part": ITEM["content"][0]}),
        ("response.output_item.done", {"type": "response.output_item.done", "output_index": 0, "item": ITEM}),
        ("response.completed", {"type": "response.completed", "response": {"id": "r", "output": [ITEM]}})]),
}


def _places(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every value's path: objects, arrays, numbers, nulls, and the strings that name things (texts are read,
    not keyed or walked)."""
    if path and (not isinstance(node, str) or path[-1] in ("type", "id", "item_id")):
        yield path
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _places(value, (*path, key))
    elif isinstance(node, list):
        for n, value in enumerate(node):
            yield from _places(value, (*path, n))


ODD = ([0], {"a": 1}, 5, "x", 1e400, float("nan"), None)


def _variants(api: str) -> Iterator[tuple[int, list[Event]]]:
    _, _, events = STREAMS[api]
    for n, (name, payload) in enumerate(events):
        for path in _places(payload):
            for odd in ODD:
                copy = json.loads(json.dumps(payload))
                node = copy
                for key in path[:-1]:
                    node = node[key]
                node[path[-1]] = odd
                batch = [Event(e, json.dumps(p)) for e, p in events]
                batch[n] = Event(name, json.dumps(copy))
                yield n, batch


@pytest.mark.parametrize("api", list(STREAMS))
def test_a_value_of_an_unexpected_kind_never_crashes_the_guard(api: str) -> None:
    path, request, _ = STREAMS[api]
    for _, events in _variants(api):
        for together in (False, True):
            guard = EventGuard(WIRE, WIRE.check_request(path, json.dumps(request).encode()))
            if together:
                _, error = guard.feed_many(events)
                assert error is None or isinstance(error, ComplianceViolationError), (events, error)
            else:
                for event in events:
                    guard.feed(event)
            guard.finish()
