"""Streaming through the gateway at the byte level: raw curl -N, and a client that leaves cancels upstream."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path

import httpx2
import pytest

from deepsentinel.testing import FakeLLMServer, Reply
from tests.gateway.conftest import CLIENT_KEY, RunningGateway, StartGateway

BODY = {"model": "gpt-4o-mini", "stream": True, "messages": [{"role": "user", "content": "Count slowly"}]}


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_curl_streams_server_sent_events(gateway: RunningGateway, fake_server: FakeLLMServer) -> None:
    """curl -N gets the OpenAI event stream: chunks as data lines, then [DONE]."""
    fake_server.enqueue(Reply(chunks=["alpha", " beta", " gamma"]))
    out = subprocess.run(
        ["curl", "-sS", "-N", "--max-time", "20", gateway.url + "/v1/chat/completions",
         "-H", f"Authorization: Bearer {CLIENT_KEY}", "-H", "Content-Type: application/json", "-d", json.dumps(BODY)],
        capture_output=True, text=True, timeout=30, check=True,
    ).stdout
    data = [line[6:] for line in out.splitlines() if line.startswith("data: ")]
    assert data[-1] == "[DONE]"
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in map(json.loads, data[:-1]) if c["choices"])
    assert text == "alpha beta gamma"


def test_streams_arrive_as_they_are_produced(gateway: RunningGateway, fake_server: FakeLLMServer) -> None:
    """The first event reaches the client long before a slow stream ends (no buffering of the whole answer)."""
    fake_server.enqueue(Reply(chunks=[f"word{i} " for i in range(10)], delay_between=0.1))
    with httpx2.Client(timeout=20) as http, http.stream(
            "POST", gateway.url + "/v1/chat/completions", json=BODY,
            headers={"authorization": f"Bearer {CLIENT_KEY}"}) as response:
        started = time.monotonic()
        chunks = response.iter_raw()
        first = next(chunks)
        while b"data: " not in first:  # a keep-alive comment, if the held opening waited that long
            assert first.startswith(b": ")
            first = next(chunks)
        first_at = time.monotonic() - started
        rest = b"".join(chunks)
        total = time.monotonic() - started
    assert b"[DONE]" in rest
    assert first_at < total / 2


def test_client_disconnect_cancels_the_upstream_stream(gateway: RunningGateway, fake_server: FakeLLMServer) -> None:
    """A client that hangs up mid-stream makes the gateway drop its upstream connection too."""
    fake_server.enqueue(Reply(chunks=[f"piece{i} " for i in range(60)], delay_between=0.05))
    with httpx2.Client(timeout=20) as http, http.stream(
            "POST", gateway.url + "/v1/chat/completions", json=BODY,
            headers={"authorization": f"Bearer {CLIENT_KEY}"}) as response:
        next(response.iter_raw())
    deadline = time.monotonic() + 5
    while fake_server.streams_abandoned == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert fake_server.streams_abandoned == 1
    assert fake_server.streams_completed == 0


def test_client_disconnect_cancels_a_non_streamed_upstream_call(gateway: RunningGateway,
                                                                 fake_server: FakeLLMServer) -> None:
    """A client that hangs up while the provider is still working on a whole answer makes the gateway cancel its
    upstream request then, not when the answer arrives (a long completion can take a minute), and the call is
    still recorded, once."""
    fake_server.enqueue(Reply(text="a late answer", delay_before=5))
    started = time.monotonic()
    with httpx2.Client(timeout=0.5) as http, pytest.raises(httpx2.ReadTimeout):
        http.post(gateway.url + "/v1/chat/completions", json={**BODY, "stream": False},
                  headers={"authorization": f"Bearer {CLIENT_KEY}"})
    deadline = time.monotonic() + 4
    while fake_server.requests_abandoned == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert fake_server.requests_abandoned == 1
    assert time.monotonic() - started < 4  # the upstream would have answered after 5 s
    deadline = time.monotonic() + 2
    while gateway.app.sentinel.metrics.snapshot()["requests"]["total"] == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert gateway.app.sentinel.metrics.snapshot()["requests"]["total"] == 1


def test_performance_config_bounds_a_whole_stream(start_gateway: StartGateway, fake_server: FakeLLMServer,
                                                  tmp_path: Path) -> None:
    """The whole-call deadline (the longest PerformanceConfig timeout) cuts a trickling stream with an error event."""
    config = tmp_path / "deepsentinel.yaml"
    config.write_text("performance_config:\n  connection_timeout: 1\n  read_timeout: 1\n  write_timeout: 1\n"
                      "  pool_timeout: 1\n")
    gw = start_gateway(DEEPSENTINEL_CONFIG=str(config))
    fake_server.enqueue(Reply(chunks=[f"slow{i} " for i in range(40)], delay_between=0.1))
    started = time.monotonic()
    with httpx2.Client(timeout=20) as http:
        response = http.post(gw.url + "/v1/chat/completions", json=BODY, headers={"authorization": f"Bearer {CLIENT_KEY}"})
    elapsed = time.monotonic() - started
    assert elapsed < 3.5  # the upstream would take 4 s
    assert b"slow0" in response.content and b"[DONE]" not in response.content
    assert b'"type": "timeout"' in response.content


def test_an_overload_event_before_any_text_is_retried_by_the_gateway(gateway: RunningGateway,
                                                                     fake_server: FakeLLMServer) -> None:
    """The provider's own "try again" event before any text: the gateway reopens the stream, as it does for a
    529 before content; the client reads only the answer that came through."""
    fake_server.enqueue(Reply(text="lost", error_after=0), Reply(chunks=["alpha", " beta"]))
    with httpx2.Client(timeout=20) as http:
        response = http.post(gateway.url + "/v1/chat/completions", json=BODY,
                             headers={"authorization": f"Bearer {CLIENT_KEY}"})
    data = [line[6:] for line in response.text.splitlines() if line.startswith("data: ")]
    assert data[-1] == "[DONE]" and not any("error" in json.loads(d) for d in data[:-1])
    assert "".join(c["choices"][0]["delta"].get("content") or "" for c in map(json.loads, data[:-1])
                   if c["choices"]) == "alpha beta"
    assert fake_server.request_count() == 2
