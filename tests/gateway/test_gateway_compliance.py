"""Compliance through the gateway is the SDK's wire guard: blocks before sending, cuts streams, fails closed."""

from __future__ import annotations

import json
from typing import Any

import anthropic
import httpx2
import openai
import pytest

from deepsentinel.detection.engine import DetectionEngine
from deepsentinel.detection.findings import Category, Severity
from deepsentinel.detection.recognizer import Pattern, PatternRecognizer
from deepsentinel.detection.recognizers import BUILTIN_RECOGNIZERS
from deepsentinel.sentinel import Sentinel
from deepsentinel.testing import FakeLLMServer, Reply
from tests.gateway.conftest import CLIENT_KEY, RunningGateway, StartGateway, gateway_env

SSN = "536-22-" + "1234"
CARD = ["4111 1111", " 1111 1111"]  # a valid test card number, split across deltas


def _post(gw: RunningGateway, path: str, body: dict[str, object]) -> httpx2.Response:
    with httpx2.Client(timeout=10) as http:
        return http.post(gw.url + path, json=body, headers={"authorization": f"Bearer {CLIENT_KEY}"})


def test_blocked_prompt_is_a_400_in_openai_format_and_nothing_is_sent(gateway: RunningGateway, fake_server: FakeLLMServer) -> None:
    """An SSN in the prompt: 400 compliance_violation naming US_SSN (not the value); the upstream saw nothing."""
    client = openai.OpenAI(base_url=gateway.url + "/v1", api_key=CLIENT_KEY, max_retries=0)
    with client, pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": f"My SSN is {SSN}"}])
    assert info.value.status_code == 400
    assert info.value.body == {"message": "The request was blocked by a compliance policy (US_SSN).",
                               "type": "compliance_violation", "param": None, "code": "compliance_violation",
                               "violations": ["US_SSN"]}
    assert SSN not in info.value.response.text
    assert fake_server.request_count() == 0


def test_blocked_prompt_in_anthropic_format(gateway: RunningGateway, fake_server: FakeLLMServer) -> None:
    """The same block for an Anthropic client is an Anthropic error body."""
    client = anthropic.Anthropic(base_url=gateway.url, api_key=CLIENT_KEY, max_retries=0)
    with client, pytest.raises(anthropic.BadRequestError) as info:
        client.messages.create(model="claude-haiku-4-5", max_tokens=32,
                               messages=[{"role": "user", "content": f"SSN {SSN}"}])
    assert info.value.body == {"type": "error", "error": {
        "type": "compliance_violation", "message": "The request was blocked by a compliance policy (US_SSN).",
        "violations": ["US_SSN"]}}
    assert fake_server.request_count() == 0


@pytest.mark.parametrize(("path", "body", "marker"), [
    ("/v1/chat/completions", {"model": "gpt-4o-mini", "stream": True}, b'data: {"error"'),
    ("/v1/messages", {"model": "claude-haiku-4-5", "max_tokens": 64, "stream": True}, b"event: error\n"),
    ("/v1/responses", {"model": "gpt-4o-mini", "stream": True, "input": "Say something"}, b"event: error\n"),
], ids=["chat", "messages", "responses"])
def test_card_number_in_a_stream_is_cut_with_an_error_event(gateway: RunningGateway, fake_server: FakeLLMServer,
                                                           path: str, body: dict[str, object], marker: bytes) -> None:
    """A card number mid-stream: what came before arrives, then the API's error event; the digits never do."""
    fake_server.enqueue(Reply(chunks=["Your number is ", *CARD, " thanks"]))
    if "input" not in body:
        body = {**body, "messages": [{"role": "user", "content": "Say something"}]}
    response = _post(gateway, path, body)
    raw = response.content
    assert response.status_code == 200
    assert b"Your" in raw  # the text before the card number was relayed
    assert marker in raw
    assert b"4111" not in raw and b"1111 1111" not in raw
    assert b"thanks" not in raw
    error = [line for line in raw.split(b"\n") if line.startswith(b"data: ") and b"compliance_violation" in line]
    assert error and "CREDIT_CARD" in json.dumps(json.loads(error[-1][6:]))


def test_openai_sdk_sees_the_cut_as_an_error_after_the_safe_text(gateway: RunningGateway, fake_server: FakeLLMServer) -> None:
    """The official SDK raises on the error event; the text it yielded before holds no digit of the card."""
    fake_server.enqueue(Reply(chunks=["Card: ", *CARD, " done"]))
    seen: list[str] = []
    client = openai.OpenAI(base_url=gateway.url + "/v1", api_key=CLIENT_KEY, max_retries=0)
    with client, pytest.raises(openai.APIError, match="compliance policy"):
        stream = client.chat.completions.create(model="gpt-4o-mini", stream=True,
                                                messages=[{"role": "user", "content": "Say something"}])
        for chunk in stream:
            if chunk.choices:
                seen.append(chunk.choices[0].delta.content or "")
    assert not any(ch.isdigit() for ch in "".join(seen))


def test_card_number_in_a_whole_answer_is_a_400(gateway: RunningGateway, fake_server: FakeLLMServer) -> None:
    """A non-streamed answer carrying a card number is refused whole: a 400, no part of the answer."""
    fake_server.enqueue(Reply(text="Use 4111 1111 1111 1111 please"))
    response = _post(gateway, "/v1/chat/completions",
                     {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Say something"}]})
    assert response.status_code == 400
    assert response.json()["error"]["violations"] == ["CREDIT_CARD"]
    assert "4111" not in response.text


def _crashing_engine() -> DetectionEngine:
    """The built-in catalog plus a user's recognizer whose validator has a bug (raises on its value)."""
    def broken(value: str) -> bool:
        raise RuntimeError("validator bug")

    crashy = PatternRecognizer("TICKET", Category.CUSTOM, Severity.LOW,
                               (Pattern("ticket", r"KABOOM-[0-9]{4}", 0.9),), validator=broken)
    return DetectionEngine((*BUILTIN_RECOGNIZERS, crashy))


def test_guard_failure_on_the_request_refuses_it(start_gateway: StartGateway, fake_server: FakeLLMServer) -> None:
    """If the guard itself errors, the request is refused with a 500 and nothing is sent (fail closed)."""
    gw = start_gateway(sentinel=Sentinel(environ=gateway_env(fake_server), engine=_crashing_engine()))
    response = _post(gw, "/v1/chat/completions",
                     {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "ref KABOOM-1234"}]})
    assert response.status_code == 500
    assert response.json()["error"]["type"] == "internal_error"
    assert "KABOOM" not in response.text and "validator bug" not in response.text
    assert fake_server.request_count() == 0


def test_guard_failure_mid_stream_cuts_it(start_gateway: StartGateway, fake_server: FakeLLMServer) -> None:
    """A guard error while streaming ends the stream with an error event; nothing after it is relayed."""
    gw = start_gateway(sentinel=Sentinel(environ=gateway_env(fake_server), engine=_crashing_engine()))
    # Apart in time, so the safe words are guarded (and relayed) before the burst that crashes the guard.
    fake_server.enqueue(Reply(chunks=["Safe words here. ", "then KABOOM-1234", " and the rest"], delay_between=0.2))
    response = _post(gw, "/v1/chat/completions", {"model": "gpt-4o-mini", "stream": True,
                                                   "messages": [{"role": "user", "content": "Say something"}]})
    assert b"Safe words" in response.content
    assert b'"type": "internal_error"' in response.content
    assert b"KABOOM" not in response.content and b"the rest" not in response.content


def test_a_compressed_answer_is_inflated_and_checked_or_refused(gateway: RunningGateway, fake_server: FakeLLMServer) -> None:
    """A provider that compresses although asked not to: the gateway reads the answer inflated, or refuses one
    in a coding it cannot undo (a 502, nothing of the answer)."""
    fake_server.enqueue(Reply(text="Soft rain.", compress="gzip"), Reply(text="card 4111 1111 1111 1111", compress="deflate"),
                        Reply(text="Soft rain.", compress="zstd"))
    with openai.OpenAI(base_url=gateway.url + "/v1", api_key=CLIENT_KEY, max_retries=0) as client:
        ask: dict[str, Any] = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
        assert client.chat.completions.create(**ask).choices[0].message.content == "Soft rain."
        with pytest.raises(openai.BadRequestError) as blocked:
            client.chat.completions.create(**ask)
        assert "CREDIT_CARD" in str(blocked.value.body) and "4111" not in blocked.value.response.text
        with pytest.raises(openai.APIStatusError) as refused:
            client.chat.completions.create(**ask)
        assert refused.value.status_code == 502 and "cannot read" in refused.value.message


def test_a_gzip_transfer_coding_is_inflated_and_checked(start_gateway: StartGateway) -> None:
    """``Transfer-Encoding: gzip, chunked``: the gateway's upstream client removes only the chunked framing, so
    the guard inflates the rest before it reads the answer (it once went to the client unread)."""
    import gzip

    from tests.gateway.test_gateway_network import TinyServer

    answer = json.dumps({"id": "c1", "object": "chat.completion", "created": 1, "model": "gpt-4o-mini", "choices": [
        {"index": 0, "message": {"role": "assistant", "content": "card 4111 1111 1111 1111"},
         "finish_reason": "stop"}]}).encode()
    body = gzip.compress(answer)
    server = TinyServer(reply=b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: gzip, chunked"
                              b"\r\n\r\n%x\r\n%s\r\n0\r\n\r\n" % (len(body), body))
    try:
        gw = start_gateway(OPENAI_BASE_URL=f"http://127.0.0.1:{server.port}/v1")
        response = _post(gw, "/v1/chat/completions",
                         {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Say something"}]})
    finally:
        server.listener.close()
    assert response.status_code == 400 and response.json()["error"]["violations"] == ["CREDIT_CARD"]
