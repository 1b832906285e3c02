"""The transport reads a request's headers by lower-case name, whatever case and repetition the caller used, and
sends them on as the caller's bytes."""

from __future__ import annotations

from typing import Any

import httpx2
import openai
import pytest

from deepsentinel import ConfigurationError, SentinelClient, protect
from deepsentinel.testing import FakeLLMServer
from deepsentinel.wire.exchange import FALLBACKS_HEADER, PROVIDER_HEADER
from deepsentinel.wire.headers import CallerHeaders, SendHeaders


def test_headers_are_read_by_lower_case_name() -> None:
    headers = httpx2.Headers([("X-DeepSentinel-Provider", "anthropic"), ("Authorization", "Bearer sk-1"),
                              ("Content-Type", "application/json")])
    read = CallerHeaders(headers.raw)
    assert read.get("authorization") == "Bearer sk-1" and read.get("x-absent") is None
    assert dict(read) == {"x-deepsentinel-provider": "anthropic", "authorization": "Bearer sk-1",
                          "content-type": "application/json"}
    assert "sk-1" not in repr(read)


def test_a_header_sent_twice_keeps_both_values() -> None:
    """As ``Headers.items()`` gives them: joined, in order (a dict built pair by pair would keep the last)."""
    headers = httpx2.Headers([("X-Trace", "a"), ("x-trace", "b"), ("Accept", "*/*")])
    assert dict(CallerHeaders(headers.raw)) == {"x-trace": "a, b", "accept": "*/*"}
    assert CallerHeaders(headers.raw)["x-trace"] == "a, b"


def test_bytes_outside_ascii_are_read_not_refused() -> None:
    headers = httpx2.Headers([(b"X-Note", "café".encode())])
    assert dict(CallerHeaders(headers.raw)) == {"x-note": "café".encode().decode("latin-1")}


def test_headers_sent_on_leave_out_routing_and_length_and_ask_for_identity() -> None:
    caller = CallerHeaders([(b"Authorization", b"Bearer sk-1"), (PROVIDER_HEADER.encode(), b"openai"),
                            (FALLBACKS_HEADER.encode(), b"[]"), (b"Content-Length", b"12"), (b"Accept-Encoding", b"gzip")])
    sent = SendHeaders(caller, frozenset({PROVIDER_HEADER, FALLBACKS_HEADER, "content-length"}))
    assert dict(sent) == {"authorization": "Bearer sk-1", "accept-encoding": "identity"}
    assert dict(sent.without("authorization")) == {"accept-encoding": "identity"}
    assert "sk-1" not in repr(sent)


def test_a_routed_request_sends_the_callers_header_bytes(fake_server: FakeLLMServer) -> None:
    """A request sent on to a target is built again from its headers: bytes outside ASCII go out as they came
    (httpx would have refused them as text)."""
    note = "café ✓".encode()
    with protect(httpx2.Client(), audit=False, openai_api_key="k") as plain:
        plain.post(f"{fake_server.url}/v1/chat/completions", headers=[(b"X-Note", note), (PROVIDER_HEADER.encode(), b"openai")],
                   json={"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]})
    (request,) = fake_server.requests
    assert request.headers.get("x-note") == note.decode("latin-1")
    assert PROVIDER_HEADER not in request.headers


def test_every_answer_is_asked_for_uncompressed(fake_server: FakeLLMServer) -> None:
    """The guard reads each answer, so the provider is asked for identity encoding: by SentinelClient's own
    client, by a protected client, and over a request that asked for gzip itself."""
    base = f"{fake_server.url}/v1"
    ours = SentinelClient(api_key="k", base_url=base, audit=False)
    ours.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
    theirs = protect(openai.OpenAI(api_key="k", base_url=base), audit=False)
    theirs.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}],
                                   extra_headers={"Accept-Encoding": "gzip"})
    with protect(httpx2.Client(), audit=False) as plain:
        plain.post(f"{base}/chat/completions", headers={"accept-encoding": "br"},
                   json={"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]})
    seen = [r.headers.get("accept-encoding") for r in fake_server.requests]
    assert seen == ["identity"] * 3
    ours.close()
    theirs.close()


def test_a_client_without_an_openai_key_sends_no_placeholder_key(fake_server: FakeLLMServer, monkeypatch: Any) -> None:
    """An Anthropic-only SentinelClient talking to a keyless OpenAI-compatible server (a custom base URL)."""
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    client = SentinelClient(anthropic_api_key="k", base_url=fake_server.openai_base_url, audit=False)
    client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
    (request,) = fake_server.requests
    assert "authorization" not in request.headers
    client.close()


def test_no_placeholder_key_on_any_endpoint(fake_server: FakeLLMServer, monkeypatch: Any) -> None:
    """Not on chat alone: embeddings (a body) and the model list (a GET) reach a keyless server without the
    SDK's placeholder key too."""
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    client = SentinelClient(anthropic_api_key="k", base_url=fake_server.openai_base_url, audit=False)
    client.embeddings.create(model="text-embedding-3-small", input="quiet rivers")
    client.models.list()
    assert [r.path for r in fake_server.requests] == ["/v1/embeddings", "/v1/models"]
    assert all("authorization" not in r.headers for r in fake_server.requests)
    client.close()


@pytest.mark.parametrize("base_url", [None, "https://eu.api.openai.com/v1"], ids=["default", "regional"])
@pytest.mark.parametrize("call", ["chat", "embeddings", "models"])
def test_a_missing_key_is_named_before_anything_is_sent(monkeypatch: Any, call: str, base_url: str | None) -> None:
    """Against OpenAI itself (no base URL, or a regional host), a client built without an OpenAI key says which
    key is missing on every endpoint, instead of sending the SDK's placeholder (the provider would answer 401)."""
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    client = SentinelClient(anthropic_api_key="k", audit=False, max_retries=0, base_url=base_url)
    with pytest.raises(ConfigurationError, match="OPENAI_API_KEY"):
        if call == "chat":
            client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
        elif call == "embeddings":
            client.embeddings.create(model="text-embedding-3-small", input="quiet rivers")
        else:
            client.models.list()
    client.close()


def test_a_key_the_caller_gives_later_is_sent(fake_server: FakeLLMServer, monkeypatch: Any) -> None:
    """Only the SDK's placeholder is left out: a key given to a copy (``with_options``), in the default headers or
    by the http client's auth reaches the server, and a copy pointed at another server needs none."""
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    client = SentinelClient(anthropic_api_key="k", base_url=fake_server.openai_base_url, audit=False)
    client.with_options(api_key="sk-later").embeddings.create(model="text-embedding-3-small", input="quiet")
    client.with_options(api_key="sk-later").chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
    headed = SentinelClient(anthropic_api_key="k", base_url=fake_server.openai_base_url, audit=False,
                            default_headers={"Authorization": "Bearer via-default"})
    headed.models.list()
    authed = SentinelClient(anthropic_api_key="k", base_url=fake_server.openai_base_url, audit=False,
                            http_client=httpx2.Client(auth=("team", "proxy-secret")))
    authed.models.list()
    origin = SentinelClient(anthropic_api_key="k", audit=False)
    elsewhere = origin.with_options(base_url=fake_server.openai_base_url)
    elsewhere.models.list()
    elsewhere.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
    sent = [r.headers.get("authorization") for r in fake_server.requests]
    assert sent[:3] == ["Bearer sk-later", "Bearer sk-later", "Bearer via-default"]
    assert sent[3] is not None and sent[3].startswith("Basic ") and sent[4:] == [None, None]
    for c in (client, headed, authed, origin):
        c.close()
