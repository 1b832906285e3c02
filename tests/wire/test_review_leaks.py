"""Leaks a hostile review found in the wire guard, each a regression test (pure where it can be, HTTP where
the seam is the client)."""

from __future__ import annotations

import json
from typing import Any

import httpx2
import openai
import pytest

import deepsentinel
from deepsentinel import ComplianceViolationError, SentinelClient
from deepsentinel.detection.engine import default_engine
from deepsentinel.policy.policy import DEFAULT_POLICY
from deepsentinel.testing import FakeLLMServer
from deepsentinel.wire.body import JsonBody
from deepsentinel.wire.codec import codec_for
from deepsentinel.wire.event_guard import EventGuard
from deepsentinel.wire.exchange import Attempt, Outgoing
from deepsentinel.wire.guard import RequestCheck, WireGuard
from deepsentinel.wire.sse import Event

SSN = "536-22-" + "1234"
CARD = "4111 1111 1111 " + "1111"
GUARD = WireGuard([DEFAULT_POLICY], default_engine())
CHAT = b'{"model":"m","messages":[{"role":"user","content":"hi"}]}'


def _blocked(path: str, body: dict[str, Any]) -> ComplianceViolationError:
    with pytest.raises(ComplianceViolationError) as info:
        GUARD.check_request(path, json.dumps(body).encode())
    assert SSN not in str(info.value) and CARD not in str(info.value)
    return info.value


def _events(path: str, events: list[Event], secrets: tuple[str, ...] = ()) -> list[Event]:
    guard = EventGuard(GUARD, GUARD.check_request(path, CHAT if "chat" in path else b'{"model":"m","input":"hi"}'), secrets)
    return [out for event in events for out in guard.feed(event)]


def test_with_options_keeps_the_guard_whatever_http_client(fake_server: FakeLLMServer) -> None:
    """with_options(http_client=plain httpx2 client) on a protected or Sentinel client is still guarded."""
    for client in (deepsentinel.protect(openai.OpenAI(api_key="k", base_url=fake_server.openai_base_url), audit=False),
                   SentinelClient(api_key="k", base_url=fake_server.openai_base_url, audit=False)):
        copy = client.with_options(http_client=httpx2.Client(), max_retries=0)
        with pytest.raises(ComplianceViolationError):
            copy.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": f"ssn {SSN}"}])
    assert fake_server.request_count() == 0


def test_tool_inputs_are_read_whole_whatever_their_keys() -> None:
    """Keys that are structure elsewhere (user, data, id, status) are content inside a tool call's input."""
    _blocked("/v1/messages", {"model": "m", "max_tokens": 5, "messages": [
        {"role": "assistant", "content": [{"type": "tool_use", "id": "t", "name": "f", "input": {"user": SSN}}]}]})
    _blocked("/v1/messages", {"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": [
        {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": f"ssn {SSN}"}}]}]})


def test_a_value_split_across_three_parts_is_found() -> None:
    parts = [{"type": "text", "text": t} for t in ("my ssn is 536", "-22-", "1234")]
    _blocked("/v1/chat/completions", {"model": "m", "messages": [{"role": "user", "content": parts}]})


def test_an_object_key_holding_a_value_blocks_and_is_never_quoted() -> None:
    error = _blocked("/v1/messages", {"model": "m", "max_tokens": 5, "messages": [
        {"role": "assistant", "content": [{"type": "tool_use", "id": "t", "name": "f",
                                           "input": {f"customer {SSN}": "active"}}]}]})
    assert "object key" in str(error)


def test_a_non_json_upload_is_checked_as_text() -> None:
    body = b'--b\r\nContent-Disposition: form-data; name="file"\r\n\r\n{"ssn": "' + SSN.encode() + b'"}\r\n--b--\r\n'
    with pytest.raises(ComplianceViolationError):
        GUARD.check_request("/v1/files", body)


def test_streamed_logprobs_never_spell_held_back_text() -> None:
    chunk = {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m", "choices": [{
        "index": 0, "delta": {"content": "my ssn is 536-22"}, "finish_reason": None,
        "logprobs": {"content": [{"token": "536-22", "logprob": -0.1, "bytes": [], "top_logprobs": []}]}}]}
    [out] = _events("/v1/chat/completions", [Event("", json.dumps(chunk))])
    assert "536-22" not in out.data


@pytest.mark.parametrize(("path", "events"), [
    ("/v1/messages", [Event("content_block_start", json.dumps(
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": f"ssn {SSN}"}}))]),
    # Transcripts are guarded as streams of their own: the value is held, then blocked when the text ends.
    ("/v1/responses", [Event("response.audio.transcript.delta", json.dumps(
        {"type": "response.audio.transcript.delta", "delta": f"ssn {SSN}", "sequence_number": 1})),
        Event("response.audio.transcript.done", json.dumps({"type": "response.audio.transcript.done", "sequence_number": 2}))]),
    ("/v1/chat/completions", [Event("", json.dumps({"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m",
        "choices": [{"index": 0, "delta": {"audio": {"id": "a", "transcript": f"ssn {SSN}"}}, "finish_reason": None}]})),
        Event("", json.dumps({"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m",
                              "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}))]),
], ids=["anthropic-block-start", "responses-transcript", "chat-audio-transcript"])
def test_text_outside_the_known_delta_fields_is_checked(path: str, events: list[Event]) -> None:
    with pytest.raises(ComplianceViolationError):
        _events(path, events)


def test_an_in_stream_error_never_echoes_the_key() -> None:
    key = "sk-" + "Z" * 40
    [out] = _events("/v1/chat/completions", [Event("", json.dumps({"error": {"message": f"bad key {key}"}}))], (key,))
    assert key not in out.data


def test_an_answer_read_back_with_get_is_checked() -> None:
    """responses.retrieve and friends: no request text, but the stored answer is model output."""
    check = RequestCheck(codec_for("/v1/responses"), b"", {}, GUARD.check_request("/v1/x", b"{}").decision)
    body = JsonBody(GUARD, check, Attempt("", "", Outgoing("GET", "http://x/v1/responses/r", {}, b"")), None)
    body.feed(json.dumps({"id": "r", "output": [{"type": "message", "id": "m", "content": [
        {"type": "output_text", "text": f"ssn {SSN}"}]}]}).encode())
    with pytest.raises(ComplianceViolationError):
        body.end()


@pytest.mark.parametrize("stream", [False, True])
def test_a_value_in_a_tool_name_the_model_writes_is_checked(fake_server: FakeLLMServer, stream: bool) -> None:
    """The model writes the function name too: a value spelled into it is a value shown (it was skipped as an id)."""
    from deepsentinel.testing import Reply, ToolCall

    fake_server.enqueue(Reply(tool_calls=[ToolCall(name="ssn-" + SSN, arguments="{}")]))
    client = SentinelClient(api_key="k", base_url=fake_server.openai_base_url, audit=False, max_retries=0)
    with pytest.raises(ComplianceViolationError) as info:
        answer = client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}],
                                                stream=stream)
        if stream:
            with answer as chunks:  # type: ignore[union-attr]
                for _ in chunks:
                    pass
    client.close()
    assert SSN not in str(info.value)
    assert "US_SSN" in str(info.value)


def test_an_ordinary_tool_name_passes_untouched(fake_server: FakeLLMServer) -> None:
    from deepsentinel.testing import Reply, ToolCall

    fake_server.enqueue(Reply(tool_calls=[ToolCall(name="get_weather", arguments='{"city": "Paris"}')]))
    with SentinelClient(api_key="k", base_url=fake_server.openai_base_url, audit=False) as client:
        answer = client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
    call = answer.choices[0].message.tool_calls[0]  # type: ignore[index]
    assert call.function.name == "get_weather"  # type: ignore[union-attr]
