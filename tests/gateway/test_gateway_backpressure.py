"""A slow client holds the upstream back: the gateway reads the provider only as the client reads, within a
bounded window, instead of buffering a long answer.

The upstream here is a plain socket server that counts the bytes the kernel accepted from it (``sendall``
blocks once every buffer between it and the reader is full). The client is a raw socket with a small receive
buffer that stops reading for a while. The kernel buffers of the upstream, of the client and of the gateway's
sockets to its clients are small (the gateway's accepted sockets inherit its listener's send buffer), so what
the upstream got out past what the client read is what the gateway holds: its relay window, its read buffer,
and the receive buffer of its socket to the upstream.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from deepsentinel.gateway import create_app
from deepsentinel.sentinel import Sentinel
from tests.gateway.conftest import CLIENT_KEY, UPSTREAM_KEY, RunningGateway

EVENTS = 6000
WORDS = ["river", "mountain", "cloud", "lantern", "orchard", "harbor", "meadow", "copper", "violet", "engine", "garden", "signal", "window"]
SMALL = 32 * 1024  # the socket buffers asked for
TOTAL = EVENTS * 2100  # about 12.6 MB of events
BOUND = 4_000_000  # what the gateway may hold, with room to spare; a third of TOTAL


class CountingUpstream:
    """An OpenAI-style upstream that streams ``EVENTS`` large chunks, counting the bytes it got out."""

    def __init__(self) -> None:
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SMALL)  # inherited by accepted sockets
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(4)
        self.port = int(self.listener.getsockname()[1])
        self.sent = 0
        self.finished = False
        self.cut = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        conn, _ = self.listener.accept()
        with conn:
            head = b""
            while b"\r\n\r\n" not in head:
                head += conn.recv(65536)
            length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length"))
            body = head.split(b"\r\n\r\n", 1)[1]
            while len(body) < length:
                body += conn.recv(65536)
            try:
                conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n")
                for i in range(EVENTS):
                    text = " ".join(WORDS[(i + j) % len(WORDS)] for j in range(300))[:2000]
                    chunk = {"id": "c1", "object": "chat.completion.chunk", "created": 0, "model": "gpt-4o-mini",
                             "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}]}
                    data = b"data: " + json.dumps(chunk).encode() + b"\n\n"
                    conn.sendall(data)
                    self.sent += len(data)
                conn.sendall(b"data: [DONE]\n\n")
                self.finished = True
            except OSError:
                self.cut = True  # the gateway closed the connection: the client left

    def settled(self, quiet: float = 1.0, limit: float = 60.0) -> int:
        """The count once it stopped moving for ``quiet`` seconds (fails if it never does within ``limit``)."""
        deadline = time.monotonic() + limit
        last, since = self.sent, time.monotonic()
        while time.monotonic() < deadline:
            time.sleep(0.1)
            if self.sent != last or self.finished:
                if self.finished:
                    return self.sent
                last, since = self.sent, time.monotonic()
            elif time.monotonic() - since >= quiet:
                return last
        pytest.fail(f"the upstream kept being read while the client was not reading ({self.sent} bytes)")

    def close(self) -> None:
        self.listener.close()


@pytest.fixture
def upstream() -> Iterator[CountingUpstream]:
    server = CountingUpstream()
    yield server
    server.close()


def _slow_client(gw: RunningGateway) -> socket.socket:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, SMALL)  # before connecting: the window stays small
    sock.connect(("127.0.0.1", gw.port))
    body = json.dumps({"model": "gpt-4o-mini", "stream": True, "messages": [{"role": "user", "content": "Go on"}]}).encode()
    sock.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nhost: gw\r\ncontent-type: application/json\r\n"
                 b"authorization: Bearer " + CLIENT_KEY.encode() + b"\r\ncontent-length: %d\r\n\r\n%s" % (len(body), body))
    return sock


def _read(sock: socket.socket, amount: int) -> int:
    got = 0
    while got < amount:
        data = sock.recv(min(65536, amount - got))
        if not data:
            break
        got += len(data)
    return got


def test_a_slow_client_holds_the_upstream_back(upstream: CountingUpstream) -> None:
    """The upstream gets out only a bounded amount more than the client read, and moves on when it reads."""
    env = {"OPENAI_BASE_URL": f"http://127.0.0.1:{upstream.port}/v1", "OPENAI_API_KEY": UPSTREAM_KEY,
           "DEEPSENTINEL_GATEWAY_KEYS": f"tests={CLIENT_KEY}", "DEEPSENTINEL_AUDIT": "false"}
    gw = RunningGateway(create_app(env, sentinel=Sentinel(environ=env)))
    gw.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SMALL)
    with gw:
        client = _slow_client(gw)
        try:
            read = _read(client, 200_000)
            first = upstream.settled()
            assert not upstream.finished
            held = first - read
            assert held < BOUND, f"the gateway let {held} bytes through past what the client read"
            read += _read(client, 2_000_000)  # the client catches up a little: the upstream moves on
            second = upstream.settled()
            assert second > first + 1_000_000
            assert not upstream.finished
            assert second - read < BOUND, f"after the client caught up, the gateway let {second - read} bytes past it"
        finally:
            client.close()
        upstream.thread.join(20)
    assert upstream.cut and not upstream.finished  # the client left: the upstream call was cancelled
