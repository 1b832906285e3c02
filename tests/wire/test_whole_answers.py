"""A whole (non-streamed) answer: the provider's own response when the guard left its bytes alone, a response
with headers that fit the new body when it rewrote them. Sync and asyncio shells alike."""

from __future__ import annotations

import copy
import json
import pickle
import socket
import threading
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest

from deepsentinel import AsyncSentinelClient, CompliancePolicy, SentinelClient, protect
from deepsentinel.testing import FakeLLMServer, Reply
from deepsentinel.transport import PROVIDER_EXTENSION
from deepsentinel.wire.exchange import Attempt, Outgoing

from ..conftest import create, user

EMAIL = "jane.canary" + "@corp-example.com"


async def _raw_answer(client: Any) -> Any:
    raw = client.chat.completions.with_raw_response.create(model="gpt-4o", messages=user("hello"))
    raw = await raw if hasattr(raw, "__await__") else raw
    return raw.http_response


@pytest.mark.parametrize("client_class", [SentinelClient, AsyncSentinelClient])
async def test_an_unchanged_answer_keeps_the_providers_headers(fake_server: FakeLLMServer, client_class: type) -> None:
    fake_server.enqueue(Reply(text="Mountains stand tall.", headers={"x-trace": "t-1"}))
    client = client_class(openai_api_key="k", base_url=fake_server.openai_base_url, audit=False)
    response = await _raw_answer(client)
    assert json.loads(response.content)["choices"][0]["message"]["content"] == "Mountains stand tall."
    assert response.headers["x-trace"] == "t-1"
    assert int(response.headers["content-length"]) == len(response.content)
    assert response.extensions[PROVIDER_EXTENSION] == "openai"
    assert response.elapsed.total_seconds() >= 0  # set once the SDK closed it, as on any response
    closed = client.close()
    if closed is not None:
        await closed


@pytest.mark.parametrize("client_class", [SentinelClient, AsyncSentinelClient])
async def test_a_rewritten_answer_gets_headers_that_fit_it(fake_server: FakeLLMServer, client_class: type) -> None:
    fake_server.enqueue(Reply(text=f"Write to {EMAIL} today.", headers={"x-trace": "t-2"}))
    policy = CompliancePolicy(name="mask", entity_actions={"EMAIL_ADDRESS": "anonymize"})
    client = client_class(openai_api_key="k", base_url=fake_server.openai_base_url, audit=False,
                          compliance_policies=[policy])
    response = await _raw_answer(client)
    content = json.loads(response.content)["choices"][0]["message"]["content"]
    assert EMAIL not in content and content.startswith("Write to ")
    assert int(response.headers["content-length"]) == len(response.content)
    assert response.headers["x-trace"] == "t-2"
    completion = await create(client, model="gpt-4o", messages=user("hello"))  # the next call still works
    assert completion.choices[0].message.content
    closed = client.close()
    if closed is not None:
        await closed


_ANSWER = json.dumps({"id": "c1", "object": "chat.completion", "created": 1, "model": "gpt-4o", "choices": [
    {"index": 0, "message": {"role": "assistant", "content": "Mountains stand tall."}, "finish_reason": "stop"}]}).encode()


@pytest.fixture()
def chunked_server() -> Iterator[str]:
    """A provider that sends a whole JSON answer with ``Transfer-Encoding: chunked`` (common on HTTP/1.1)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)

    def serve() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with conn:
                data = b""
                while b"\r\n\r\n" not in data:
                    data += conn.recv(65536)
                head, rest = data.split(b"\r\n\r\n", 1)
                length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                              if line.lower().startswith(b"content-length"))
                while len(rest) < length:
                    rest += conn.recv(65536)
                chunks = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in (_ANSWER[:40], _ANSWER[40:])) + b"0\r\n\r\n"
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
                             b"Connection: close\r\n\r\n" + chunks)

    threading.Thread(target=serve, daemon=True).start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/v1"
    listener.close()


@pytest.mark.parametrize("client_class", [SentinelClient, AsyncSentinelClient])
async def test_an_answer_read_chunked_goes_back_with_its_length(chunked_server: str, client_class: type) -> None:
    """The body is read whole: the caller's headers give its length, not the provider's chunked framing (a proxy
    that passes them on would frame its own answer wrongly)."""
    client = client_class(openai_api_key="k", base_url=chunked_server, audit=False)
    response = await _raw_answer(client)
    assert response.content == _ANSWER
    assert "transfer-encoding" not in response.headers
    assert response.headers["content-length"] == str(len(_ANSWER))
    closed = client.close()
    if closed is not None:
        await closed


def test_an_attempt_never_shows_its_key() -> None:
    attempt = Attempt("openai", "gpt-4o", Outgoing("POST", "http://x/v1/chat/completions", {}, b""), secrets=("sk-secret-1",))
    assert "sk-secret-1" not in repr(attempt)


@pytest.mark.parametrize("sdk_headers", [{"x-stainless-lang": "python"}, {}, {"x-stainless-lang": "python",
                                                                         "x-stainless-raw-response": "true"}],
                         ids=["sdk-call", "plain-http", "sdk-raw-response"])
@pytest.mark.parametrize("text", ["Mountains stand tall.", f"Write to {EMAIL} today."])
def test_json_of_an_answer_is_its_body_parsed_afresh_for_each_caller(
        fake_server: FakeLLMServer, sdk_headers: dict[str, str], text: str) -> None:
    """The guard's own parse of the body may stand in for the first ``json()`` of an SDK's plain call: each call
    still gives what ``json.loads`` gives for the body the caller got (rewritten or not), never an object another
    caller holds, and a copy of the response parses its body afresh."""
    fake_server.enqueue(Reply(text=text))
    policy = CompliancePolicy(name="mask", entity_actions={"EMAIL_ADDRESS": "anonymize"})
    with protect(httpx2.Client(), audit=False, compliance_policies=[policy]) as http:
        response = http.post(fake_server.openai_base_url + "/chat/completions", headers=sdk_headers,
                             json={"model": "gpt-4o", "messages": user("hello")})
    first = response.json()
    assert first == json.loads(response.content)
    first["choices"][0]["message"]["content"] = "changed by the first caller"
    second = response.json()
    assert second == json.loads(response.content) and second is not first
    assert response.json(parse_int=str)["created"] == str(json.loads(response.content)["created"])  # options apply
    for again in (pickle.loads(pickle.dumps(response)), pickle.loads(pickle.dumps(response, protocol=0)),
                  copy.deepcopy(response), copy.copy(response)):
        assert again.json() == json.loads(response.content)


@pytest.mark.parametrize("client_class", [SentinelClient, AsyncSentinelClient])
async def test_the_sdk_builds_its_answer_from_the_body_the_caller_got(chunked_server: str, client_class: type) -> None:
    client = client_class(openai_api_key="k", base_url=chunked_server, audit=False)
    raw = client.chat.completions.with_raw_response.create(model="gpt-4o", messages=user("hello"))
    raw = await raw if hasattr(raw, "__await__") else raw
    mine = raw.http_response.json()  # the caller reads it first and changes it: the SDK's parse is its own
    mine["choices"][0]["message"]["content"] = "changed"
    assert raw.parse().choices[0].message.content == "Mountains stand tall."
    closed = client.close()
    if closed is not None:
        await closed


@pytest.mark.parametrize("strategy", ["placeholder", "hash"])
def test_a_value_holding_a_lone_surrogate_is_anonymized_not_a_crash(strategy: str) -> None:
    """JSON may escape half a surrogate pair ("\\ud800"), which no UTF-8 encodes: the keyed digest behind a
    placeholder or a hash still takes it (it raised UnicodeEncodeError)."""
    from deepsentinel.detection.engine import default_engine
    from deepsentinel.policy.actions import Action
    from deepsentinel.policy.policy import CompliancePolicy
    from deepsentinel.wire.guard import WireGuard

    wire = WireGuard([CompliancePolicy(name="p", entity_actions={"EMAIL_ADDRESS": Action.ANONYMIZE},
                                       anonymization_strategy=strategy)], default_engine())  # type: ignore[arg-type]
    check = wire.check_request("/v1/chat/completions", b'{"model":"m","messages":[{"role":"user","content":"hi"}]}')
    body = b'{"choices":[{"index":0,"message":{"role":"assistant","content":"mail jane.canary@\\ud800corp-example.com"}}]}'
    sent, _ = wire.check_response(check, body)
    assert b"canary" not in sent


def test_a_verbose_transcripts_words_and_segments_go_once_its_text_was_rewritten() -> None:
    """Whisper's verbose answer spells its text again a word (and a segment) at a time: each piece alone is no
    value (a card's four groups), so once a value in the text is anonymized they go; a clean one keeps them."""
    from deepsentinel.detection.engine import default_engine
    from deepsentinel.policy.actions import Action
    from deepsentinel.policy.policy import CompliancePolicy
    from deepsentinel.wire.guard import WireGuard

    wire = WireGuard([CompliancePolicy(name="p", entity_actions={"CREDIT_CARD": Action.ANONYMIZE})], default_engine())
    check = wire.check_request("/v1/audio/transcriptions", b"--b\r\nContent-Disposition: form-data; name=\"model\""
                               b"\r\n\r\nwhisper-1\r\n--b--\r\n")

    def verbose(text: str, pieces: list[str]) -> bytes:
        return json.dumps({"task": "transcribe", "text": text, "words": [{"word": p} for p in " ".join(pieces).split()],
                           "segments": [{"id": n, "text": p} for n, p in enumerate(pieces)]}).encode()

    sent, _ = wire.check_response(check, verbose("my card is 4111 1111 1111 1111 thanks",
                                                 ["my card is 4111 1111", "1111 1111 thanks"]))
    answer = json.loads(sent)
    assert answer["text"] == "my card is <CREDIT_CARD_1> thanks" and answer["words"] == answer["segments"] == []
    clean = verbose("see you at noon", ["see you", "at noon"])
    assert wire.check_response(check, clean)[0] == clean
