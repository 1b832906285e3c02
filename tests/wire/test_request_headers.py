"""The transport reads a request's headers by lower-case name, whatever case and repetition the caller used."""

from __future__ import annotations

import httpx2
import openai

from deepsentinel import SentinelClient, protect
from deepsentinel.testing import FakeLLMServer
from deepsentinel.transport import _lowered


def test_headers_are_read_by_lower_case_name() -> None:
    headers = httpx2.Headers([("X-DeepSentinel-Provider", "anthropic"), ("Authorization", "Bearer sk-1"),
                              ("Content-Type", "application/json")])
    assert _lowered(headers) == {"x-deepsentinel-provider": "anthropic", "authorization": "Bearer sk-1",
                                 "content-type": "application/json"}


def test_a_header_sent_twice_keeps_both_values() -> None:
    """As ``Headers.items()`` gives them: joined, in order (a dict built pair by pair would keep the last)."""
    headers = httpx2.Headers([("X-Trace", "a"), ("x-trace", "b"), ("Accept", "*/*")])
    assert _lowered(headers) == {"x-trace": "a, b", "accept": "*/*"}


def test_bytes_outside_ascii_are_read_not_refused() -> None:
    headers = httpx2.Headers([(b"X-Note", "café".encode())])
    assert _lowered(headers) == {"x-note": "café".encode().decode("latin-1")}


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
