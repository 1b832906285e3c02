"""OpenAI's ``obfuscation`` padding is skipped only where OpenAI puts it: the top level of a streamed event.

At 32824e8 every string under an ``obfuscation`` key was skipped, at any depth, in whole answers and in unknown
endpoints' bodies too: a model's shell-call ``env`` or an unknown endpoint's field of that name went out unread.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from deepsentinel import ComplianceViolationError
from deepsentinel.detection.engine import default_engine
from deepsentinel.policy.policy import DEFAULT_POLICY
from deepsentinel.wire.event_guard import EventGuard
from deepsentinel.wire.guard import WireGuard
from deepsentinel.wire.sse import Event

SSN = "536-22-" + "1234"
GUARD = WireGuard([DEFAULT_POLICY], default_engine())
SHELL = {"type": "local_shell_call", "id": "lsh_1", "call_id": "c", "status": "completed",
         "action": {"type": "exec", "command": ["env"], "env": {"obfuscation": f"ssn {SSN}"}}}


def _answer(path: str, request: dict[str, Any], body: dict[str, Any]) -> str:
    check = GUARD.check_request(path, json.dumps(request).encode())
    try:
        out, _ = GUARD.check_response(check, json.dumps(body).encode())
    except ComplianceViolationError as exc:
        return str(exc)
    return out.decode()


@pytest.mark.parametrize(("path", "request_body", "body"), [
    ("/v1/responses", {"model": "m", "input": "hi"}, {"id": "r", "object": "response", "output": [SHELL]}),
    ("/v1/vector_stores/vs_1/search", {"query": "hi"},
     {"object": "list", "data": [{"file_id": "f", "attributes": {"obfuscation": f"ssn {SSN}"}}]}),
    ("/v1/chat/completions", {"model": "m", "messages": [{"role": "user", "content": "hi"}]},
     {"id": "c", "object": "chat.completion", "obfuscation": f"ssn {SSN}", "choices": []}),
])
def test_an_obfuscation_key_in_a_whole_answer_is_read(path: str, request_body: dict[str, Any], body: dict[str, Any]) -> None:
    """Whole answers carry no padding: a string under that key is text like any other."""
    assert SSN not in _answer(path, request_body, body)


def test_an_obfuscation_key_inside_a_streamed_item_is_read() -> None:
    """Inside an event (a finished shell call's env), the key is the model's, not OpenAI's padding."""
    check = GUARD.check_request("/v1/responses", b'{"model":"m","input":"hi","stream":true}')
    guard = EventGuard(GUARD, check, ())
    payload = {"type": "response.output_item.done", "output_index": 0, "item": SHELL, "obfuscation": "M11AE"}
    try:
        shown = "".join(e.data for e in guard.feed(Event("response.output_item.done", json.dumps(payload))))
    except ComplianceViolationError:
        shown = ""
    assert SSN not in shown


def test_the_padding_at_the_top_of_a_streamed_event_is_left_alone() -> None:
    """What OpenAI pads a delta with is passed as it came (a run like a postcode is not rewritten)."""
    check = GUARD.check_request("/v1/chat/completions", b'{"model":"m","messages":[{"role":"user","content":"hi"}]}')
    guard = EventGuard(GUARD, check, ())
    chunk = {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m", "obfuscation": "M11AE",
             "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}]}
    [out] = guard.feed(Event("", json.dumps(chunk)))
    assert json.loads(out.data)["obfuscation"] == "M11AE"
