"""Review regressions: what a held opening must not change on the wire, all through loopback HTTP."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any, TypeVar

import httpx2

from deepsentinel import protect
from deepsentinel.config import PerformanceConfig, SentinelConfig
from deepsentinel.testing import FakeLLMServer, Reply
from tests.gateway.conftest import CLIENT_KEY, StartGateway
from tests.gateway.test_review_reopen import Scripted, _chat_answer, _chunk, scripted  # noqa: F401
from tests.raw_sse import RawSSEServer, sse

HI = [{"role": "user", "content": "hi"}]
BODY = json.dumps({"model": "gpt-4o", "messages": HI, "stream": True}).encode()
ROLE = _chunk({"role": "assistant", "content": ""})
T = TypeVar("T")


def _config(retries: int) -> SentinelConfig:
    return SentinelConfig(performance_config=PerformanceConfig(max_retries=retries, retry_backoff=0))


def _hello_through_protect(extra_headers: dict[str, Any], read: Callable[[httpx2.Response], T]) -> T:
    """A short chat stream from a raw SSE server, read by ``read`` through ``protect(httpx2.Client())``."""
    server = RawSSEServer([sse("", ROLE), sse("", _chunk({"content": "Hello"})),
                           sse("", _chunk({}, "stop")), sse("", "[DONE]")])
    client = protect(httpx2.Client(), openai_api_key="k", openai_base_url=server.url, audit=False, config=_config(1))
    try:
        with client.stream("POST", server.url + "/chat/completions", content=BODY,
                           headers={"content-type": "application/json", "authorization": "Bearer k",
                                    **extra_headers}) as response:
            return read(response)
    finally:
        client.close()
        server.close()


# 1. An odd x-stainless-retry-count (a digit int() refuses: "²", latin-1 byte 0xB2) is ignored, not a crash.
def test_odd_stainless_retry_count_does_not_crash_the_call() -> None:
    text = _hello_through_protect({"x-stainless-retry-count": b"\xb2"}, lambda response: response.read())
    assert b"Hello" in text


# 2. A raw httpx reader sees only the provider's lines: holding an opening adds nothing to the stream.
def test_raw_reader_sees_only_provider_lines() -> None:
    lines = _hello_through_protect({}, lambda response: [line for line in response.iter_lines() if line])
    assert all(line.startswith("data: ") for line in lines), lines


# 3. Gateway: a stream that breaks before anything was released, and whose reopen is refused (503), is answered
#    with an error status (502) the client's SDK retries, not HTTP 200 and an error event.
def test_gateway_unseen_break_given_up_is_a_status_not_a_200(start_gateway: StartGateway,  # noqa: F811
                                                             scripted: list[Scripted]) -> None:  # noqa: F811
    upstream = Scripted([("event", "", ROLE), ("sleep", 0.3), ("cut",)])
    scripted.append(upstream)

    # A second upstream answer: 503 (the Scripted server only answers 200, so add a tiny raw one behind it).
    import http.server

    class H(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            self.rfile.read(int(self.headers.get("content-length", 0)))
            if upstream.scripts:
                return
            body = b'{"error":{"message":"overloaded","type":"server_error"}}'
            self.send_response(503)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.send_header("x-should-retry", "false")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *a: Any) -> None:
            pass

    calls = {"n": 0}
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    # route: first request to the scripted server, later ones to the 503 server, via a tiny forwarding front.
    front_url = _front(upstream.base, f"http://127.0.0.1:{srv.server_address[1]}", calls)
    gateway = start_gateway(OPENAI_BASE_URL=front_url + "/v1", DEEPSENTINEL_MAX_RETRIES="1",
                            DEEPSENTINEL_RETRY_BACKOFF="0")
    try:
        with httpx2.Client(timeout=10) as c, c.stream(
                "POST", gateway.url + "/v1/chat/completions", content=BODY,
                headers={"content-type": "application/json", "authorization": f"Bearer {CLIENT_KEY}"}) as r:
            status, body = r.status_code, r.read()
    finally:
        srv.shutdown()
        srv.server_close()
    assert calls["n"] == 2, calls
    assert status == 502, (status, body)


def _front(first: str, rest: str, calls: dict[str, int]) -> str:
    """A loopback proxy: the first POST goes to ``first``, later ones to ``rest`` (streamed through)."""
    import http.server

    class P(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            calls["n"] += 1
            target = first if calls["n"] == 1 else rest
            try:
                with httpx2.Client(timeout=10) as c, c.stream("POST", target + self.path, content=body,
                                                              headers={"content-type": "application/json"}) as r:
                    self.send_response(r.status_code)
                    for k, v in r.headers.items():
                        if k.lower() not in ("transfer-encoding", "content-length", "connection"):
                            self.send_header(k, v)
                    self.send_header("transfer-encoding", "chunked")
                    self.send_header("connection", "close")
                    self.end_headers()
                    for part in r.iter_raw():
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
                        self.wfile.flush()
                    self.wfile.write(b"0\r\n\r\n")
            except httpx2.HTTPError:
                self.wfile.flush()
                self.connection.shutdown(2)

        def log_message(self, *a: Any) -> None:
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), P)
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{srv.server_address[1]}"


# 4. A block found before anything was released (the role chunk held with the opening) is an error response.

def test_gateway_block_before_anything_was_released_is_an_error_status(start_gateway: StartGateway,
                                                                       fake_server: FakeLLMServer) -> None:
    gateway = start_gateway()  # the default retry budget: the opening is held
    fake_server.enqueue(Reply(chunks=["4111 1111 1111 1111 is the card"]))
    with httpx2.Client(timeout=20) as http:
        response = http.post(gateway.url + "/v1/chat/completions",
                             json={"model": "gpt-4o", "stream": True, "messages": [{"role": "user", "content": "hi"}]},
                             headers={"authorization": f"Bearer {CLIENT_KEY}"})
    assert response.status_code == 400 and "4111" not in response.text
    assert response.json()["error"]["type"] == "compliance_violation"
