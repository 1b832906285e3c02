"""An answer is read for what its API sends, not for the type it claims: a stream asked for is read as events
under any content type (the SDK parses it so), and an API that answers in text is read even when its answer says
it is audio or an image. Only endpoints that make media (speech, an image's bytes) pass it untouched."""

from __future__ import annotations

import json
from typing import Any

import pytest

from deepsentinel import ComplianceViolationError, SentinelClient
from tests.conftest import user
from tests.raw_sse import RawSSEServer, sse

CARD = "4111 1111 1111 " + "1111"


def _chunk(text: str) -> bytes:
    return sse("", {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m",
                    "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}]})


STREAM = _chunk("card 4111 1111 ") + _chunk("1111 1111, thanks") + sse("", "[DONE]")
WHOLE = json.dumps({"id": "c", "object": "chat.completion", "created": 1, "model": "m", "choices": [
    {"index": 0, "message": {"role": "assistant", "content": f"card {CARD}"}, "finish_reason": "stop"}]}).encode()
# The card only ever split across events (no whole-text event): read as plain text, the framing between its
# halves hid it.
TRANSCRIPT = (sse("", {"type": "transcript.text.delta", "delta": "my card is 4111 1111 "})
              + sse("", {"type": "transcript.text.delta", "delta": "1111 1111 ok"}))


def _read(client: SentinelClient, how: str) -> str:
    if how == "chat-stream":
        return "".join(c.choices[0].delta.content or "" for c in client.chat.completions.create(
            model="m", messages=user("hi"), stream=True) if c.choices)
    if how == "chat":
        return str(client.chat.completions.create(model="m", messages=user("hi")).choices[0].message.content)
    return "".join(getattr(e, "delta", "") for e in client.audio.transcriptions.create(
        file=("a.wav", b"RIFF....WAVE"), model="gpt-4o-transcribe", stream=True))


@pytest.mark.parametrize(("how", "body", "content_type"), [
    ("chat-stream", STREAM, "application/json"),
    ("chat-stream", STREAM, "application/problem+json"),
    ("chat-stream", STREAM, "audio/mpeg"),
    ("chat", WHOLE, "image/png"),
    ("transcription-stream", TRANSCRIPT, "text/plain"),
    ("transcription-stream", TRANSCRIPT, "application/octet-stream"),
])
def test_a_card_is_cut_whatever_type_its_answer_claims(how: str, body: bytes, content_type: str) -> None:
    server = RawSSEServer((body, b""), content_type=content_type, chunked=True)
    shown: list[Any] = []
    try:
        client = SentinelClient(api_key="k", base_url=server.url, max_retries=0, audit=False)
        with pytest.raises(ComplianceViolationError):
            shown.append(_read(client, how))
        client.close()
    finally:
        server.close()
    assert not shown


def test_a_stream_asked_for_and_answered_in_ndjson_is_read_before_it_passes() -> None:
    """Ollama's own API answers ``stream: true`` with NDJSON, not events: read through a guarded httpx client,
    its lines are checked as text (they were passed on as the event decoder's leftovers, unread)."""
    import httpx2

    import deepsentinel

    lines = b"".join(json.dumps({"message": {"role": "assistant", "content": piece}}).encode() + b"\n"
                     for piece in ("the ssn is ", "536-22-1234", " ok"))
    server = RawSSEServer((lines, b""), content_type="application/x-ndjson", chunked=True)
    try:
        with deepsentinel.protect(httpx2.Client(), audit=False) as http, pytest.raises(ComplianceViolationError):
            http.post(server.url.removesuffix("/v1") + "/api/chat",
                      json={"model": "m", "messages": [{"role": "user", "content": "hi"}], "stream": True}).read()
    finally:
        server.close()


def test_a_comment_line_in_a_stream_is_read_too() -> None:
    """An SSE comment (or any line but ``event:``/``data:``) is ignored by the SDKs but reaches a caller reading
    bytes: a card in one never shows."""
    import httpx2

    import deepsentinel

    body = b": card " + CARD.encode() + b"\n" + _chunk("Hello.\n") + sse("", "[DONE]")
    server = RawSSEServer((body, b""), chunked=True)
    try:
        with deepsentinel.protect(httpx2.Client(), audit=False) as http:
            answer = http.post(server.url + "/chat/completions", json={
                "model": "m", "messages": [{"role": "user", "content": "hi"}], "stream": True})
            shown = answer.read()
    except ComplianceViolationError:
        shown = b""
    finally:
        server.close()
    assert b"1111 1111" not in shown


def test_json_that_claims_to_be_an_image_is_read_on_any_endpoint() -> None:
    """An endpoint read by the generic codec (here ``chat.completions.update``) answered with JSON typed image/png:
    its SDK parses it all the same, so it is read, as text (it used to pass as media)."""
    body = json.dumps({"id": "c", "object": "chat.completion", "metadata": {"note": f"card {CARD}"},
                       "choices": []}).encode()
    server = RawSSEServer((body, b""), content_type="image/png", chunked=True)
    try:
        client = SentinelClient(api_key="k", base_url=server.url, max_retries=0, audit=False)
        with pytest.raises(ComplianceViolationError):
            client.chat.completions.update("c", metadata={"a": "b"})
        client.close()
    finally:
        server.close()


def test_an_ndjson_stream_with_a_value_to_anonymize_arrives_rewritten_not_empty() -> None:
    """A body of nothing but lines the event decoder leaves over (NDJSON) whose value is anonymized leaves
    rewritten: it used to be dropped whole, a 200 with no bytes."""
    import httpx2

    import deepsentinel
    from deepsentinel import CompliancePolicy
    from deepsentinel.policy.actions import Action

    lines = b"".join(json.dumps({"message": {"role": "assistant", "content": piece}}).encode() + b"\n"
                     for piece in ("write to ", "jane.canary@corp-example.com", " today"))
    server = RawSSEServer((lines, b""), content_type="application/x-ndjson", chunked=True)
    policy = CompliancePolicy(name="p", entity_actions={"EMAIL_ADDRESS": Action.ANONYMIZE})
    try:
        with deepsentinel.protect(httpx2.Client(), audit=False, compliance_policies=[policy]) as http:
            got = http.post(server.url.removesuffix("/v1") + "/api/chat", json={
                "model": "m", "messages": [{"role": "user", "content": "hi"}], "stream": True}).read()
    finally:
        server.close()
    assert b"corp-example" not in got
    assert [json.loads(line)["message"]["content"] for line in got.splitlines() if line.strip()] == [
        "write to ", "<EMAIL_1>", " today"]


def test_an_event_name_holding_a_value_is_read() -> None:
    """An event's name reaches a caller reading bytes too: one that is not a provider's kind of name is read."""
    import httpx2

    import deepsentinel

    body = b"event: 536-22-1234\n" + _chunk("Hello.\n") + sse("", "[DONE]")
    server = RawSSEServer((body, b""), chunked=True)
    try:
        with deepsentinel.protect(httpx2.Client(), audit=False) as http, pytest.raises(ComplianceViolationError):
            http.post(server.url + "/chat/completions", json={
                "model": "m", "messages": [{"role": "user", "content": "hi"}], "stream": True}).read()
    finally:
        server.close()
